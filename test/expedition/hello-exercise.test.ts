import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {findRegions} from '../../source/lab/exercise/markers.js';
import {projectRoot} from '../../source/lab/paths.js';
import type {RunEvent} from '../../source/runner/events.js';
import {startCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/temp.js';

const reference = path.join(projectRoot, 'drivers/hello/hello.c');
const events = (lines: string[]) => lines.map(line => JSON.parse(line) as Record<string, unknown>);

/** A workspace of its own for the test, and the CLI run against it. */
function learner(t: Parameters<typeof tempDir>[0]) {
	const dir = tempDir(t);
	const env = {KERNELCRAFT_WORKSPACE: path.join(dir, 'ws'), KERNELCRAFT_STATE: path.join(dir, 'progress.json')};
	const cli = async (args: string[]) => {
		const run = startCli(args, env, t);
		const code = await run.waitForExit(300_000);
		return {code, lines: run.lines, stderr: run.stderr.join('')};
	};
	return {env, cli, copy: path.join(dir, 'ws', 'hello', 'hello.c')};
}

test.serial('the skeleton is the reference with each TODO region replaced by its TODO comment', async t => {
	const {cli, copy} = learner(t);
	const {code, lines} = await cli(['exercise', 'path', 'hello']);
	t.is(code, 0);
	t.is(lines[0], path.dirname(copy), '`exercise path hello` names the workspace folder');
	const skeleton = fs.readFileSync(copy, 'utf8').split('\n');
	const ref = fs.readFileSync(reference, 'utf8').split('\n');
	// Walk both files: outside the regions they are equal line for line; each region (markers
	// included) stands as one comment block whose first text line is "TODO n:".
	let at = 0;
	let previousEnd = 0;
	for (const region of findRegions(ref.join('\n'), 'hello')) {
		const before = ref.slice(previousEnd, region.begin - 1);
		t.deepEqual(skeleton.slice(at, at + before.length), before);
		at += before.length;
		t.is(skeleton[at], `${region.indent}/*`);
		t.regex(skeleton[at + 1]!, new RegExp(`^${region.indent} \\* TODO ${region.todo}: `));
		while (skeleton[at] !== `${region.indent} */`) at++;
		at++;
		previousEnd = region.end;
	}
	t.deepEqual(skeleton.slice(at), ref.slice(previousEnd));
	t.notRegex(
		skeleton.join('\n'),
		/exercise hello TODO|^module_exit\(|^module_param\(times|^static void __exit hello_exit/m,
		'no marker, no answer left',
	);
	t.is(
		fs.readFileSync(path.join(path.dirname(copy), 'Kbuild'), 'utf8'),
		fs.readFileSync(path.join(projectRoot, 'drivers/hello/Kbuild'), 'utf8'),
	);
});

test.serial('the skeleton as-is fails at modinfo, naming TODO 1 and its line in the workspace copy', async t => {
	const {cli, copy} = learner(t);
	const {code, lines, stderr} = await cli(['run', 'hello-module', '--json', '--exercise']);
	t.is(code, 1, stderr);
	const all = events(lines);
	const failed = all.find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
	t.is(failed.step, 'modinfo', 'the module builds and boots; the check of its parameters fails');
	const todoLine =
		fs
			.readFileSync(copy, 'utf8')
			.split('\n')
			.findIndex(line => line.includes('TODO 1:')) + 1;
	t.is(
		failed.failure.what,
		`${copy}:${todoLine}: TODO 1: modinfo lists no parameter times: hello.ko does not declare it with module_param().`,
	);
	t.regex(failed.failure.hint ?? '', /^TODO 1: declare `times` as a module parameter/);
});

test.serial(
	'the reference copied over the skeleton passes run hello-module --exercise (built from the workspace)',
	async t => {
		const {cli, copy} = learner(t);
		t.is((await cli(['exercise', 'path', 'hello'])).code, 0);
		fs.copyFileSync(reference, copy);
		const {code, lines, stderr} = await cli([
			'run',
			'hello-module',
			'--json',
			'--exercise',
			'--module-params',
			'times=3',
		]);
		const all = events(lines);
		t.is(
			code,
			0,
			all
				.filter(event => event.type === 'failed')
				.map(event => JSON.stringify(event))
				.join('\n') + stderr,
		);
		const summary = all.at(-1)!;
		t.true(summary.ok);
		const console = all.filter(event => event.type === 'console-line').map(event => String(event.line));
		t.is(console.filter(line => /\] hello: Hello, Ada!$/.test(line)).length, 3, 'greeted 3 times (times=3)');
		t.is(console.filter(line => /\] hello: Goodbye, Ada\.$/.test(line)).length, 1, 'and said goodbye on rmmod');
		// The learner's copy was built: an edit to it alone changes the module the next run builds.
		fs.appendFileSync(copy, 'MODULE_VERSION("learner");\n');
		const again = await cli(['run', 'hello-module', '--json', '--exercise']);
		t.is(again.code, 0, again.stderr);
		const modinfo = events(again.lines).filter(event => event.type === 'log' && event.step === 'modinfo');
		t.true(
			modinfo.some(event => /^version:\s+learner$/.test(String(event.line))),
			modinfo.map(e => e.line).join('\n'),
		);
	},
);

test.serial('exercise reset keeps the learner copy as hello.c.bak-<timestamp> and puts the skeleton back', async t => {
	const {cli, copy} = learner(t);
	t.is((await cli(['exercise', 'path', 'hello'])).code, 0);
	const skeleton = fs.readFileSync(copy, 'utf8');
	fs.writeFileSync(copy, '/* my work */\n');
	const {code, lines} = await cli(['exercise', 'reset', 'hello']);
	t.is(code, 0);
	const backups = fs.readdirSync(path.dirname(copy)).filter(name => /^hello\.c\.bak-\d{8}T\d{6}Z$/.test(name));
	t.is(backups.length, 1);
	t.is(fs.readFileSync(path.join(path.dirname(copy), backups[0]!), 'utf8'), '/* my work */\n');
	t.is(fs.readFileSync(copy, 'utf8'), skeleton);
	t.true(
		lines.some(line => line.includes(backups[0]!)),
		'the command says where the old copy went',
	);
});

test('exercise list names each exercise, its folder and its open TODOs, and makes no folder itself', async t => {
	const {cli, copy} = learner(t);
	const before = await cli(['exercise', 'list']);
	t.is(before.code, 0);
	t.regex(before.lines.join('\n'), /^hello\s+hello-module\s+hello\.c: /m);
	t.true(before.lines.some(line => line.includes(`${path.dirname(copy)}  not started`)));
	t.false(fs.existsSync(path.dirname(copy)));
	t.is((await cli(['exercise', 'path', 'hello'])).code, 0);
	const after = await cli(['exercise', 'list']);
	t.true(after.lines.some(line => line.includes(`${path.dirname(copy)}  open: TODO 1, TODO 2`)));
});

test('exercise with an unknown id or action is a usage error (exit 2)', async t => {
	const {cli} = learner(t);
	const unknown = await cli(['exercise', 'path', 'nope']);
	t.is(unknown.code, 2);
	t.regex(unknown.stderr, /There is no exercise "nope"\. Exercises: hello/);
	t.is((await cli(['exercise', 'frobnicate'])).code, 2);
	t.is((await cli(['run', 'hello-module', '--exercise', '--module-src', '/tmp'])).code, 2);
});
