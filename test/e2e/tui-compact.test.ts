import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {tempDir} from '../helpers/temp.js';
import {qemuChildOf, TuiPty} from '../bench/tui-pty.js';

// kernelcraft's own check framing: what kc_run types and prints (configs/rootfs/shrc).
const framing = /kc_run|<<kc|>>kc/;

// The built TUI in a real 80×24 pty (the default size of most terminals), running the boot
// milestone on the real kernel under TCG: the compact layout, every pane reachable, and the
// learner's console free of the checks kernelcraft runs.
test.serial('TUI at 80×24: compact layout, v reaches every pane, the console never shows check framing', async t => {
	const state = path.join(tempDir(t), 'progress.json');
	const app = new TuiPty({cols: 80, rows: 24, args: ['--demo'], env: {KERNELCRAFT_STATE: state}});
	t.teardown(() => app.dispose());

	const boot = /\bboot\b/i;
	const bootMark = () => app.milestoneLine(boot)?.charAt(1);
	await app.waitForScreen(() => app.milestoneLine(boot) !== undefined, 20_000, 'the checklist with the boot milestone');
	t.notRegex(app.screen(), /needs a terminal of at least/, 'not "too small"');
	t.regex(app.screen(), /\[console\] v switch/, 'the footer names the shown pane and the key');

	// Every frame while the milestone runs is looked at: none may show the framing.
	app.write('\r');
	const noFraming = () => {
		if (framing.test(app.screen())) throw new Error('The screen shows check framing');
	};
	await app.waitForScreen(
		() => {
			noFraming();
			if (bootMark() === '✗') throw new Error('The boot milestone failed (✗)');
			return bootMark() === '✔';
		},
		240_000,
		'the boot milestone ticked (✔)',
	);

	const qemu = qemuChildOf(app.pid);
	t.truthy(qemu, 'the VM stays up');
	// What the guest's console carried, byte for byte: the checks (uname -r among them) went
	// over the check channel instead.
	const consoleText = fs.readFileSync(path.join(qemu!.runDir, 'console.log'), 'utf8');
	t.notRegex(consoleText, framing, "nothing framed on the learner's console (ttyS0)");
	t.regex(fs.readFileSync(path.join(qemu!.runDir, 'checks.log'), 'utf8'), /<<kc \d+\n[^\n]*\n>>kc \d+ 0/);

	app.write('v');
	await app.waitForScreen(/virtqueues/, 5000, 'the ring panel');
	t.regex(app.screen(), /\[ring panel\] v switch/);
	t.truthy(app.milestoneLine(boot), 'the checklist stays beside it');
	app.write('v');
	await app.waitForScreen(/lesson —/, 5000, 'the lesson');
	t.regex(app.screen(), /steps — Boot a kernel you built/, 'and the steps');
	t.regex(app.screen(), /✔ Talk to the guest/, 'the last step is in view');

	// Tab brings the console back and gives it the keyboard.
	app.write('\t');
	await app.waitForScreen(/Ctrl-\] (back|leaves)/, 5000, 'the console focused');
	app.write('echo kc-$((6*7))');
	app.write('\r');
	await app.waitForScreen(/kc-42/, 30_000, "the guest's answer kc-42");
	noFraming();
	app.write('\x1d');
	await app.waitForScreen(/q quit/, 5000, 'the list focused again');
	app.write('q');
	const exit = await app.waitForExit(20_000);
	t.is(exit?.exitCode, 0);
});
