import path from 'node:path';
import test from 'ava';
import type {VariantResult} from '../../source/lab/tune/bench.js';
import {bookkeepingProblems, variants} from '../../source/lab/tune/bench.js';
import type {BenchReport} from '../../source/lab/tune/report.js';
import {startCli} from '../helpers/cli.js';
import {isAlive, waitUntil} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

// Real QEMU (built with virtio-hello), real kernel and driver: every variant, briefly. Only the
// bookkeeping is asserted (both sides count the same requests), never a timing. The oracle is
// bookkeepingProblems, the same every run's steps apply: every count (guest, driver, the device's
// 64-bit counter, the used index, the panel's total, the trace's kicks) agrees, at any request count.
test.serial("bench --json --short: each variant's requests are counted the same by the guest and the host", async t => {
	const run = startCli(['bench', '--json', '--short'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')}, t);
	// A cold cache builds QEMU and the kernel first.
	const code = await run.waitForExit(40 * 60_000);
	const last = JSON.parse(run.lines.at(-1) ?? '{}') as {
		ok: boolean;
		report?: BenchReport;
		steps?: {name: string; ok: boolean; detail: string}[];
	};
	t.is(code, 0, `${JSON.stringify(last.steps?.filter(s => !s.ok))} ${run.stderr.join('').slice(-2000)}`);
	t.true(last.ok);
	const results = last.report!.results as VariantResult[];
	t.deepEqual(
		results.map(r => r.id),
		variants.map(v => v.id),
	);
	for (const r of results) {
		t.deepEqual(
			bookkeepingProblems(
				variants.find(v => v.id === r.id)!,
				r,
			),
			[],
			r.id,
		);
		// Kicks are traced in the counted run only (the timed run writes no trace line per request).
		const counted = r.counted!;
		t.true(
			counted.host.kicks > 0 && counted.host.interrupts > 0,
			`${r.id}: kicks ${counted.host.kicks}, interrupts ${counted.host.interrupts}`,
		);
		t.is(r.host.kicks, null as unknown as number, `${r.id}: the timed run was not traced`);
		t.true(r.host.requests > 0);
	}
	// A batch of 64 is one kick, whatever the speed.
	const batch = results.find(r => r.id === 'batch')!;
	t.is(batch.counted!.host.kicks * 64, batch.counted!.host.requests);
	t.deepEqual(
		last.report!.targets.map(x => x.id),
		['batch-speedup', 'batch-kicks', 'hello-vs-blk'],
	);
});

test.serial('bench --json --short with both pipes closed exits, and its QEMU with it', async t => {
	const run = startCli(['bench', '--json', '--short'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')}, t);
	const events: string[] = [];
	// --json prints progress on stderr: wait for the VM, then close both pipes as a dead reader would.
	run.child.stderr!.on('data', (chunk: Buffer) => events.push(chunk.toString('utf8')));
	t.true(
		await waitUntil(() => /Boot it in QEMU|booted|vm/i.test(events.join('')), 20 * 60_000),
		'the bench got as far as its VM',
	);
	const qemu = await findQemuChild(run.child.pid!);
	run.child.stdout!.destroy();
	run.child.stderr!.destroy();
	const code = await run.waitForExit(30_000);
	t.true(code === 141 || code === 129, `exit ${code}`);
	if (qemu) t.true(await waitUntil(() => !isAlive(qemu), 5000), 'QEMU stopped with the app');
});

async function findQemuChild(parent: number): Promise<number | undefined> {
	const {qemuChildOf} = await import('../bench/tui-pty.js');
	let found: number | undefined;
	await waitUntil(() => (found = qemuChildOf(parent)?.pid) !== undefined, 60_000);
	return found;
}
