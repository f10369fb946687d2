// The tune benchmark's bookkeeping: what the guest's `hello-client bench` line says, what the
// host saw cross the same queue (QMP used index, trace kicks and interrupts), and the targets.
// Pure functions only: the milestone (source/expedition/tune.ts) does the I/O.

import type {DeviceView, QueueView} from '../virtio/views.js';
import {idxDelta} from '../virtio/wrap.js';

/** One `bench key=value ...` line printed by hello-client in the guest. */
export interface GuestBench {
	mode: string;
	target: string;
	/** Requests completed, counted by the guest program. */
	ops: number;
	/** Syscalls made (one per request, or one per batch). */
	calls: number;
	/** Payload bytes moved (ECHO: both ways; pread: bytes read). */
	bytes: number;
	secs: number;
	opsPerSec: number;
	mbPerSec: number;
	p50Us: number;
	p99Us: number;
	maxUs: number;
	/** The guest's clocksource (latencies come from the TSC either way). */
	clock?: string;
	/** virtio-hello only: what the driver negotiated and counted over the run (sysfs stats/). */
	eventIdx?: boolean;
	driverKicks?: number;
	driverInterrupts?: number;
	driverCompleted?: number;
	batch?: number;
}

export function parseBenchLine(output: string): GuestBench | undefined {
	const line = output.split('\n').find(l => l.startsWith('bench '));
	if (!line) return undefined;
	const kv = new Map(
		line
			.slice(6)
			.trim()
			.split(/\s+/)
			.map(pair => {
				const eq = pair.indexOf('=');
				return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
			}),
	);
	const num = (key: string) => Number(kv.get(key));
	const opt = (key: string) => (kv.has(key) ? num(key) : undefined);
	const bench: GuestBench = {
		mode: kv.get('mode') ?? '?',
		target: kv.get('target') ?? '?',
		ops: num('ops'),
		calls: num('calls'),
		bytes: num('bytes'),
		secs: num('secs'),
		opsPerSec: num('ops_s'),
		mbPerSec: num('mb_s'),
		p50Us: num('p50_us'),
		p99Us: num('p99_us'),
		maxUs: num('max_us'),
	};
	if (kv.has('clock')) bench.clock = kv.get('clock');
	if (kv.has('event_idx')) bench.eventIdx = kv.get('event_idx') === '1';
	const optional = {
		driverKicks: 'drv_kicks',
		driverInterrupts: 'drv_irqs',
		driverCompleted: 'drv_completed',
		batch: 'batch',
	} as const;
	for (const [field, key] of Object.entries(optional)) {
		const value = opt(key);
		if (value !== undefined) bench[field as keyof typeof optional] = value;
	}
	if ([bench.ops, bench.calls, bench.secs, bench.opsPerSec].some(n => !Number.isFinite(n))) return undefined;
	return bench;
}

/** What the host saw cross one queue during a run. */
export interface HostDelta {
	/**
	 * Requests the device completed, from its own 64-bit counter (virtio-hello's QOM "requests",
	 * virtio-blk's query-blockstats rd_operations): exact whatever the rate.
	 */
	requests: number;
	/** Used-index advance between the two samples: the same count modulo 2^16. */
	usedIdxDelta: number;
	/**
	 * The panel sampler's running total of the same queue. It adds up used-index advances sample by
	 * sample (every 250 ms), so it is exact whatever the total, as long as fewer than 32768
	 * requests complete between two samples (see samplerCanCount).
	 */
	samplerRequests: number;
	/** The longest time between two panel samples during the run (the panel's interval when not measured). */
	samplerMaxGapMs?: number;
	/** Guest notifications, from QEMU's trace (exact with ioeventfd=off). */
	kicks: number;
	/** Interrupts QEMU injected for the queue, from the trace. */
	interrupts: number;
}

export function hostDelta(
	before: QueueView,
	after: QueueView,
	deviceCount: {before: number; after: number},
	samplerMaxGapMs?: number,
): HostDelta {
	return {
		...(samplerMaxGapMs === undefined ? {} : {samplerMaxGapMs}),
		requests: deviceCount.after - deviceCount.before,
		usedIdxDelta: idxDelta(before.usedIdx, after.usedIdx),
		samplerRequests: after.totals.requests - before.totals.requests,
		kicks: (after.totals.kicks ?? Number.NaN) - (before.totals.kicks ?? Number.NaN),
		interrupts: (after.totals.interrupts ?? Number.NaN) - (before.totals.interrupts ?? Number.NaN),
	};
}

