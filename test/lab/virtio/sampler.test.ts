import test from 'ava';
import type {DeviceView} from '../../../source/runner/events.js';
import {QmpClient, QmpClosedError, QmpError, type QmpLike} from '../../../source/lab/vm/qmp.js';
import type {VirtioQueueElement, VirtioStatus, VirtQueueStatus} from '../../../source/lab/vm/qmp-types.js';
import {VirtioSampler, queueStep, type QueueTraceSource} from '../../../source/lab/virtio/sampler.js';
import {decodeFeatures, decodeStatus} from '../../../source/lab/virtio/decoders.js';
import {parseXp, ringElementView, safeRingPosition, walkChain} from '../../../source/lab/virtio/ring-walk.js';
import {startQemu} from '../../helpers/qemu.js';

// ---------- pure parts ----------

test('queueStep: rate from used-idx deltas, across the 16-bit wrap', t => {
	const ring = '0x29d9000';
	t.deepEqual(queueStep(undefined, {usedIdx: 65530, ringAddr: ring, at: 0}), {requests: 0, rate: 0, reset: false});
	t.deepEqual(queueStep({usedIdx: 65530, ringAddr: ring, at: 0}, {usedIdx: 4, ringAddr: ring, at: 250}), {
		requests: 10,
		rate: 40,
		reset: false,
	});
	t.deepEqual(queueStep({usedIdx: 100, ringAddr: ring, at: 1000}, {usedIdx: 100, ringAddr: ring, at: 1250}), {
		requests: 0,
		rate: 0,
		reset: false,
	});
	// same timestamp: no division by zero
	t.is(queueStep({usedIdx: 1, ringAddr: ring, at: 5}, {usedIdx: 3, ringAddr: ring, at: 5}).rate, 0);
});

test('queueStep: a reset or a re-created ring restarts the count instead of reading as 65000 requests', t => {
	// index went back: reset in place, 2 requests since
	t.deepEqual(queueStep({usedIdx: 53, ringAddr: '0x1000', at: 0}, {usedIdx: 2, ringAddr: '0x1000', at: 500}), {
		requests: 2,
		rate: 4,
		reset: true,
	});
	// ring torn down (driver unloaded)
	t.deepEqual(queueStep({usedIdx: 53, ringAddr: '0x1000', at: 0}, {usedIdx: 0, ringAddr: '0x0', at: 250}), {
		requests: 0,
		rate: 0,
		reset: true,
	});
	// ring re-created elsewhere and used 60 times already
	t.deepEqual(queueStep({usedIdx: 53, ringAddr: '0x1000', at: 0}, {usedIdx: 60, ringAddr: '0x8000', at: 1000}), {
		requests: 60,
		rate: 60,
		reset: true,
	});
});

test('decodeStatus and decodeFeatures turn QEMU 7.2 strings into bare names', t => {
	const status: VirtioStatus['status'] = {
		statuses: [
			'VIRTIO_CONFIG_S_ACKNOWLEDGE: Valid virtio device found',
			'VIRTIO_CONFIG_S_DRIVER: Guest OS compatible with device',
			'VIRTIO_CONFIG_S_FEATURES_OK: Feature negotiation complete',
			'VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready',
		],
	};
	t.deepEqual(decodeStatus(status), ['ACKNOWLEDGE', 'DRIVER', 'FEATURES_OK', 'DRIVER_OK']);
	t.deepEqual(decodeStatus({statuses: []}), []);
	t.deepEqual(decodeStatus(15), ['ACKNOWLEDGE', 'DRIVER', 'FEATURES_OK', 'DRIVER_OK']);
	t.deepEqual(
		decodeFeatures({
			'unknown-dev-features': 1099511627776,
			'dev-features': [
				'VIRTIO_BLK_F_FLUSH: Flush command supported',
				'VIRTIO_BLK_F_SEG_MAX: Max segments in a request is seg_max',
			],
			transports: [
				'VIRTIO_RING_F_EVENT_IDX: Used & avail. event fields enabled',
				'VIRTIO_F_VERSION_1: Device compliant for v1 spec (legacy)',
			],
		}),
		[
			'VIRTIO_RING_F_EVENT_IDX',
			'VIRTIO_F_VERSION_1',
			'VIRTIO_BLK_F_FLUSH',
			'VIRTIO_BLK_F_SEG_MAX',
			'VIRTIO_F_RING_RESET',
		],
	);
	// every standard bit QEMU 7.2 may leave unnamed, and what is left over stays unknown
	t.deepEqual(
		decodeFeatures({
			transports: ['VIRTIO_F_VERSION_1: Device compliant for v1 spec (legacy)'],
			'dev-features': [],
			'unknown-dev-features': 2 ** 35 + 2 ** 32 + 2 ** 41,
		}),
		['VIRTIO_F_VERSION_1', 'VIRTIO_F_IN_ORDER', 'UNKNOWN(0x20000000000)'],
	);
	t.deepEqual(decodeFeatures({transports: [], 'dev-features': []}), []);
});

