import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {withLock} from '../../source/lab/build/cache-lock.js';
import {ensureQemu} from '../../source/lab/build/qemu-build.js';
import {ensureQemuSource} from '../../source/lab/build/qemu-source.js';
import {cacheRoot, devicesDir} from '../../source/lab/paths.js';
import {tempDir} from '../helpers/temp.js';

// devices/qemu-7.2-unity.patch makes QEMU's build write every trace group's files in one process
// (devices/qemu-trace-batch.py) and compile the generated trace and QAPI sources as a few unity
// files (devices/kernelcraft_unity.py). What it must never do: write other text than QEMU's own
// tracetool, drop or add a symbol, or make an edit of one trace-events file rebuild the others.

const python = (args: string[], cwd: string) => spawnSync('python3', args, {cwd, encoding: 'utf8'});

/** A scripts/ folder as the QEMU tree gets it: QEMU's tracetool package beside the two scripts. */
function scriptsFolder(root: string, qemuSource: string): string {
	const scripts = path.join(root, 'scripts');
	fs.cpSync(path.join(qemuSource, 'scripts', 'tracetool'), path.join(scripts, 'tracetool'), {recursive: true});
	fs.copyFileSync(path.join(devicesDir, 'qemu-trace-batch.py'), path.join(scripts, 'kernelcraft-trace-batch.py'));
	fs.copyFileSync(path.join(devicesDir, 'kernelcraft_unity.py'), path.join(scripts, 'kernelcraft_unity.py'));
	return scripts;
}

/** What QEMU's own scripts/tracetool.py writes for one group and format, at OUTPUT (relative to cwd). */
function tracetoolOutput(
	qemuSource: string,
	cwd: string,
	group: string,
	format: string,
	events: string,
	output: string,
) {
	const result = python(
		[
			path.join(qemuSource, 'scripts', 'tracetool.py'),
			'--backend=log',
			`--group=${group}`,
			`--format=${format}`,
			events,
			output,
		],
		cwd,
	);
	if (result.status !== 0) throw new Error(`tracetool.py ${group} ${format}: ${result.stderr}`);
	const text = fs.readFileSync(path.join(cwd, output), 'utf8');
	fs.rmSync(path.join(cwd, output));
	return text;
}

const mtime = (file: string) => fs.statSync(file).mtimeMs;