/** Half the 16-bit index space: the most requests a sampler interval can tell apart. */
export const samplerBound = 0x8000;

/** The panel's sampling interval the sampler total relies on (Session's default). */
export const samplerIntervalMs = 250;

/**
 * Can the sampler's total be exact at this rate? Only while the longest time between two samples
 * (a sample's own duration included) sees fewer than samplerBound requests, with a factor of 2 to
 * spare: the rate is the run's average, a batched run goes faster in bursts, and the gap is timed
 * between the host's sample completions, not between the moments QEMU read the index. (A 2 s
 * batched run at 775,000 requests/s whose gaps were all timed under 42 ms still saw a gap of more
 * than 32,768 requests: the total was 29,961 off.)
 */
export function samplerCanCount(opsPerSec: number, maxGapMs = samplerIntervalMs): boolean {
	return (opsPerSec * maxGapMs) / 1000 < samplerBound / 2;
}

/**
 * How long to wait before the next sample so that fewer than a quarter of samplerBound requests
 * complete in between, at the rate seen so far; at most the panel's own interval.
 */
export function nextSampleDelayMs(opsPerSec: number): number {
	if (!(opsPerSec > 0)) return 10;
	return Math.max(0, Math.min(samplerIntervalMs, (samplerBound / 4 / opsPerSec) * 1000));
}

/** The request queue of the device QEMU knows by `-device ...,id=<id>`. */
export function queueOf(devices: readonly DeviceView[], id: string): QueueView | undefined {
	return devices.find(device => device.path.split('/').includes(id))?.queues[0];
}

export type Peer = 'virtio-hello' | 'virtio-blk';

export interface Variant {
	id: string;
	title: string;
	peer: Peer;
	/** QEMU -device id of the device it drives. */
	device: string;
	/** EVENT_IDX expected negotiated on that device. */
	eventIdx: boolean;
	/** Requests the guest keeps in flight at once (1, or the batch size). */
	inFlight: number;
	/** One line: what it does, for the table's legend. */
	what: string;
	/** The guest command, for `seconds` of measurement; {dev} is replaced by the /dev node. */
	command: (seconds: number) => string;
}

export const batchSize = 64;
export const blkBlockSize = 512;

