import {spawn} from 'node:child_process';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {startCli, cliPath} from '../helpers/cli.js';
import {isAlive, waitUntil} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';
import {qemuChildrenOf, TuiPty} from '../bench/tui-pty.js';

// A closed terminal or a closed pipe ends the app, and the app's QEMU with it. Real processes
// throughout: the built TUI in a real pty, the headless CLI behind real pipes.

/** Every QEMU the app starts, seen by polling its children until the app is gone. */
function watchQemu(t: ExecutionContext, appPid: number): {pids: Set<number>; stop(): void} {
	const pids = new Set<number>();
	const poll = () => {
		for (const qemu of qemuChildrenOf(appPid)) pids.add(qemu.pid);
	};
	poll();
	const timer = setInterval(poll, 50);
	// Also when the test fails before it stops watching: a live interval keeps the worker from exiting.
	t.teardown(() => clearInterval(timer));
	return {pids, stop: () => clearInterval(timer)};
}

/** The milestone's checklist mark: › selected, ▸ running, ✔ verified, ✗ failed. */
const mark = (app: TuiPty, name: RegExp) => app.milestoneLine(name)?.charAt(1);

async function startTui(t: ExecutionContext, underShell = false): Promise<TuiPty> {
	const app = new TuiPty({
		cols: 120,
		rows: 40,
		args: ['--demo'],
		underShell,
		env: {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')},
	});
	t.teardown(() => app.dispose());
	await app.waitForScreen(() => app.milestoneLine(/\bboot\b/i) !== undefined, 20_000, 'the checklist');
	// The ring view on before anything runs, as a learner who pressed i first.
	app.write('i');
	// The panel's title, not the footer's key list (which always says it): proof that the key was
	// read, so the screen is taking keys before the test types Enter.
	await app.waitForScreen(/virtqueues \(inside the ring\)/, 10_000, 'the ring view switched on');
	return app;
}

async function assertGoneAfterHangup(
	t: ExecutionContext,
	app: TuiPty,
	qemu: {pids: Set<number>; stop(): void},
	moment: string,
): Promise<void> {
	const hungUpAt = Date.now();
	app.hangUp();
	const exit = await app.waitForExit(5000);
	qemu.stop();
	t.truthy(exit, `${moment}: the app still runs 5 s after its terminal closed`);
	// 6 and 11: an abort or a crash on the way out (Node asserts when it cannot restore a dead terminal's modes).
	t.false(exit?.signal === 6 || exit?.signal === 11, `${moment}: the app crashed on exit: ${JSON.stringify(exit)}`);
	const left = [...qemu.pids].filter(pid => isAlive(pid));
	const gone = await waitUntil(
		() => [...qemu.pids].every(pid => !isAlive(pid)),
		Math.max(0, 5000 - (Date.now() - hungUpAt)),
	);
	t.true(gone, `${moment}: QEMU ${left.join(', ')} still runs 5 s after the terminal closed`);
	t.log(
		`${moment}: app gone after ${Date.now() - hungUpAt} ms (exit ${JSON.stringify(exit)}), QEMU seen: ${[...qemu.pids].join(', ') || 'none'}`,
	);
}

test.serial('a closed terminal ends the TUI and its QEMU: while the milestone starts (build, boot)', async t => {
	const app = await startTui(t);
	const qemu = watchQemu(t, app.pid);
	app.write('\r');
	await app.waitForScreen(() => mark(app, /\bboot\b/i) === '▸', 20_000, 'the boot milestone running');
	await assertGoneAfterHangup(t, app, qemu, 'during build/boot');
});

test.serial('a closed terminal ends the TUI and its QEMU: virtio-blk running with the ring view on', async t => {
	const app = await startTui(t);
	const blk = /virtio-blk|block device/i;
	// ↓ to virtio-blk, then Enter.
	for (
		let i = 0;
		i < 5 &&
		app
			.checklist()
			.find(line => line.startsWith('›'))
			?.match(blk) === null;
		i++
	) {
		app.write('\x1b[B');
		await app.flush();
		await new Promise(resolve => setTimeout(resolve, 150));
	}
	t.regex(app.checklist().find(line => line.startsWith('›')) ?? '', blk, 'virtio-blk selected');
	const qemu = watchQemu(t, app.pid);
	app.write('\r');
	await app.waitForScreen(
		() => {
			if (mark(app, blk) === '✗') throw new Error('virtio-blk failed');
			return qemu.pids.size > 0 && mark(app, blk) === '▸';
		},
		240_000,
		'virtio-blk running with its VM up',
	);
	// Let the panel sample the rings a few times with the guest busy.
	await new Promise(resolve => setTimeout(resolve, 2000));
	await assertGoneAfterHangup(t, app, qemu, 'virtio-blk mid-run');
});

test.serial('a closed terminal ends the TUI and its QEMU: at the guest prompt after the milestone', async t => {
	const app = await startTui(t);
	const qemu = watchQemu(t, app.pid);
	app.write('\r');
	await app.waitForScreen(
		() => {
			if (mark(app, /\bboot\b/i) === '✗') throw new Error('boot failed');
			return mark(app, /\bboot\b/i) === '✔';
		},
		240_000,
		'the boot milestone verified',
	);
	t.true(qemu.pids.size > 0, 'the VM stays up at the prompt');
	await assertGoneAfterHangup(t, app, qemu, 'at the prompt');
});

test.serial(
	'a closed terminal ends the TUI even when a shell gets the SIGHUP instead: the dead terminal is noticed',
	async t => {
		const app = await startTui(t, true);
		const appPid = app.appPid()!;
		t.truthy(appPid);
		const qemu = watchQemu(t, appPid);
		app.write('\r');
		await app.waitForScreen(
			() => {
				if (mark(app, /\bboot\b/i) === '✗') throw new Error('boot failed');
				return mark(app, /\bboot\b/i) === '✔';
			},
			240_000,
			'the boot milestone verified',
		);
		t.true(qemu.pids.size > 0, 'the VM stays up at the prompt');
		const hungUpAt = Date.now();
		app.hangUp();
		t.true(await waitUntil(() => !isAlive(appPid), 5000), 'the app still runs 5 s after its terminal closed');
		qemu.stop();
		t.true(
			await waitUntil(() => [...qemu.pids].every(pid => !isAlive(pid)), Math.max(0, 5000 - (Date.now() - hungUpAt))),
			'its QEMU still runs',
		);
	},
);

test.serial('`run boot --json | head -1` ends quietly: no stack trace, nothing left running', async t => {
	const stderr: string[] = [];
	const shell = spawn('sh', ['-c', `"${process.execPath}" "${cliPath}" run boot --json | head -1`], {
		env: {...process.env, KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')},
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	t.teardown(() => {
		try {
			process.kill(-shell.pid!, 'SIGKILL');
		} catch {}
	});
	let stdout = '';
	shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
	shell.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
	const code = await Promise.race([
		new Promise<number | null>(resolve => shell.on('exit', resolve)),
		new Promise<string>(resolve => setTimeout(() => resolve('timeout'), 60_000)),
	]);
	t.not(code, 'timeout', 'the pipeline ended');
	t.is(stdout.split('\n').filter(Boolean).length, 1);
	t.is(JSON.parse(stdout).type, 'milestone-started');
	t.is(stderr.join(''), '', 'nothing on stderr');
});

test.serial('a headless run whose reader goes away mid-boot stops its QEMU and exits quietly', async t => {
	const run = startCli(['run', 'boot', '--json'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')}, t);
	const started = await run.waitForEvent('vm-started', 120_000);
	const pid = started.pid as number;
	t.true(isAlive(pid));
	// The reader goes away (as `| head -N` does once it has its lines): the pipe's read end closes.
	run.child.stdout!.destroy();
	const code = await run.waitForExit(10_000);
	t.is(code, 141, 'exits as a process killed by SIGPIPE would');
	t.true(await waitUntil(() => !isAlive(pid), 5000), 'QEMU stopped with the app');
	t.notRegex(run.stderr.join(''), /unexpected error|EPIPE|\n\s+at /, 'no stack trace');
});

test.serial('with both pipes closed a headless run exits, and SIGTERM always ends it', async t => {
	const run = startCli(['run', 'boot', '--json'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')}, t);
	const started = await run.waitForEvent('vm-started', 120_000);
	const pid = started.pid as number;
	run.child.stdout!.destroy();
	run.child.stderr!.destroy();
	// Whichever comes first ends it: the next write's EPIPE, or the SIGTERM 2 s from now.
	setTimeout(() => run.child.kill('SIGTERM'), 2000).unref();
	const code = await run.waitForExit(10_000);
	t.true(code === 141 || code === 143, `exit ${code}`);
	t.true(await waitUntil(() => !isAlive(pid), 5000), 'QEMU stopped with the app');
});
