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
		t.is(
			code,
			0,
			`${round} run exits 0; stderr: ${run.stderr.join('')}; failure: ${run.lines.filter(line => line.includes('"failed"')).join('\n')}`,
		);
		const events = run.lines.map(line => JSON.parse(line) as Record<string, unknown>);
		const summary = events.at(-1)!;
		t.is(summary.milestone, 'boot');
		t.true(summary.ok);
		// TCG here, KVM where it really works: either way the choice and its reason are stated.
		const accel = events.find(event => event.type === 'accel') as {choice: {accel: string; reason: string}} | undefined;
		t.true(summary.accel === 'tcg' || summary.accel === 'kvm', String(summary.accel));
		t.is(accel?.choice.accel, summary.accel as string);
		t.regex(accel?.choice.reason ?? '', /\w{3,}/, "the accelerator's reason is said");
		t.deepEqual(
			(summary.steps as {name: string; ok: boolean}[]).map(step => [step.name, step.ok]),
			[
				['kernel', true],
				['rootfs', true],
				['boot', true],
				['uname', true],
			],
		);
		// The boot time reported is the one the boot step measured and showed (how fast is the bench's business).
		const boot = (summary.steps as {name: string; detail: string}[]).find(step => step.name === 'boot')!;
		t.true(typeof summary.bootMs === 'number' && summary.bootMs > 0);
		t.true(
			boot.detail.includes(`${((summary.bootMs as number) / 1000).toFixed(2)} s`),
			`${boot.detail} vs ${String(summary.bootMs)} ms`,
		);
		// Where that time went (QEMU start → first console byte → "Run /init" → prompt): the phases
		// exist, are in order (none negative) and add up to the total. Their sizes are the bench's business.
		const phases = summary.bootPhases as
			{firmwareMs: number; kernelMs: number; userspaceMs: number; totalMs: number} | undefined;
		t.truthy(phases, 'the boot step split its time into phases');
		t.true(phases!.firmwareMs >= 0 && phases!.kernelMs >= 0 && phases!.userspaceMs >= 0, JSON.stringify(phases));
		t.is(phases!.firmwareMs + phases!.kernelMs + phases!.userspaceMs, phases!.totalMs);
		t.is(phases!.totalMs, summary.bootMs as number);
		t.regex(boot.detail, /firmware \d+\.\d\d s \+ kernel \d+\.\d\d s \+ userspace \d+\.\d\d s/);
		const uname = (summary.steps as {name: string; detail: string}[]).find(step => step.name === 'uname')!;
		t.true(uname.detail.includes(String(summary.kernelRelease)));
		const started = events.find(event => event.type === 'vm-started')!;
		t.false(isAlive(started.pid as number), 'QEMU is gone once the run is over');
		t.deepEqual(processesMatching(started.runDir as string), []);
		t.true(
			events.some(event => event.type === 'console-line' && String(event.line).includes('Linux version')),
			"the kernel's banner came through the console",
		);
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
