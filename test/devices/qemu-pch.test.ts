import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {withLock} from '../../source/lab/build/cache-lock.js';
import {ensureQemu} from '../../source/lab/build/qemu-build.js';
import {cacheRoot, devicesDir} from '../../source/lab/paths.js';
import {tempDir} from '../helpers/temp.js';

// devices/qemu-pch.py precompiles qemu/osdep.h for QEMU's build. What it must never do: change an
// object, or let a compile use a header made from older inputs. These tests hold it to that, with
// the real gcc: on a small tree laid out as QEMU's is, and on kernelcraft's own QEMU build.

const pchScript = path.join(devicesDir, 'qemu-pch.py');

interface Tree {
	src: string;
	build: string;
	/** Compile build/<name>.c's set ("common" or "target") into an object; returns gcc's -H lines. */
	compile: (file: string, set: 'common' | 'target', output: string) => {status: number | null; stderr: string};
	runPch: () => string;
}

/**
 * A tree shaped like QEMU's for what the script reads: SRC/include/qemu/osdep.h including a
 * generated header of the build dir, compile_commands.json with one compile of each set (meson's
 * argument order: -iquote . first), and a header that includes osdep.h again, as QEMU's do.
 */
function smallTree(root: string): Tree {
	const src = path.join(root, 'src');
	const build = path.join(root, 'work', 'build');
	fs.mkdirSync(path.join(src, 'include', 'qemu'), {recursive: true});
	fs.mkdirSync(build, {recursive: true});
	fs.writeFileSync(
		path.join(src, 'include', 'qemu', 'osdep.h'),
		'#ifndef OSDEP_H\n#define OSDEP_H\n#include "config-host.h"\n#include <stdio.h>\n#ifdef NEED_CPU_H\n#define KC_SET "target"\n#else\n#define KC_SET "common"\n#endif\n#endif\n',
	);
	fs.writeFileSync(path.join(src, 'include', 'qemu', 'wrapper.h'), '#include "qemu/osdep.h"\n');
	fs.writeFileSync(path.join(build, 'config-host.h'), '#define KC_VALUE 1\n');
	const main = 'int main(void) { printf("%s %d\\n", KC_SET, KC_VALUE); return 0; }\n';
	fs.writeFileSync(path.join(src, 'first.c'), `#include "qemu/osdep.h"\n${main}`);
	fs.writeFileSync(path.join(src, 'second.c'), `#include "qemu/osdep.h"\n#include "qemu/wrapper.h"\n${main}`);
	const flags = (set: 'common' | 'target') =>
		[
			`-iquote . -iquote ${src}/include -O2 -Wall -Winvalid-pch -fpch-deps -Wno-invalid-pch`,
			set === 'target' ? '-DNEED_CPU_H' : '',
		].join(' ');
	const command = (set: 'common' | 'target', file: string, output: string) =>
		`cc ${flags(set)} -MD -MQ ${output} -MF ${output}.d -o ${output} -c ${file}`;
	const entries = [
		{prefix: 'libqemuutil.a.p', set: 'common' as const},
		{prefix: 'libqemu-x86_64-softmmu.fa.p', set: 'target' as const},
	].map(({prefix, set}) => ({
		directory: build,
		command: command(set, '../../src/first.c', `${prefix}/first.c.o`),
		file: '../../src/first.c',
		output: `${prefix}/first.c.o`,
	}));
	fs.writeFileSync(path.join(build, 'compile_commands.json'), JSON.stringify(entries));
	return {
		src,
		build,
		compile: (file, set, output) => {
			const result = spawnSync('sh', ['-c', `${command(set, file, output)} -H`], {cwd: build, encoding: 'utf8'});
			return {status: result.status, stderr: result.stderr};
		},
		runPch: () => {
			const result = spawnSync('python3', [pchScript, build, src], {encoding: 'utf8'});
			if (result.status !== 0) throw new Error(`qemu-pch.py exited ${result.status}: ${result.stderr}`);
			return result.stdout;
		},
	};
}

/** The "!" line gcc -H prints for a precompiled header it used. */
const usedPch = (stderr: string) => stderr.split('\n').find(line => line.startsWith('! '));

const runProgram = (build: string, object: string) => {
	const linked = spawnSync('cc', ['-o', `${object}.bin`, object], {cwd: build, encoding: 'utf8'});
	if (linked.status !== 0) throw new Error(linked.stderr);
	return spawnSync(path.join(build, `${object}.bin`), {encoding: 'utf8'}).stdout.trim();
};

test('qemu-pch.py: one header per set, used by its own set only, and rebuilt when what it was made from changes', t => {
	const tree = smallTree(tempDir(t));
	const first = tree.runPch();
	t.regex(first, /precompiled qemu\/osdep.h \(common\): \.\.\/\.\.\/src\/first.c compiles with it/);
	t.regex(first, /precompiled qemu\/osdep.h \(target\): \.\.\/\.\.\/src\/first.c compiles with it/);
	t.deepEqual(fs.readdirSync(path.join(tree.build, 'qemu', 'osdep.h.gch')).sort(), ['common.gch', 'target.gch']);

	for (const set of ['common', 'target'] as const) {
		const compiled = tree.compile('../../src/first.c', set, `${set}.o`);
		t.is(compiled.status, 0, compiled.stderr);
		t.is(usedPch(compiled.stderr), `! ./qemu/osdep.h.gch/${set}.gch`);
		t.is(runProgram(tree.build, `${set}.o`), `${set} 1`);
	}
	// osdep.h included again by a later header (util/userfaultfd.c does this): gcc cannot load a
	// precompiled header twice, and opens the osdep.h beside it instead (the script's link to the
	// real one; without it, "./qemu/osdep.h: No such file or directory").
	const second = tree.compile('../../src/second.c', 'common', 'second.o');
	t.is(second.status, 0, second.stderr);
	t.is(usedPch(second.stderr), '! ./qemu/osdep.h.gch/common.gch');
	t.is(runProgram(tree.build, 'second.o'), 'common 1');

	t.regex(tree.runPch(), /\(common\) is up to date[\s\S]*\(target\) is up to date/);

	// A generated header osdep.h includes changes (a reconfigure): both headers are made again
	// before anything compiles against them.
	const configHost = path.join(tree.build, 'config-host.h');
	fs.writeFileSync(configHost, '#define KC_VALUE 2\n');
	const later = new Date(Date.now() + 2000);
	fs.utimesSync(configHost, later, later);
	t.regex(tree.runPch(), /\(common\): .* compiles with it[\s\S]*\(target\): .* compiles with it/);
	const recompiled = tree.compile('../../src/first.c', 'common', 'again.o');
	t.truthy(usedPch(recompiled.stderr));
	t.is(runProgram(tree.build, 'again.o'), 'common 2');
});