const queueStatus = (over: Partial<VirtQueueStatus> = {}): VirtQueueStatus => ({
	name: 'virtio-blk',
	'queue-index': 0,
	inuse: 0,
	'vring-num': 256,
	'vring-num-default': 256,
	'vring-align': 4096,
	'vring-desc': 43884544,
	'vring-avail': 43888640,
	'vring-used': 43889216,
	'last-avail-idx': 53,
	'shadow-avail-idx': 53,
	'used-idx': 53,
	'signalled-used': 53,
	'signalled-used-valid': true,
	...over,
});

test('ringElementView puts the chain head first and says whether the entry is pending', t => {
	// the answer QEMU 7.2 gave for a virtio-blk read (tail listed first)
	const element: VirtioQueueElement = {
		index: 0,
		name: 'virtio-blk',
		descs: [
			{flags: ['write'], len: 1, addr: 7146805113118295480n},
			{flags: ['write', 'next'], len: 4096, addr: 213843968},
			{flags: ['next'], len: 16, addr: 45895440},
		],
		avail: {idx: 53, flags: 0, ring: 0},
		used: {idx: 53, flags: 0},
	};
	const idle = ringElementView('/p', 0, undefined, queueStatus(), element);
	t.deepEqual(
		idle.descriptors.map(d => [d.len, d.flags.join('|'), d.addr]),
		[
			[16, 'next', '0x2bc4f10'],
			[4096, 'write|next', '0xcbf0000'],
			[1, 'write', '0x632e8d628e5c85b8'], // sic: QEMU 7.2's answer, not a RAM address
		],
	);
	t.is(idle.position, 53);
	t.false(idle.pending);
	const busy = ringElementView(
		'/p',
		0,
		undefined,
		queueStatus({'last-avail-idx': 65535, 'shadow-avail-idx': 1}),
		element,
	);
	t.true(busy.pending);
	t.false(ringElementView('/p', 0, 1, queueStatus({'last-avail-idx': 65535, 'shadow-avail-idx': 1}), element).pending);
	t.true(ringElementView('/p', 0, 0, queueStatus({'last-avail-idx': 65535, 'shadow-avail-idx': 1}), element).pending);
});

test('safeRingPosition: only a chain published and not yet taken, the newest one, never a used one', t => {
	// idle: every chain in the ring is done, none is safe to walk
	t.is(safeRingPosition(queueStatus({'last-avail-idx': 93, 'shadow-avail-idx': 93, 'used-idx': 93})), undefined);
	// popped, in flight or done out of order: still none
	t.is(safeRingPosition(queueStatus({'last-avail-idx': 93, 'shadow-avail-idx': 93, 'used-idx': 90})), undefined);
	// three published, not taken: the newest
	t.is(safeRingPosition(queueStatus({'last-avail-idx': 93, 'shadow-avail-idx': 96, 'used-idx': 90})), 95);
	// across the 16-bit wrap
	t.is(safeRingPosition(queueStatus({'last-avail-idx': 65535, 'shadow-avail-idx': 1})), 0);
	// no ring yet, or indices that cannot be (more pending than the ring holds)
	t.is(safeRingPosition(queueStatus({'vring-desc': 0, 'last-avail-idx': 0, 'shadow-avail-idx': 1})), undefined);
	t.is(safeRingPosition(queueStatus({'vring-num': 256, 'last-avail-idx': 0, 'shadow-avail-idx': 300})), undefined);
});

test('parseXp reads the values of an HMP xp answer', t => {
	t.deepEqual(parseXp('0000000000001000: 0x0000000000002000 0x0003000100000010\r\n'), [0x2000n, 0x0003000100000010n]);
	t.deepEqual(parseXp('0000000000001008: 0x0001 0x00ff 0x0000\r\n'), [1n, 0xffn, 0n]);
	t.deepEqual(parseXp('Cannot access memory\r\n'), []);
});

