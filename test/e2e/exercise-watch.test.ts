import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {projectRoot} from '../../source/lab/paths.js';
import {isAlive, waitUntil} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';
import {qemuChildrenOf, TuiPty} from '../bench/tui-pty.js';

// The learner's side of watch mode, in a real pty against a real VM: they save their copy of
// hello.c (here with fs.writeFile, as an editor in another window would) and the TUI rebuilds,
// reboots and re-checks on its own.

const reference = path.join(projectRoot, 'drivers/hello/hello.c');
const helloLine = /hello-module|first kernel module/i;

async function learnerTui(t: ExecutionContext, env: Record<string, string> = {}) {
	const dir = tempDir(t);
	const workspace = path.join(dir, 'ws');
	const app = new TuiPty({
		cols: 160,
		// Tall enough for the step log to hold all 8 steps with their details (it follows the newest).
		rows: 64,
		// kernelcraft types the guest commands: what is checked here is the code the learner saved.
		args: ['--demo'],
		env: {
			KERNELCRAFT_STATE: path.join(dir, 'progress.json'),
			KERNELCRAFT_WORKSPACE: workspace,
			KERNELCRAFT_BACKGROUND_BUILDS: '0',
			...env,
		},
	});
	t.teardown(() => app.dispose());
	const mark = () => app.milestoneLine(helloLine)?.charAt(1);
	await app.waitForScreen(() => mark() !== undefined, 20_000, 'the checklist with hello-module');
	// hello-module is the second milestone.
	app.write('j');
	await app.waitForScreen(() => app.milestoneLine(helloLine)?.charAt(0) === '›', 5000, 'hello-module selected');
	return {app, mark, dir, copy: path.join(workspace, 'hello', 'hello.c')};
}

/** Waits for a run to end with the given mark on hello-module's checklist line. */
async function waitForMark(app: TuiPty, mark: () => string | undefined, want: '✔' | '✗', what: string) {
	await app.waitForScreen(() => mark() === want, 240_000, what);
}

async function quitAndCheck(t: ExecutionContext, app: TuiPty) {
	const qemus = qemuChildrenOf(app.pid).map(q => q.pid);
	app.write('q');
	const exit = await app.waitForExit(20_000);
	t.is(exit?.exitCode, 0, 'the app quits on q, its watcher closed (it would keep nothing alive anyway)');
	t.true(await waitUntil(() => qemus.every(pid => !isAlive(pid)), 10_000), 'no QEMU left running');
}

test.serial('TUI watch mode: writing the fixed hello.c ticks hello-module without leaving the TUI', async t => {
	const {app, mark, copy} = await learnerTui(t);
	app.write('\r');
	await waitForMark(app, mark, '✗', 'the skeleton failing (✗)');
	// The skeleton's failure points at the TODO in the learner's copy.
	const todoLine =
		fs
			.readFileSync(copy, 'utf8')
			.split('\n')
			.findIndex(line => line.includes('TODO 1:')) + 1;
	// file:line first, then the TODO and the check that failed (the narrow pane cuts the rest).
	t.true(app.screen().includes(`${copy}:${todoLine}: TODO 1: modinfo lists no param`), app.screen());

	// The reference plus a .modinfo entry of this run's own: new code, so gcc really compiles it
	// (neither the module cache nor ccache has seen it).
	const saved = Date.now();
	await fs.promises.writeFile(copy, `${fs.readFileSync(reference, 'utf8')}MODULE_INFO(saved, "${saved}");\n`);
	await app.waitForScreen(() => mark() === '▸', 10_000, 'the save starting a run (▸)');
	await waitForMark(app, mark, '✔', 'hello-module ticked (✔) after the save');
	const ms = Date.now() - saved;
	t.log(`save to hello-module verified: ${(ms / 1000).toFixed(2)} s`);
	// The checklist ticks only when all 8 steps verified; these are the ones the fix changed.
	t.regex(app.screen(), /✔ Build the module .*\n.*hello\.ko built;/);
	t.regex(app.screen(), /modinfo: licence GPL, 2 parameters/);
	t.true(app.running, 'the TUI never left the screen');
	await quitAndCheck(t, app);
});

test.serial(
	'TUI watch mode: a compile error saved into the exercise shows as hello.c:LINE: in the step log',
	async t => {
		const {app, mark, copy} = await learnerTui(t);
		app.write('\r');
		await waitForMark(app, mark, '✗', 'the skeleton failing (✗)');
		// A missing semicolon on the line before hello_init's `return 0;`.
		const lines = fs.readFileSync(reference, 'utf8').split('\n');
		const broken = lines.findIndex(line => line.includes('pr_info("hello: Hello, %s!\\n", whom);'));
		lines[broken] = lines[broken]!.replace(/;$/, '');
		// Saved as vim saves: a new file renamed over the old one.
		await fs.promises.writeFile(`${copy}.new`, lines.join('\n'));
		await fs.promises.rename(`${copy}.new`, copy);
		const errorLine = new RegExp(`${copy.replace(/[.]/g, '\\.')}:\\d+: expected .;.`);
		await app.waitForScreen(errorLine, 120_000, `the compile error as ${copy}:LINE: in the step log`);
		const screen = app.screen();
		const line = Number(new RegExp(`hello\\.c:(\\d+): expected`).exec(screen)![1]);
		// gcc reports a missing semicolon at the next token: the first non-blank line after it.
		const next = lines.findIndex((text, index) => index > broken && text.trim() !== '') + 1;
		t.is(line, next, `gcc names line ${line}; the semicolon is missing on ${broken + 1}, the next token is on ${next}`);
		t.is(mark(), '✗');
		t.regex(screen, /✗ Build the module/, 'the module step is the one that failed');
		await quitAndCheck(t, app);
	},
);

test.serial('TUI: e opens $EDITOR at the first open TODO; saving the fix there ticks hello-module', async t => {
	const dir = tempDir(t);
	const record = path.join(dir, 'editor-args');
	fs.mkdirSync(path.join(dir, 'my tools'));
	const editor = path.join(dir, 'my tools', 'editor.sh');
	// An "editor" that notes its arguments and the line it was asked to open, then saves the fix.
	// $EDITOR is a shell command, as git takes it: a quoted path with a space, and an argument.
	fs.writeFileSync(
		editor,
		`#!/bin/sh\n{ printf '%s\\n' "$@"; sed -n "\${2#+}p" "$3"; } > '${record}'\ncp '${reference}' "$3"\n`,
		{mode: 0o755},
	);
	const {app, mark, copy} = await learnerTui(t, {EDITOR: `'${editor}' --wait`, VISUAL: ''});
	app.write('e');
	t.true(await waitUntil(() => fs.existsSync(record), 20_000), 'the editor ran');
	const [wait, line, file, text] = fs.readFileSync(record, 'utf8').split('\n');
	t.is(wait, '--wait');
	t.regex(line!, /^\+\d+$/);
	t.is(file, copy);
	t.regex(text!, /^ \* TODO 1: /, 'the line it opens at is TODO 1');
	// Back on the screen, the save made in the editor runs the milestone: no key needed.
	await waitForMark(app, mark, '✔', 'hello-module ticked (✔) after the editor saved the fix');
	await quitAndCheck(t, app);
});
