import path from 'node:path';
import test from 'ava';
import {isAlive, processesMatching, waitUntil} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';
import {qemuChildOf, TuiPty} from '../bench/tui-pty.js';

// The gdb pane in the built TUI, in a real pty: --debug boots the boot milestone on the debug
// kernel with the gdbstub, g attaches a real gdb, x stops the guest (the header says so), c lets
// it go, q detaches; quitting the app leaves no gdb and no QEMU.
test.serial(
	'TUI --debug: g attaches gdb beside the console; x pauses the guest, c resumes it, q detaches; nothing left',
	async t => {
		const state = path.join(tempDir(t), 'progress.json');
		const app = new TuiPty({cols: 120, rows: 36, args: ['--demo', '--debug'], env: {KERNELCRAFT_STATE: state}});
		t.teardown(() => app.dispose());
		const boot = /\bboot\b/i;
		await app.waitForScreen(() => app.milestoneLine(boot) !== undefined, 20_000, 'the checklist');
		app.write('\r');
		await app.waitForScreen(
			() => {
				if (app.milestoneLine(boot)?.charAt(1) === '✗') throw new Error('The boot milestone failed (✗)');
				return app.milestoneLine(boot)?.charAt(1) === '✔';
			},
			// From an empty cache this builds the gdb kernel flavour first: about 200 s alone on 2
			// cores, and CI runs other tests beside it, so 300 s was seen to run out.
			900_000,
			'the boot milestone ticked (✔)',
		);
		const qemu = qemuChildOf(app.pid);
		t.truthy(qemu);
		app.write('g');
		await app.waitForScreen(/gdb \(guest runs\)/, 180_000, 'gdb attached, the guest running');
		app.write('x');
		await app.waitForScreen(/guest paused by gdb/, 30_000, 'the header: guest paused by gdb');
		await app.waitForScreen(/gdb \(guest stopped\)/, 5000, 'the pane: guest stopped');
		app.write('t');
		await app.waitForScreen(/#\d+\s+0x[0-9a-f]+ in /, 30_000, 'the backtrace in the pane');
		app.write('c');
		await app.waitForScreen(() => !/guest paused by gdb/.test(app.screen()), 30_000, 'the guest resumed');
		const gdbs = processesMatching('set pagination off');
		t.true(gdbs.length > 0, 'a gdb runs');
		app.write('q');
		await app.waitForScreen(/q quit/, 30_000, 'detached: the list has the keys');
		t.true(await waitUntil(() => gdbs.every(pid => !isAlive(pid)), 20_000), 'gdb is gone after q');
		app.write('q');
		const exit = await app.waitForExit(30_000);
		t.is(exit?.exitCode, 0);
		t.true(await waitUntil(() => !isAlive(qemu!.pid), 10_000), 'QEMU stopped with the app');
	},
);