test('walkChain follows a chain in guest memory, head first, and refuses what no chain can be', async t => {
	const desc = (addr: number, len: number, flags: number, next: number): [bigint, bigint] => [
		BigInt(addr),
		BigInt(len) | (BigInt(flags) << 32n) | (BigInt(next) << 48n),
	];
	const memory = new Map<bigint, [bigint, bigint]>();
	const read = async (_format: string, addr: bigint) => memory.get(addr);
	// a virtio-blk read: header (device reads), data and status (device writes)
	memory.set(0x1000n, desc(0x2000, 16, 1, 2));
	memory.set(0x1020n, desc(0x3000, 4096, 3, 3));
	memory.set(0x1030n, desc(0x4000, 1, 2, 0));
	t.deepEqual(await walkChain(0, 4, 0x1000n, read), [
		{addr: '0x2000', len: 16, flags: ['next']},
		{addr: '0x3000', len: 4096, flags: ['next', 'write']},
		{addr: '0x4000', len: 1, flags: ['write']},
	]);
	// a loop, an index outside the table, memory that may not be read: no chain
	memory.set(0x1030n, desc(0x4000, 1, 3, 0));
	t.is(await walkChain(0, 4, 0x1000n, read), undefined);
	memory.set(0x1030n, desc(0x4000, 1, 3, 9));
	t.is(await walkChain(0, 4, 0x1000n, read), undefined);
	t.is(await walkChain(1, 4, 0x1000n, read), undefined);
	// an indirect descriptor: its table is walked too
	memory.set(0x1010n, desc(0x5000, 32, 4, 0));
	memory.set(0x5000n, desc(0x6000, 16, 1, 1));
	memory.set(0x5010n, desc(0x7000, 1, 2, 0));
	t.deepEqual(await walkChain(1, 4, 0x1000n, read), [
		{addr: '0x5000', len: 32, flags: ['indirect']},
		{addr: '0x6000', len: 16, flags: ['next']},
		{addr: '0x7000', len: 1, flags: ['write']},
	]);
});

// ---------- sampler with a scripted QMP ----------

class ScriptedQmp implements QmpLike {
	used = 0;
	ringAddr = 4096;
	delayMs = 0;
	concurrent = 0;
	maxConcurrent = 0;
	closed = false;
	queries = 0;
	/** Chains in the ring: [last-avail-idx, shadow-avail-idx) as QEMU would report them. */
	lastAvail = 53;
	shadowAvail = 53;
	elementQueries: number[] = [];
	async execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
		this.queries++;
		this.concurrent++;
		this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
		try {
			if (this.delayMs) await new Promise(resolve => setTimeout(resolve, this.delayMs));
			if (this.closed)
				throw new QmpClosedError(
					`QEMU closed the QMP connection while waiting for '${command}' (last event: none)`,
					command,
					undefined,
					false,
				);
			switch (command) {
				case 'x-query-virtio':
					return [{name: 'virtio-blk', path: '/machine/peripheral-anon/device[0]/virtio-backend'}] as T;
				case 'x-query-virtio-status':
					return {
						name: 'virtio-blk',
						'num-vqs': 1,
						status: {statuses: []},
						'guest-features': {transports: []},
					} as unknown as T;
				case 'x-query-virtio-queue-status':
					t_assert(args?.queue === 0);
					return queueStatus({
						'used-idx': this.used & 0xffff,
						'vring-desc': this.ringAddr,
						'last-avail-idx': this.lastAvail,
						'shadow-avail-idx': this.shadowAvail,
					}) as T;
				case 'x-query-virtio-queue-element':
					this.elementQueries.push(args?.index as number);
					return {
						index: 7,
						name: 'virtio-blk',
						descs: [
							{flags: ['next'], len: 16, addr: 4096},
							{flags: ['write'], len: 1, addr: 8192},
						],
					} as T;
				default:
					throw new QmpError(command, 'CommandNotFound', `The command ${command} has not been found`);
			}
		} finally {
			this.concurrent--;
		}
	}
}

function t_assert(condition: boolean): void {
	if (!condition) throw new Error('unexpected arguments');
}

