import {spawn} from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import {isAlive, processesMatching, waitUntil} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';
import {cliPath, qemuChildOf, TuiPty} from '../bench/tui-pty.js';

// The built TUI in a real pty, read through a headless xterm: what a person at the keyboard sees.
// It boots the real kernel under TCG (built once into the shared cache; a cold cache builds it first).
test.serial('TUI: run boot, type into the guest console, leave it, quit; no QEMU is left behind', async t => {
	const state = path.join(tempDir(t), 'progress.json');
	const app = new TuiPty({cols: 120, rows: 36, args: ['--demo'], env: {KERNELCRAFT_STATE: state}});
	t.teardown(() => app.dispose());

	// The checklist names the milestone by id ("1. boot") or by title ("Boot a kernel you built").
	const boot = /\bboot\b/i;
	const bootMark = () => app.milestoneLine(boot)?.charAt(1);
	await app.waitForScreen(() => app.milestoneLine(boot) !== undefined, 20_000, 'the checklist with the boot milestone');
	t.is(app.milestoneLine(boot)!.charAt(0), '›', 'boot is the milestone selected first');
	t.regex(app.screen(), /Enter run/, 'the footer lists the keys');

	// The boot milestone is selected first: Enter runs it. The step log and the console fill up,
	// and the checklist ticks it once every step (kernel, rootfs, boot, uname) has verified.
	app.write('\r');
	await app.waitForScreen(() => bootMark() === '▸', 20_000, 'the boot milestone running (▸)');
	const started = Date.now();
	await app.waitForScreen(
		() => {
			if (bootMark() === '✗') throw new Error('The boot milestone failed (✗)');
			return bootMark() === '✔';
		},
		240_000,
		'the boot milestone ticked (✔)',
	);
	t.log(`boot verified after ${((Date.now() - started) / 1000).toFixed(1)} s`);

	const qemu = qemuChildOf(app.pid);
	t.truthy(qemu, 'the TUI keeps the VM running after the milestone');
	const {pid: qemuPid, runDir} = qemu!;

	// Tab gives the keyboard to the guest; the shell's arithmetic proves the keys got there and
	// the guest's answer came back to the screen (the typed line itself shows only "kc-$((6*7))").
	app.write('\t');
	await app.waitForScreen(/Ctrl-\] (back|leaves)/, 5000, 'the console focused');
	app.write('echo kc-$((6*7))');
	app.write('\r');
	await app.waitForScreen(/kc-42/, 30_000, "the guest's answer kc-42");

	// Ctrl-] gives the keyboard back to the app: q now quits instead of going to the guest.
	app.write('\x1d');
	await app.waitForScreen(/q quit/, 5000, 'the list focused again');
	app.write('q');
	const exit = await app.waitForExit(20_000);
	t.truthy(exit, 'the app exits on q');
	t.is(exit?.exitCode, 0);
	t.true(await waitUntil(() => !isAlive(qemuPid), 10_000), 'QEMU stopped with the app');
	t.deepEqual(processesMatching(runDir), [], `no process still uses the run dir ${runDir}`);
});

test('without a terminal on stdin the TUI refuses and points to `kernelcraft run`', async t => {
	const child = spawn(process.execPath, [cliPath], {
		env: {...process.env, CI: 'false', KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')},
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
	child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
	const code = await new Promise<number | null>(resolve => child.on('exit', resolve));
	t.not(code, 0);
	t.regex(output, /kernelcraft run/);
	t.regex(output, /not a TTY/);
});