/** Every variant runs in the same VM, one after the other. */
export const variants: Variant[] = [
	{
		id: 'naive',
		title: 'naive',
		peer: 'virtio-hello',
		device: 'hello0',
		eventIdx: true,
		inFlight: 1,
		what: 'one NOP in flight: ioctl, kick, interrupt, per request',
		command: s => `hello-client -d {dev} bench naive ${s}`,
	},
	{
		id: 'naive-noei',
		title: 'naive, no event idx',
		peer: 'virtio-hello',
		device: 'hello1',
		eventIdx: false,
		inFlight: 1,
		what: 'the same on a device with event_idx=off',
		command: s => `hello-client -d {dev} bench naive ${s}`,
	},
	{
		id: 'batch',
		title: `batched ×${batchSize}`,
		peer: 'virtio-hello',
		device: 'hello0',
		eventIdx: true,
		inFlight: batchSize,
		what: `${batchSize} NOPs per ioctl, added to the ring, then one kick`,
		command: s => `hello-client -d {dev} bench batch ${s} ${batchSize}`,
	},
	{
		id: 'batch-noei',
		title: `batched ×${batchSize}, no event idx`,
		peer: 'virtio-hello',
		device: 'hello1',
		eventIdx: false,
		inFlight: batchSize,
		what: 'the same with event_idx=off',
		command: s => `hello-client -d {dev} bench batch ${s} ${batchSize}`,
	},
	{
		id: 'batch-indirect',
		title: `batched ×${batchSize}, indirect`,
		peer: 'virtio-hello',
		device: 'hello2',
		eventIdx: true,
		inFlight: batchSize,
		what: 'the batch on a device with INDIRECT_DESC: a table allocated per request',
		command: s => `hello-client -d {dev} bench batch ${s} ${batchSize}`,
	},
	{
		id: 'kick-each',
		title: `×${batchSize}, kick each`,
		peer: 'virtio-hello',
		device: 'hello0',
		eventIdx: true,
		inFlight: batchSize,
		what: `${batchSize} NOPs per ioctl, virtqueue_kick_prepare after every add`,
		command: s => `hello-client -d {dev} bench batch ${s} ${batchSize} each`,
	},
	{
		id: 'naive-defer',
		title: 'naive, deferred device',
		peer: 'virtio-hello',
		device: 'hello3',
		eventIdx: true,
		inFlight: 1,
		what: 'one NOP in flight to a device that answers from a bottom half (defer=on)',
		command: s => `hello-client -d {dev} bench naive ${s}`,
	},
	{
		id: 'kick-each-defer',
		title: `×${batchSize}, kick each, deferred`,
		peer: 'virtio-hello',
		device: 'hello3',
		eventIdx: true,
		inFlight: batchSize,
		what: 'kick each, to the deferred device',
		command: s => `hello-client -d {dev} bench batch ${s} ${batchSize} each`,
	},
	{
		id: 'kick-each-defer-noei',
		title: `×${batchSize}, kick each, deferred, no event idx`,
		peer: 'virtio-hello',
		device: 'hello4',
		eventIdx: false,
		inFlight: batchSize,
		what: 'the same with event_idx=off',
		command: s => `hello-client -d {dev} bench batch ${s} ${batchSize} each`,
	},
	{
		id: 'echo-512',
		title: 'naive echo 512 B',
		peer: 'virtio-hello',
		device: 'hello0',
		eventIdx: true,
		inFlight: 1,
		what: 'one ECHO of 512 bytes in flight, verified (data both ways)',
		command: s => `hello-client -d {dev} bench naive ${s} 512`,
	},
	{
		id: 'blk-null',
		title: 'virtio-blk null-co 512 B',
		peer: 'virtio-blk',
		device: 'blk0',
		eventIdx: true,
		inFlight: 1,
		what: `O_DIRECT pread of ${blkBlockSize} B from null-co, one in flight`,
		command: s => `hello-client bench pread /dev/vda ${s} ${blkBlockSize}`,
	},
];

/** Seconds of the counted run that precedes each timed one (see VariantResult.counted). */
export const countedSeconds = 0.05;

/** One run of a variant: what the guest printed and what the host saw cross the queue. */
export interface VariantRun {
	guest: GuestBench;
	host: HostDelta;
}

export interface VariantResult {
	id: string;
	title: string;
	peer: Peer;
	inFlight: number;
	/** The timed run: ops/s, latencies, and the request counts of both sides. */
	guest: GuestBench;
	host: HostDelta;
	/**
	 * A short run of the same command just before (countedSeconds), inside a counting window: the
	 * only time QEMU traces each kick and interrupt (a line each, written by the vCPU thread: a
	 * 2 s naive run would write tens of MB). Its counts are checked exactly, like the timed run's
	 * requests, and give kicks/req and irqs/req. Absent: the timed run was traced itself (its
	 * host.kicks and host.interrupts are then the trace's).
	 */
	counted?: VariantRun;
	kicksPerRequest: number;
	interruptsPerRequest: number;
}

export function variantResult(
	variant: Variant,
	guest: GuestBench,
	host: HostDelta,
	counted?: VariantRun,
): VariantResult {
	const traced = counted?.host ?? host;
	const per = (n: number) => (traced.requests > 0 ? n / traced.requests : Number.NaN);
	return {
		id: variant.id,
		title: variant.title,
		peer: variant.peer,
		inFlight: variant.inFlight,
		guest,
		host,
		...(counted ? {counted} : {}),
		kicksPerRequest: per(traced.kicks),
		interruptsPerRequest: per(traced.interrupts),
	};
}

/**
 * Do the two sides agree? The guest's count of completed requests must equal the device's own
 * count and the used-index advance (the queue is idle otherwise), and the sampler's total when
 * it can be exact; for virtio-hello the driver's own kick and completion counts must equal the
 * host's too. Returns the disagreements.
 */