test.serial(
	"qemu-trace-batch.py writes tracetool's text, rewrites only a group whose events changed, and names a bad line",
	async t => {
		const source = await ensureQemuSource({cacheDir: cacheRoot()});
		const root = tempDir(t);
		const scripts = scriptsFolder(root, source.dir);
		fs.mkdirSync(path.join(root, 'a'));
		fs.mkdirSync(path.join(root, 'b'));
		fs.mkdirSync(path.join(root, 'out'));
		fs.writeFileSync(
			path.join(root, 'a', 'trace-events'),
			'# a comment\nkc_first(int n) "n %d"\nkc_second(const char *s, uint64_t v) "%s 0x%" PRIx64\n',
		);
		fs.writeFileSync(path.join(root, 'b', 'trace-events'), 'kc_third(void) ""\n');
		const groups = [
			{group: 'a', events: 'a/trace-events'},
			{group: 'b', events: 'b/trace-events'},
		];
		const batch = () =>
			python(
				[
					path.join(scripts, 'kernelcraft-trace-batch.py'),
					'--backends=log',
					'--groups=a,b',
					'--unity=2',
					'out',
					...groups.map(g => g.events),
				],
				root,
			);
		// tracetool writes into ref/ (out/ is the batch's), and its output path lands in #line lines.
		fs.mkdirSync(path.join(root, 'ref'));
		const expected = (group: string, format: string, events: string) =>
			tracetoolOutput(source.dir, root, group, format, events, `ref/trace-${group}.${format}`).replaceAll(
				`"ref/trace-${group}.`,
				`"out/trace-${group}.`,
			);
		const reference = Object.fromEntries(
			groups.flatMap(({group, events}) =>
				['h', 'c'].map(format => [`trace-${group}.${format}`, expected(group, format, events)]),
			),
		);
		const first = batch();
		t.is(first.status, 0, first.stderr);
		for (const [name, text] of Object.entries(reference)) {
			t.is(fs.readFileSync(path.join(root, 'out', name), 'utf8'), text, name);
		}
		// A unity file starts with osdep.h (the precompiled header applies only to a first include).
		t.is(
			fs
				.readFileSync(path.join(root, 'out', 'trace-unity-0.c'), 'utf8')
				.split('\n')
				.slice(1)
				.join('\n'),
			'#include "qemu/osdep.h"\n#include "trace-a.c"\n',
		);
		t.regex(fs.readFileSync(path.join(root, 'out', 'trace-unity-1.c'), 'utf8'), /#include "trace-b\.c"\n$/);

		// Everything an hour old; then one event more in b: only b's files are written again.
		const outputs = fs.readdirSync(path.join(root, 'out'));
		t.is(outputs.length, 6);
		const old = Date.now() / 1000 - 3600;
		for (const name of outputs) fs.utimesSync(path.join(root, 'out', name), old, old);
		const before = Object.fromEntries(outputs.map(name => [name, mtime(path.join(root, 'out', name))]));
		fs.appendFileSync(path.join(root, 'b', 'trace-events'), 'kc_fourth(int x) "x %d"\n');
		const second = batch();
		t.is(second.status, 0, second.stderr);
		const changed = outputs.filter(name => mtime(path.join(root, 'out', name)) !== before[name]).sort();
		t.deepEqual(changed, ['trace-b.c', 'trace-b.h']);
		t.is(fs.readFileSync(path.join(root, 'out', 'trace-b.h'), 'utf8'), expected('b', 'h', 'b/trace-events'));
		t.regex(fs.readFileSync(path.join(root, 'out', 'trace-b.h'), 'utf8'), /trace_kc_fourth/);

		// A line tracetool cannot read: its file and line, and a failed step.
		fs.appendFileSync(path.join(root, 'a', 'trace-events'), 'kc_broken(int x "unbalanced\n');
		const broken = batch();
		t.not(broken.status, 0);
		t.regex(broken.stderr, /Error at a\/trace-events:4: /);
		t.notRegex(broken.stderr, /Traceback/);
	},
);

test('kernelcraft_unity.py --rename-statics: two files with the same static names compile as one, each calling its own', t => {
	const root = tempDir(t);
	fs.mkdirSync(path.join(root, 'include', 'qemu'), {recursive: true});
	fs.writeFileSync(path.join(root, 'include', 'qemu', 'osdep.h'), '#include <stdio.h>\n');
	fs.mkdirSync(path.join(root, 'gen'));
	const module = (name: string, value: number) =>
		[
			'#include "qemu/osdep.h"',
			`static int helper(int x)`,
			`{`,
			`    return x + ${value};`,
			`}`,
			`static const int base = ${value * 10};`,
			`int ${name}_value(void) { return helper(base); }`,
			'',
		].join('\n');
	fs.writeFileSync(path.join(root, 'gen', 'mod-a.c'), module('a', 1));
	fs.writeFileSync(path.join(root, 'gen', 'mod-b.c'), module('b', 2));
	fs.writeFileSync(
		path.join(root, 'main.c'),
		'#include <stdio.h>\nint a_value(void);\nint b_value(void);\nint main(void) { printf("%d %d\\n", a_value(), b_value()); return 0; }\n',
	);
	const unity = (...options: string[]) => {
		const written = python(
			[path.join(devicesDir, 'kernelcraft_unity.py'), ...options, 'gen/unity.c', 'gen/mod-a.c', 'gen/mod-b.c'],
			root,
		);
		t.is(written.status, 0, written.stderr);
		return spawnSync('cc', ['-Iinclude', '-o', 'prog', 'gen/unity.c', 'main.c'], {cwd: root, encoding: 'utf8'});
	};
	// Merged as they are, the two helpers clash: the renaming is what makes the merge possible.
	const plain = unity();
	t.not(plain.status, 0);
	t.regex(plain.stderr, /redefinition of .helper./);
	const renamed = unity('--rename-statics');
	t.is(renamed.status, 0, renamed.stderr);
	t.regex(
		fs.readFileSync(path.join(root, 'gen', 'unity.c'), 'utf8'),
		/#define helper kc_unity_mod_a_helper\n#define base kc_unity_mod_a_base\n#include "mod-a.c"\n#undef helper\n#undef base\n/,
	);
	t.is(spawnSync(path.join(root, 'prog'), {encoding: 'utf8'}).stdout, '11 22\n');
});

interface CompileCommand {
	command: string;
	file: string;
	output: string;
}

/** The global symbols an object defines (nm), sorted. */
function definedSymbols(object: string): string[] {
	const result = spawnSync('nm', ['--defined-only', '--extern-only', '--format=posix', object], {encoding: 'utf8'});
	if (result.status !== 0) throw new Error(`nm ${object}: ${result.stderr}`);
	return result.stdout
		.split('\n')
		.filter(Boolean)
		.map(line => line.split(' ').slice(0, 2).join(' '))
		.sort();
}

// On kernelcraft's QEMU (built by ensureQemu, under the work tree's lock so no build changes it):
// every trace group's files are tracetool's text, the per-file objects are not built, and each
// unity object defines exactly the global symbols its files define when compiled one by one.
test.serial(
	"kernelcraft's QEMU: the batch wrote tracetool's text, and each unity object defines what its files do apart",
	async t => {
		const build = await ensureQemu({cacheDir: cacheRoot()});
		const workDir = path.dirname(build.logPath);
		const buildDir = path.join(workDir, 'build');
		const sourceDir = path.join(workDir, 'src');
		const scratch = tempDir(t);
		await withLock(
			`${workDir}.lock`,
			{what: 'comparing QEMU unity objects with their files compiled apart'},
			async () => {
				// The batch's own command line in build.ninja names every group and its events file.
				const ninja = fs.readFileSync(path.join(buildDir, 'build.ninja'), 'utf8');
				const batchLine = ninja.split('\n').find(line => line.includes('kernelcraft-trace-batch.py --backends='));
				t.truthy(batchLine, 'build.ninja runs the trace batch');
				const words = batchLine!.trim().split(/\s+/);
				const groups = words
					.find(word => word.startsWith('--groups='))!
					.slice('--groups='.length)
					.split(',');
				const eventFiles = words.slice(words.indexOf('trace') + 1);
				t.true(groups.length > 100, `${groups.length} trace groups`);
				t.is(eventFiles.length, groups.length);
				for (const [index, group] of groups.entries()) {
					for (const format of ['h', 'c']) {
						const built = fs.readFileSync(path.join(buildDir, 'trace', `trace-${group}.${format}`), 'utf8');
						const fresh = tracetoolOutput(
							sourceDir,
							buildDir,
							group,
							format,
							eventFiles[index]!,
							path.relative(buildDir, path.join(scratch, `trace-${group}.${format}`)),
						).replaceAll(`${path.relative(buildDir, scratch)}/`, 'trace/');
						t.is(built, fresh, `trace-${group}.${format}`);
					}
					t.false(
						fs.existsSync(path.join(buildDir, 'libqemuutil.a.p', `meson-generated_.._trace_trace-${group}.c.o`)),
						`trace-${group}.c is compiled only through a unity file`,
					);
				}

				const commands = JSON.parse(
					fs.readFileSync(path.join(buildDir, 'compile_commands.json'), 'utf8'),
				) as CompileCommand[];
				const unities = commands.filter(entry => /\/(trace-unity|qapi-unity)-[^/]*\.c$/.test(entry.file));
				t.is(unities.length, 8, unities.map(entry => entry.file).join(' '));
				const includedBy = new Map<string, string[]>();
				for (const unity of unities) {
					const unityFile = path.resolve(buildDir, unity.file);
					const included = fs
						.readFileSync(unityFile, 'utf8')
						.split('\n')
						.map(line => /^#include "([^"]+\.c)"$/.exec(line)?.[1])
						.filter((name): name is string => name !== undefined);
					t.true(included.length > 10, `${unity.file}: ${included.length} files`);
					const folder = path.dirname(unity.file);
					includedBy.set(folder, [...(includedBy.get(folder) ?? []), ...included]);
					const apart = included.flatMap((name, index) => {
						const object = path.join(scratch, `${path.basename(unity.file)}-${index}.o`);
						const command = unity.command
							.replace(/ -o \S+/, ` -o ${object}`)
							.replace(/ -MF \S+/, ` -MF ${object}.d`)
							.replace(/ -c \S+$/, ` -c ${path.join(path.dirname(unity.file), name)}`);
						const result = spawnSync('sh', ['-c', command], {cwd: buildDir, encoding: 'utf8'});
						t.is(result.status, 0, `${name}: ${result.stderr.slice(-2000)}`);
						return definedSymbols(object);
					});
					t.deepEqual(definedSymbols(path.join(buildDir, unity.output)), apart.sort(), unity.file);
				}
				// Every file the unity files stand for is in exactly one of them.
				t.deepEqual(includedBy.get('trace')!.sort(), groups.map(group => `trace-${group}.c`).sort());
				const qapiMerged = fs
					.readdirSync(path.join(buildDir, 'qapi'))
					.filter(name => /^qapi-(types|visit|events|commands)-.+\.c$/.test(name) && !name.endsWith('-target.c'));
				t.true(qapiMerged.length > 130, `${qapiMerged.length} QAPI files`);
				t.deepEqual(includedBy.get('qapi')!.sort(), qapiMerged.sort());
			},
		);
	},
);
