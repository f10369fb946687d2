import test from 'ava';
import {
	bookkeepingProblems,
	evaluateTargets,
	nextSampleDelayMs,
	samplerCanCount,
	hostDelta,
	parseBenchLine,
	variantResult,
	variants,
	type VariantResult,
} from '../../../source/lab/tune/bench.js';
import {benchTable, latencyUnit, opsChart, renderReport} from '../../../source/lab/tune/report.js';
import type {QueueView} from '../../../source/runner/events.js';
import {explain} from '../../../source/expedition/tune.js';

const helloLine =
	'bench mode=batch target=/dev/virtio-hello0 ops=640 calls=10 bytes=0 secs=0.300138 ops_s=2132.4 mb_s=0.000 p50_us=259.39 p99_us=2802.28 max_us=9380.10 clock=tsc features=0x10130000001 event_idx=1 drv_kicks=10 drv_irqs=10 drv_completed=640 batch=64';

function queue(usedIdx: number, requests: number, kicks: number, interrupts: number): QueueView {
	return {
		index: 0,
		size: 256,
		availIdx: usedIdx,
		lastAvailIdx: usedIdx,
		usedIdx,
		signalledUsed: usedIdx,
		inFlight: 0,
		rates: {requests: 0},
		totals: {requests, kicks, interrupts},
		history: [],
	};
}

test("parseBenchLine reads the guest's bench line among other output", t => {
	const bench = parseBenchLine(`something else\n${helloLine}\n`)!;
	t.is(bench.mode, 'batch');
	t.is(bench.ops, 640);
	t.is(bench.calls, 10);
	t.is(bench.p99Us, 2802.28);
	t.is(bench.clock, 'tsc');
	t.true(bench.eventIdx);
	t.is(bench.driverKicks, 10);
	t.is(bench.driverCompleted, 640);
	t.is(bench.batch, 64);
	t.is(parseBenchLine('no bench here'), undefined);
	t.is(parseBenchLine('bench mode=x ops=oops'), undefined);
});

test('hostDelta: the device counter is exact, the used index agrees modulo 2^16 across a wrap', t => {
	const delta = hostDelta(queue(65500, 100, 7, 7), queue(65500 + 640 - 65536, 740, 17, 17), {
		before: 1000,
		after: 1640,
	});
	t.is(delta.requests, 640);
	t.is(delta.usedIdxDelta, 640);
	t.is(delta.kicks, 10);
	t.is(delta.interrupts, 10);
	t.is(delta.samplerRequests, 640);
});

test('bookkeeping: agreeing counts pass; each disagreement is named', t => {
	const batch = variants.find(v => v.id === 'batch')!;
	const guest = parseBenchLine(helloLine)!;
	const good = variantResult(batch, guest, {
		requests: 640,
		usedIdxDelta: 640,
		samplerRequests: 640,
		kicks: 10,
		interrupts: 10,
	});
	t.deepEqual(bookkeepingProblems(batch, good), []);
	t.is(good.kicksPerRequest, 10 / 640);
	const bad = variantResult(batch, guest, {
		requests: 641,
		usedIdxDelta: 3,
		samplerRequests: 600,
		kicks: 11,
		interrupts: 10,
	});
	const problems = bookkeepingProblems(batch, bad);
	t.true(problems.some(p => p.includes('guest counted 640')));
	t.true(problems.some(p => p.includes('used index moved 3')));
	t.true(problems.some(p => p.includes('sampler')));
	t.true(problems.some(p => p.includes('kicked 10 times')));
	// The sampler's total is checked at every request count: 100,000 requests at 2,132/s must match.
	const many = {...guest, ops: 100_000, driverCompleted: 100_000};
	t.deepEqual(
		bookkeepingProblems(
			batch,
			variantResult(batch, many, {
				requests: 100_000,
				usedIdxDelta: 100_000 % 65536,
				samplerRequests: 100_000,
				kicks: 10,
				interrupts: 10,
			}),
		),
		[],
	);
	t.true(
		bookkeepingProblems(
			batch,
			variantResult(batch, many, {
				requests: 100_000,
				usedIdxDelta: 100_000 % 65536,
				samplerRequests: 100_000 - 65536,
				kicks: 10,
				interrupts: 10,
			}),
		).some(p => p.includes('sampler')),
	);
	// A rate at which one panel interval could hold half the index space: the panel's total cannot
	// be checked (a long gap's wrap reads as a reset), so it is no disagreement; the device's count is.
	const fast = {...many, opsPerSec: 200_000};
	t.deepEqual(
		bookkeepingProblems(
			batch,
			variantResult(batch, fast, {
				requests: 100_000,
				usedIdxDelta: 100_000 % 65536,
				samplerRequests: 100_000 - 65536,
				kicks: 10,
				interrupts: 10,
			}),
		),
		[],
	);
	t.deepEqual(
		bookkeepingProblems(
			batch,
			variantResult(batch, fast, {
				requests: 100_000,
				usedIdxDelta: 100_000 % 65536,
				samplerRequests: 81_274,
				kicks: 10,
				interrupts: 10,
			}),
		),
		[],
	);
	t.true(
		bookkeepingProblems(
			batch,
			variantResult(
				batch,
				{...fast, ops: 99_999},
				{requests: 100_000, usedIdxDelta: 100_000 % 65536, samplerRequests: 81_274, kicks: 10, interrupts: 10},
			),
		).some(p => p.includes('guest counted 99999')),
	);
	t.true(samplerCanCount(60_000));
	t.false(samplerCanCount(70_000));
	// 650,000 batched requests/s: exact when the panel sampled at least every 20 ms during the run
	t.true(samplerCanCount(650_000, 20));
	t.deepEqual(
		bookkeepingProblems(
			batch,
			variantResult(batch, fast, {
				requests: 100_000,
				usedIdxDelta: 100_000 % 65536,
				samplerRequests: 100_000,
				samplerMaxGapMs: 20,
				kicks: 10,
				interrupts: 10,
			}),
		),
		[],
	);
	// the pace that keeps it so: a quarter of the bound between samples, never slower than the panel
	t.is(nextSampleDelayMs(0), 10);
	t.is(nextSampleDelayMs(1000), 250);
	t.true(Math.abs(nextSampleDelayMs(650_000) - 12.6) < 0.1);
});