export function bookkeepingProblems(variant: Variant, r: VariantResult): string[] {
	if (!r.counted) return runProblems(variant, r.guest, r.host, true);
	return [
		...runProblems(variant, r.guest, r.host, false),
		...runProblems(variant, r.counted.guest, r.counted.host, true).map(problem => `counted run: ${problem}`),
	];
}

/** One run's disagreements; the trace's counts only when it was traced. */
export function runProblems(variant: Variant, guest: GuestBench, host: HostDelta, traced: boolean): string[] {
	const problems: string[] = [];
	if (guest.ops < 1) problems.push(`the guest completed no requests`);
	if (host.requests !== guest.ops)
		problems.push(`the guest counted ${guest.ops} requests, the device counted ${host.requests}`);
	if (host.usedIdxDelta !== host.requests % 0x1_0000)
		problems.push(`the used index moved ${host.usedIdxDelta}, not ${host.requests} mod 65536`);
	// The panel's total follows a 16-bit index from sample to sample. It must equal the device's
	// count whenever no gap between two samples can have held half the index space at this rate.
	// Past that it cannot be checked at all, not even modulo 65536: a step that looks backwards is
	// read as a reset (a driver reload must not count as 65,000 requests), so a wrap in a long gap
	// loses an arbitrary amount. Under TCG at batched rates that happens (gaps of 50 ms and more at
	// 700k requests/s); the guest's count, the device's 64-bit counter and the used index still
	// check every request there.
	const exact = samplerCanCount(guest.opsPerSec, host.samplerMaxGapMs);
	if (exact && host.samplerRequests !== host.requests)
		problems.push(`the sampler's total moved ${host.samplerRequests}, the device counted ${host.requests}`);
	if (traced && (!Number.isFinite(host.kicks) || !Number.isFinite(host.interrupts)))
		problems.push('the trace has no kick/interrupt counts for this queue (device not mapped)');
	if (variant.peer === 'virtio-hello') {
		if (guest.driverCompleted !== guest.ops)
			problems.push(`the driver completed ${guest.driverCompleted}, the client counted ${guest.ops}`);
		if (traced && guest.driverKicks !== host.kicks)
			problems.push(`the driver kicked ${guest.driverKicks} times, QEMU's trace counted ${host.kicks}`);
		if (traced && guest.driverInterrupts !== undefined && guest.driverInterrupts > host.interrupts)
			problems.push(`the driver ran ${guest.driverInterrupts} callbacks for ${host.interrupts} interrupts`);
		if (guest.eventIdx !== variant.eventIdx)
			problems.push(`EVENT_IDX is ${guest.eventIdx ? 'on' : 'off'}, expected ${variant.eventIdx ? 'on' : 'off'}`);
	}
	return problems;
}

export interface Target {
	id: string;
	label: string;
	value: number;
	/** Printed comparison, e.g. "≥ 5". */
	goal: string;
	met: boolean;
}

/** The targets, all ratios within one run. Missing variants give NaN, not met. */
export function evaluateTargets(results: readonly VariantResult[]): Target[] {
	const get = (id: string) => results.find(r => r.id === id);
	const naive = get('naive');
	const batch = get('batch');
	const blk = get('blk-null');
	const speedup = batch && naive ? batch.guest.opsPerSec / naive.guest.opsPerSec : Number.NaN;
	const batchKicks = batch ? batch.kicksPerRequest : Number.NaN;
	const vsBlk = naive && blk ? naive.guest.opsPerSec / blk.guest.opsPerSec : Number.NaN;
	return [
		{id: 'batch-speedup', label: 'batched ops/s ÷ naive ops/s', value: speedup, goal: '≥ 5', met: speedup >= 5},
		{id: 'batch-kicks', label: 'kicks per request, batched', value: batchKicks, goal: '≤ 0.1', met: batchKicks <= 0.1},
		{
			id: 'hello-vs-blk',
			label: 'virtio-hello naive ops/s ÷ virtio-blk null-co ops/s',
			value: vsBlk,
			goal: '≥ 1',
			met: vsBlk >= 1,
		},
	];
}
