import path from 'node:path';
import test from 'ava';
import {processesMatching, isAlive, waitUntil} from '../helpers/processes.js';
import {startCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/temp.js';

// These boot the real kernel (built once into the shared cache) in real QEMU under TCG.
test.serial('run boot --json: builds, boots, verifies uname, and a second run rebuilds nothing', async t => {
	const state = path.join(tempDir(t), 'progress.json');
	for (const round of ['first', 'second']) {
		const run = startCli(['run', 'boot', '--json'], {KERNELCRAFT_STATE: state});
		const code = await run.exit;
		t.is(code, 0, `${round} run exits 0; stderr: ${run.stderr.join('')}; failure: ${run.lines.filter(line => line.includes('"failed"')).join('\n')}`);
		const events = run.lines.map(line => JSON.parse(line) as Record<string, unknown>);
		const summary = events.at(-1)!;
		t.is(summary.milestone, 'boot');
		t.true(summary.ok);
		t.is(summary.accel, 'tcg');
		t.deepEqual((summary.steps as {name: string; ok: boolean}[]).map(step => [step.name, step.ok]), [['kernel', true], ['rootfs', true], ['boot', true], ['uname', true]]);
		t.true(typeof summary.bootMs === 'number' && summary.bootMs > 0 && summary.bootMs < 60_000);
		const uname = (summary.steps as {name: string; detail: string}[]).find(step => step.name === 'uname')!;
		t.true(uname.detail.includes(String(summary.kernelRelease)));
		const started = events.find(event => event.type === 'vm-started')!;
		t.false(isAlive(started.pid as number), 'QEMU is gone once the run is over');
		t.deepEqual(processesMatching(started.runDir as string), []);
		t.true(events.some(event => event.type === 'console-line' && String(event.line).includes('Linux version')), 'the kernel\'s banner came through the console');
		if (round === 'second') t.false(summary.kernelRebuilt, 'nothing changed, so nothing was rebuilt');
	}
});

test.serial('SIGTERM to the app while the guest boots leaves no QEMU behind', async t => {
	const run = startCli(['run', 'boot', '--json'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')});
	const started = await run.waitForEvent('vm-started', 120_000);
	const pid = started.pid as number;
	t.true(isAlive(pid));
	run.child.kill('SIGTERM');
	t.is(await run.exit, 143);
	t.true(await waitUntil(() => !isAlive(pid), 5000), 'QEMU stopped with the app');
});

test.serial('even a SIGKILLed app leaves no QEMU behind: the pty hangs up on it', async t => {
	const run = startCli(['run', 'boot', '--json'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')});
	const started = await run.waitForEvent('vm-started', 120_000);
	const pid = started.pid as number;
	run.child.kill('SIGKILL');
	await run.exit;
	t.true(await waitUntil(() => !isAlive(pid), 10_000), 'QEMU exited on SIGHUP from its closed pty');
});
