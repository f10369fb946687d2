import path from 'node:path';
import test from 'ava';
import type {VariantResult} from '../../source/lab/tune/bench.js';
import {variants} from '../../source/lab/tune/bench.js';
import type {BenchReport} from '../../source/lab/tune/report.js';
import {startCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/temp.js';

// Real QEMU (built with virtio-hello), real kernel and driver: every variant, briefly. Only the
// bookkeeping is asserted (both sides count the same requests), never a timing.
test('bench --json --short: each variant\'s requests are counted the same by the guest and the host', async t => {
	const run = startCli(['bench', '--json', '--short'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')});
	const code = await run.exit;
	const last = JSON.parse(run.lines.at(-1) ?? '{}') as {ok: boolean; report?: BenchReport; steps?: {name: string; ok: boolean; detail: string}[]};
	t.is(code, 0, `${JSON.stringify(last.steps?.filter(s => !s.ok))} ${run.stderr.join('').slice(-2000)}`);
	t.true(last.ok);
	const results = last.report!.results;
	t.deepEqual(results.map(r => r.id), variants.map(v => v.id));
	for (const r of results as VariantResult[]) {
		t.true(r.guest.ops > 0, r.id);
		t.is(r.host.requests, r.guest.ops, `${r.id}: device count vs guest count`);
		t.is(r.host.usedIdxDelta, r.guest.ops % 65536, `${r.id}: used index vs guest count`);
		if (r.host.requests < 0x8000) t.is(r.host.samplerRequests, r.guest.ops, `${r.id}: sampler total vs guest count`);
		t.true(Number.isFinite(r.host.kicks) && r.host.kicks > 0, `${r.id}: kicks ${r.host.kicks}`);
		t.true(Number.isFinite(r.host.interrupts) && r.host.interrupts > 0, `${r.id}: interrupts ${r.host.interrupts}`);
		if (r.peer === 'virtio-hello') {
			t.is(r.guest.driverCompleted, r.guest.ops, `${r.id}: driver completions`);
			t.is(r.guest.driverKicks, r.host.kicks, `${r.id}: driver kicks vs trace kicks`);
		}
	}
	// A batch of 64 is one kick, whatever the speed.
	const batch = results.find(r => r.id === 'batch')!;
	t.is(batch.host.kicks * 64, batch.host.requests);
	t.deepEqual(last.report!.targets.map(x => x.id), ['batch-speedup', 'batch-kicks', 'hello-vs-blk']);
});
