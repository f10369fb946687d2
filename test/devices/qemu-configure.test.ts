import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {withLock} from '../../source/lab/build/cache-lock.js';
import {ensureQemu} from '../../source/lab/build/qemu-build.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {tempDir} from '../helpers/temp.js';

// devices/qemu-build.sh compiles QEMU with -pipe and -ftrack-macro-expansion=0 and configures it with
// devices/qemu-7.2-configure.patch. Both claim to change what the build costs, not what it makes:
// checked here on kernelcraft's own QEMU (ensureQemu), under its work tree's lock.

interface CompileCommand {
	directory: string;
	command: string;
	file: string;
	output: string;
}

const fastFlags = ['-pipe', '-ftrack-macro-expansion=0'];

test.serial("kernelcraft's QEMU: -pipe and -ftrack-macro-expansion=0 make the same object bytes", async t => {
	const build = await ensureQemu({cacheDir: cacheRoot()});
	const workDir = path.dirname(build.logPath);
	const buildDir = path.join(workDir, 'build');
	const scratch = tempDir(t);
	await withLock(`${workDir}.lock`, {what: 'compiling QEMU files with and without two flags'}, async () => {
		const commands = JSON.parse(
			fs.readFileSync(path.join(buildDir, 'compile_commands.json'), 'utf8'),
		) as CompileCommand[];
		// What ninja built for qemu-system-x86_64 (compile_commands.json also lists the tools).
		const built = commands.filter(entry => fs.existsSync(path.join(buildDir, entry.output)));
		t.true(built.length > 500, `${built.length} objects built`);
		for (const entry of built) {
			const words = entry.command.split(' ');
			for (const flag of fastFlags) t.true(words.includes(flag), `${entry.output} is compiled with ${flag}`);
		}
		// One object in every 40, spread over every library of the build, each compiled twice.
		const sample = built.filter((_, index) => index % 40 === 0);
		t.true(new Set(sample.map(entry => entry.output.split('/')[0])).size >= 5, 'the sample spans the libraries');
		for (const [index, entry] of sample.entries()) {
			const compile = (flags: 'with' | 'without') => {
				const object = path.join(scratch, `${index}-${flags}.o`);
				let command = entry.command.replace(/ -o \S+/, ` -o ${object}`).replace(/ -MF \S+/, ` -MF ${object}.d`);
				if (flags === 'without') for (const flag of fastFlags) command = command.replace(` ${flag}`, '');
				const result = spawnSync('sh', ['-c', command], {cwd: buildDir, encoding: 'utf8'});
				t.is(result.status, 0, `${entry.file} ${flags} the flags: ${result.stderr.slice(-2000)}`);
				return fs.readFileSync(object);
			};
			const withFlags = compile('with');
			const withoutFlags = compile('without');
			t.true(withFlags.length > 0, entry.output);
			t.true(withFlags.equals(withoutFlags), `${entry.output}: the same bytes with and without ${fastFlags.join(' ')}`);
		}
	});
});

test.serial("kernelcraft's QEMU: configure asked no CMake, and qemu-bundle links what meson would install", async t => {
	const build = await ensureQemu({cacheDir: cacheRoot()});
	const workDir = path.dirname(build.logPath);
	const buildDir = path.join(workDir, 'build');
	await withLock(`${workDir}.lock`, {what: "reading QEMU's configure results"}, async () => {
		const mesonLog = fs.readFileSync(path.join(buildDir, 'meson-logs', 'meson-log.txt'), 'utf8');
		t.regex(mesonLog, /Run-time dependency gvnc-1\.0 found: NO \(tried pkgconfig\)/);
		// Meson looks for CMake only when a dependency lookup reaches it: with cmake installed (as
		// here), the log would say "Found CMake" had the patch not been applied.
		const cmake = spawnSync('sh', ['-c', 'command -v cmake'], {encoding: 'utf8'}).stdout.trim();
		t.log(cmake ? `cmake on this machine: ${cmake}` : 'no cmake on this machine');
		t.notRegex(mesonLog, /Found CMake|CMake binary for/);

		// scripts/symlink-install-tree.py now reads meson-info/intro-installed.json itself: every
		// file meson would install has its link under qemu-bundle/, to the file itself.
		const installed = JSON.parse(
			fs.readFileSync(path.join(buildDir, 'meson-info', 'intro-installed.json'), 'utf8'),
		) as Record<string, string>;
		const entries = Object.entries(installed);
		t.true(
			entries.some(([, dest]) => dest.endsWith('/trace-events-all')),
			'trace-events-all is among the installed files',
		);
		for (const [source, dest] of entries) {
			const link = path.join(buildDir, 'qemu-bundle', dest);
			t.is(fs.readlinkSync(link), source, link);
		}
		// (trace-events-all is not built: ninja's target is qemu-system-x86_64 alone.)
		const binary = entries.find(([source]) => source.endsWith('/qemu-system-x86_64'));
		t.truthy(binary, 'the binary is among the installed files');
		t.true(fs.existsSync(path.join(buildDir, 'qemu-bundle', binary![1])), 'its link resolves');
	});
});