function fake(id: string, opsPerSec: number, kicks: number, requests = 1000): VariantResult {
	const variant = variants.find(v => v.id === id)!;
	const guest = {...parseBenchLine(helloLine)!, opsPerSec};
	return variantResult(variant, guest, {
		requests,
		usedIdxDelta: requests,
		samplerRequests: requests,
		kicks,
		interrupts: kicks,
	});
}

test('targets are ratios within one run; missing variants are not met', t => {
	const targets = evaluateTargets([fake('naive', 100, 1000), fake('batch', 600, 16), fake('blk-null', 50, 1000)]);
	t.deepEqual(
		targets.map(x => [x.id, x.met]),
		[
			['batch-speedup', true],
			['batch-kicks', true],
			['hello-vs-blk', true],
		],
	);
	t.is(targets[0]!.value, 6);
	const missing = evaluateTargets([fake('naive', 100, 1000)]);
	t.true(missing.every(x => !x.met));
});

test('the report has a row and a bar per variant and the targets', t => {
	const results = [fake('naive', 100, 1000), fake('batch', 600, 16)];
	t.is(benchTable(results).length, 2 + results.length);
	const chart = opsChart(results, 20);
	t.true(chart[1]!.includes('█'.repeat(20)));
	t.true(chart[0]!.includes('███'));
	const text = renderReport({accel: 'tcg', secondsPerVariant: 2, results, targets: evaluateTargets(results)});
	t.regex(text, /not met/);
	t.regex(text, /TCG/);
	t.regex(text, /÷ the requests the device itself counted/);
});

test('latency says what one sample times: one request, or one call carrying a batch', t => {
	const [naive, batch] = [fake('naive', 100, 1000), fake('batch', 600, 16)];
	t.is(latencyUnit({...naive, guest: {...naive.guest, batch: undefined}}), 'per request');
	t.is(latencyUnit(batch), 'per 64-request call');
	const table = benchTable([{...naive, guest: {...naive.guest, batch: undefined}}, batch]);
	t.regex(table[0]!, /latency of/);
	t.regex(table[2]!, /1 request\b/);
	t.regex(table[3]!, /64 requests/);
});

test('the lesson states what was measured and claims no bound it did not measure', t => {
	const lines = explain([fake('naive', 100_000, 1000), fake('batch', 500_000, 16)]);
	const text = lines.join('\n');
	t.notRegex(text, /bounds?|at most/i);
	// 10 µs per request naive, 2 µs batched: 8 µs removed per request
	t.regex(text, /naive took 10\.00 µs and batched 2\.00 µs: batching removed 8\.00 µs per request/);
	t.regex(text, /not measured here/);
});

test('bookkeeping with a counted run: the timed run is checked without the trace, the counted one with it', t => {
	const batch = variants.find(v => v.id === 'batch')!;
	const counted = {
		guest: parseBenchLine(helloLine)!,
		host: {requests: 640, usedIdxDelta: 640, samplerRequests: 640, kicks: 10, interrupts: 10},
	};
	const timedGuest = {...parseBenchLine(helloLine)!, ops: 6400, driverCompleted: 6400, driverKicks: 100};
	const timedHost = {
		requests: 6400,
		usedIdxDelta: 6400,
		samplerRequests: 6400,
		kicks: Number.NaN,
		interrupts: Number.NaN,
	};
	const good = variantResult(batch, timedGuest, timedHost, counted);
	t.deepEqual(bookkeepingProblems(batch, good), []);
	t.is(good.kicksPerRequest, 10 / 640, 'kicks/req from the counted run');
	const bad = variantResult(
		batch,
		timedGuest,
		{...timedHost, requests: 6399},
		{
			...counted,
			host: {...counted.host, kicks: 11},
		},
	);
	const problems = bookkeepingProblems(batch, bad);
	t.true(problems.some(p => p.startsWith('the guest counted 6400')));
	t.true(problems.some(p => p.startsWith('counted run: the driver kicked 10 times')));
});