test('qemu-pch.py: a header that no longer compiles leaves no precompiled one behind', t => {
	const tree = smallTree(tempDir(t));
	tree.runPch();
	const osdep = path.join(tree.src, 'include', 'qemu', 'osdep.h');
	fs.appendFileSync(osdep, '#error the learner broke osdep.h\n');
	const later = new Date(Date.now() + 2000);
	fs.utimesSync(osdep, later, later);
	const output = tree.runPch();
	t.regex(output, /warning: qemu\/osdep.h \(common\) did not precompile/);
	t.deepEqual(fs.readdirSync(path.join(tree.build, 'qemu', 'osdep.h.gch')), []);
	// The compile now reads osdep.h itself, and says what is wrong with it.
	const compiled = tree.compile('../../src/first.c', 'common', 'broken.o');
	t.not(compiled.status, 0);
	t.regex(compiled.stderr, /the learner broke osdep.h/);
});

// kernelcraft's QEMU: a sample of its compiles, each run twice from the work tree's build dir:
// as ninja ran it, and with the build dir's quoted-include slot (-iquote .) replaced by a folder
// holding everything of the build dir but the precompiled headers. The objects must be the same
// bytes. Under the work tree's lock, so no build changes the tree meanwhile.
test.serial(
	"kernelcraft's QEMU compiles against the precompiled osdep.h, and its objects are byte for byte a plain compile's",
	async t => {
		const build = await ensureQemu({cacheDir: cacheRoot()});
		const workDir = path.dirname(build.logPath);
		const buildDir = path.join(workDir, 'build');
		const scratch = tempDir(t);
		const shadow = path.join(scratch, 'build-without-pch');
		fs.mkdirSync(shadow);
		for (const name of fs.readdirSync(buildDir)) {
			if (name !== 'qemu') fs.symlinkSync(path.join(buildDir, name), path.join(shadow, name));
		}
		await withLock(
			`${workDir}.lock`,
			{what: 'comparing QEMU objects with and without the precompiled osdep.h'},
			async () => {
				for (const set of ['common', 'target']) {
					t.true(fs.existsSync(path.join(buildDir, 'qemu', 'osdep.h.gch', `${set}.gch`)), `${set}.gch`);
				}
				const commands = JSON.parse(fs.readFileSync(path.join(buildDir, 'compile_commands.json'), 'utf8')) as Array<{
					command: string;
					file: string;
					output: string;
				}>;
				// A source in the build dir itself (x86_64-softmmu-gdbstub-xml.c) finds qemu/ beside it before
				// any -iquote: it has no compile without the header to compare with.
				const built = commands.filter(
					entry => fs.existsSync(path.join(buildDir, entry.output)) && path.dirname(entry.file) !== '.',
				);
				const common = built.filter(entry => !entry.output.startsWith('libqemu-x86_64-softmmu.fa.p/'));
				const target = built.filter(entry => entry.output.startsWith('libqemu-x86_64-softmmu.fa.p/'));
				// Every n-th: spread over the tree (util, hw, block, qapi, trace, the target).
				const every = <T>(list: T[], count: number) =>
					list.filter((_, index) => index % Math.max(1, Math.floor(list.length / count)) === 0).slice(0, count);
				const sample = [...every(common, 12), ...every(target, 6)];
				t.is(sample.length, 18);
				for (const [index, entry] of sample.entries()) {
					const set = entry.output.startsWith('libqemu-x86_64-softmmu.fa.p/') ? 'target' : 'common';
					t.true(entry.command.includes(' -iquote . '), entry.command);
					const compile = (iquote: string, output: string) => {
						const command = entry.command
							.replace(' -iquote . ', ` -iquote ${iquote} `)
							.replace(/ -MF \S+/, ` -MF ${output}.d`)
							.replace(/ -o \S+/, ` -o ${output}`);
						const result = spawnSync('sh', ['-c', `${command} -H`], {cwd: buildDir, encoding: 'utf8'});
						t.is(result.status, 0, `${entry.output}: ${result.stderr.slice(-2000)}`);
						return usedPch(result.stderr);
					};
					const withPch = path.join(scratch, `${index}-with.o`);
					const without = path.join(scratch, `${index}-without.o`);
					t.is(compile('.', withPch), `! ./qemu/osdep.h.gch/${set}.gch`, entry.output);
					t.is(compile(shadow, without), undefined, entry.output);
					t.true(fs.readFileSync(withPch).equals(fs.readFileSync(without)), `${entry.output}: objects differ`);
				}
			},
		);
	},
);