test('sampler totals and history follow the used index across a wrap, with a bounded history', async t => {
	const qmp = new ScriptedQmp();
	let now = 0;
	const sampler = new VirtioSampler(qmp, {now: () => now, historyLength: 3});
	qmp.used = 65500;
	let devices = await sampler.sample();
	t.is(devices[0]!.queues[0]!.totals.requests, 0);
	const steps = [36 + 36, 100, 0, 250]; // 65500 -> 36 (wrap) ...
	const expectedRates = [72 * 4, 100 * 4, 0, 250 * 4];
	let total = 0;
	for (const [i, step] of steps.entries()) {
		qmp.used += step;
		now += 250;
		devices = await sampler.sample();
		total += step;
		const q = devices[0]!.queues[0]!;
		t.is(q.rates.requests, expectedRates[i]);
		t.is(q.totals.requests, total);
		t.is(q.usedIdx, qmp.used & 0xffff);
	}
	t.deepEqual(devices[0]!.queues[0]!.history, [400, 0, 1000]);
	t.is(devices[0]!.queues[0]!.rates.kicks, undefined); // no trace given
	t.is(sampler.samples, 5);
});

/** Polls until the condition holds; rejects past the deadline, naming what it waited for. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
		await new Promise(resolve => setTimeout(resolve, 5));
	}
}

test('sampler never overlaps samples: ticks that come while QEMU has not answered are skipped', async t => {
	// QEMU answers only when the test says so: whatever the machine's speed, ticks pile up meanwhile.
	const qmp = new ScriptedQmp();
	let release: () => void = () => undefined;
	let gate = new Promise<void>(resolve => (release = resolve));
	const execute = qmp.execute.bind(qmp);
	qmp.execute = async <T>(command: string, args?: Record<string, unknown>) => {
		await gate;
		return execute<T>(command, args);
	};
	const sampler = new VirtioSampler(qmp, {intervalMs: 10});
	const seen: number[] = [];
	sampler.onSample((_devices, at) => seen.push(at));
	sampler.start();
	await until(() => sampler.skippedTicks >= 3, 'three ticks skipped while the first sample waits');
	t.is(seen.length, 0, 'the first sample is still waiting');
	gate = Promise.resolve();
	release();
	await until(() => seen.length >= 2, 'two samples once QEMU answers');
	await sampler.stop();
	// one device with one queue: a sample asks one query at a time, so 2 would mean overlapping samples
	t.true(qmp.maxConcurrent <= 1, `max concurrent queries ${qmp.maxConcurrent}`);
	t.false(sampler.running);
	const count = seen.length;
	const queries = qmp.queries;
	await new Promise(resolve => setTimeout(resolve, 50));
	t.is(seen.length, count, 'no sample after stop()');
	t.is(qmp.queries, queries, 'no query after stop()');
});

test('sampleFresh never returns a sample that started before the call', async t => {
	const qmp = new ScriptedQmp();
	let release: () => void = () => undefined;
	const gate = new Promise<void>(resolve => (release = resolve));
	const execute = qmp.execute.bind(qmp);
	qmp.execute = async <T>(command: string, args?: Record<string, unknown>) => {
		await gate;
		return execute<T>(command, args);
	};
	const sampler = new VirtioSampler(qmp);
	qmp.used = 10;
	const old = sampler.sample(); // in flight, reads used 10 once released
	const fresh = sampler.sampleFresh();
	qmp.used = 12; // what the caller did after the old sample asked, before it was answered
	release();
	await old;
	t.is((await fresh)[0]!.queues[0]!.usedIdx, 12);
	t.is(sampler.samples, 2, 'a second sample, not the joined first one');
});

test('sampler stops by itself when the QMP connection closes, reporting the error once', async t => {
	const qmp = new ScriptedQmp();
	const sampler = new VirtioSampler(qmp, {intervalMs: 10});
	const errors: Error[] = [];
	sampler.onError(e => errors.push(e));
	sampler.start();
	await until(() => sampler.samples >= 1, 'a first sample');
	qmp.closed = true;
	await until(() => errors.length >= 1, 'the closed connection reported');
	// The timer is gone with the first error: nothing can report a second one.
	t.false(sampler.running);
	const queries = qmp.queries;
	await new Promise(resolve => setTimeout(resolve, 50));
	t.is(qmp.queries, queries, 'no query after the connection closed');
	t.is(errors.length, 1);
	t.true(errors[0] instanceof QmpClosedError);
	await sampler.stop();
});

test('sampler feeds trace counts into kicks/interrupts rates and totals', async t => {
	const qmp = new ScriptedQmp();
	let now = 0;
	const counts = {vq: '0x7f00', kicks: 40, interrupts: 30}; // before sampling started
	const trace: QueueTraceSource = {
		poll: async () => undefined,
		correlate: () => undefined,
		countsFor: (path, index) => (path.endsWith('device[0]/virtio-backend') && index === 0 ? {...counts} : undefined),
		queues: () => [{...counts}],
		countingStretch: 0,
	};
	const sampler = new VirtioSampler(qmp, {now: () => now, trace});
	let q = (await sampler.sample())[0]!.queues[0]!;
	t.deepEqual(q.totals, {requests: 0, kicks: 0, interrupts: 0});
	t.deepEqual(q.rates, {requests: 0}, 'no interval yet: no kick rate');
	now += 500;
	qmp.used += 10;
	counts.kicks += 10;
	counts.interrupts += 5;
	q = (await sampler.sample())[0]!.queues[0]!;
	t.deepEqual(q.totals, {requests: 10, kicks: 10, interrupts: 5});
	t.deepEqual(q.rates, {requests: 20, kicks: 20, interrupts: 10});
	t.deepEqual(q.windowed, {requests: 10, kicks: 10, interrupts: 5});
});

test('kick and interrupt rates only over intervals one counting stretch covered whole', async t => {
	const qmp = new ScriptedQmp();
	let now = 0;
	const counts = {vq: '0x7f00', kicks: 0, interrupts: 0};
	const trace = {
		poll: async () => undefined,
		correlate: () => undefined,
		countsFor: (path: string, index: number) =>
			path.endsWith('device[0]/virtio-backend') && index === 0 ? {...counts} : undefined,
		queues: () => [{...counts}],
		countingStretch: undefined as number | undefined,
	};
	const sampler = new VirtioSampler(qmp, {now: () => now, trace});
	const step = async (requests: number, kicks: number, stretch: number | undefined) => {
		now += 250;
		qmp.used += requests;
		counts.kicks += kicks;
		counts.interrupts += kicks;
		trace.countingStretch = stretch;
		return (await sampler.sample())[0]!.queues[0]!;
	};
	await step(0, 0, undefined);
	// Off: the trace counts nothing while the guest makes 50 requests.
	let q = await step(50, 0, undefined);
	t.is(q.rates.kicks, undefined, 'not a false 0');
	t.false(sampler.countedLastInterval);
	// Switched on between the samples: the interval is half off, still no rate.
	q = await step(50, 25, 1);
	t.is(q.rates.kicks, undefined, 'not half the true rate');
	// Whole interval on: the true rate.
	q = await step(50, 50, 1);
	t.true(sampler.countedLastInterval);
	t.is(q.rates.kicks, 200);
	t.deepEqual(q.windowed, {requests: 50, kicks: 50, interrupts: 50});
	// Off and on again in between (a new stretch): no rate, and the sums stay as they were.
	q = await step(50, 10, 2);
	t.is(q.rates.kicks, undefined);
	t.deepEqual(q.windowed, {requests: 50, kicks: 50, interrupts: 50});
	q = await step(20, 40, 2);
	t.is(q.rates.kicks, 160);
	t.deepEqual(q.windowed, {requests: 70, kicks: 90, interrupts: 90});
	t.is(q.totals.kicks, 125, 'totals count every traced kick, as before');
});

// ---------- sampler against a real, paused QEMU ----------

test('sampler against a real QEMU -S: shape and all-zero queues', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const sampler = new VirtioSampler(qmp, {intervalMs: 50, historyLength: 4});
	t.teardown(() => sampler.stop());
	const samples: DeviceView[][] = [];
	sampler.onSample(devices => samples.push(devices));
	sampler.start();
	await until(() => samples.length >= 6, 'six samples', 20_000);
	await sampler.stop();
	const devices = samples.at(-1)!;
	t.deepEqual(
		devices.map(d => d.name),
		['virtio-rng', 'virtio-blk'],
	);
	for (const d of devices) {
		t.regex(d.path, /^\/machine\/peripheral-anon\/device\[\d\]\/virtio-backend$/);
		t.deepEqual(d.status, []); // no driver yet
		t.deepEqual(d.features, []); // nothing negotiated
		t.is(d.queues.length, 1);
		const q = d.queues[0]!;
		t.like(q, {index: 0, name: d.name, availIdx: 0, lastAvailIdx: 0, usedIdx: 0, signalledUsed: 0, inFlight: 0});
		t.true(q.size > 0);
		t.deepEqual(q.rates, {requests: 0});
		t.deepEqual(q.totals, {requests: 0});
		t.deepEqual(q.history, [0, 0, 0, 0]);
	}
	t.is(devices.find(d => d.name === 'virtio-blk')!.queues[0]!.size, 256);
	// the event is plain data
	t.deepEqual(JSON.parse(JSON.stringify(devices)), devices);
	// reading the ring from guest memory: no ring yet, so no chain, and no error
	t.is(await sampler.readChain(devices[0]!.path, 0), undefined);
});
