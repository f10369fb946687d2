// Polls QEMU's view of every virtio device over QMP and turns successive samples into the
// DeviceView[] the virtqueue panel draws: indices, in-flight requests, request rates from used-idx
// deltas (16-bit wraps handled), totals, a short history for sparklines, and, when a TraceCounter
// is given, kick and interrupt counts from QEMU's trace log.
//
// One sample = x-query-virtio, then per device x-query-virtio-status and one
// x-query-virtio-queue-status per queue (QEMU 7.2 numbers queues 0..num-vqs-1), all pipelined on
// the one connection. Samples never overlap: a tick that comes while the previous sample is still
// waiting for QEMU is skipped (and counted in skippedTicks).

import type {DeviceView, QueueView} from './views.js';
import {QmpClosedError, QmpError, type QmpLike} from '../vm/qmp.js';
import type {VirtioInfo, VirtioStatus, VirtQueueStatus} from '../vm/qmp-types.js';
import type {QueueCorrelationSample} from './trace-counter.js';
import {decodeFeatures, decodeStatus, hexAddr} from './decoders.js';
import {parseXp, safeRingPosition, walkChain, type RingElementView} from './ring-walk.js';
import {idxAdvance, idxPending} from './wrap.js';

/** What the sampler needs from a trace counter (TraceCounter implements it). */
export interface QueueTraceSource {
	poll(): Promise<unknown>;
	correlate(samples: readonly QueueCorrelationSample[]): void;
	countsFor(path: string, index: number): {vq: string; kicks: number; interrupts: number} | undefined;
	queues(): {vq: string; kicks: number; interrupts: number}[];
	/** The unbroken stretch of counting the last poll ended in; undefined when the events were off there. */
	readonly countingStretch: number | undefined;
}

export interface VirtioSamplerOptions {
	/** Time between samples while a queue moves. Default 250 ms (4 Hz). */
	intervalMs?: number;
	/**
	 * Time between samples while every queue is idle (no index moved since the previous sample).
	 * Default twice intervalMs (2 Hz at the default): an idle VM still shows it is alive, and each
	 * sample, which takes QEMU's lock, costs half as often. The first sample that sees an index
	 * move brings the rate back.
	 */
	idleIntervalMs?: number;
	/** Rates kept per queue for the sparkline. Default 60 (15 s at 4 Hz). */
	historyLength?: number;
	/** Timeout of each QMP query. Default 2000 ms. */
	queryTimeoutMs?: number;
	/** Kick/interrupt counts from QEMU's trace log; without it those fields stay undefined. */
	trace?: QueueTraceSource;
	/** Clock in ms (tests). Default Date.now. */
	now?: () => number;
}

export type SampleListener = (devices: DeviceView[], at: number) => void;
export type SampleErrorListener = (error: Error) => void;

export interface QemuIdentity {
	/** "7.2.22" */
	version: string;
	/** The build's package string: Debian's builds say "Debian 1:7.2+dfsg-7+deb12u…". */
	package: string;
	/** Built by kernelcraft from devices/ (it has the virtio-hello device). */
	kernelcraftBuild: boolean;
}

/** Only what rates need from a queue sample. */
export interface QueuePoint {
	usedIdx: number;
	/** Guest-physical address of the descriptor table, as text; it changes when the driver re-creates the ring. */
	ringAddr: string;
	/** Sample time in ms. */
	at: number;
}

export interface QueueStep {
	/** Requests completed (used entries) between the two samples. */
	requests: number;
	/** requests per second over the interval. */
	rate: number;
	/** The queue was reset or re-created in between: `requests` counts from 0. */
	reset: boolean;
}

/**
 * Requests completed between two samples of one queue. Pure. The used index is a 16-bit counter,
 * so 65530 -> 4 is 10 requests. A ring that moved (vring-desc changed) or an index that went
 * backwards means the driver reset the queue: the count restarts from 0 (see idxAdvance).
 */
export function queueStep(previous: QueuePoint | undefined, current: QueuePoint): QueueStep {
	if (!previous) return {requests: 0, rate: 0, reset: false};
	let requests: number;
	let reset: boolean;
	if (previous.ringAddr !== current.ringAddr) {
		reset = true;
		requests = current.ringAddr === '0x0' ? 0 : idxAdvance(0, current.usedIdx).delta;
	} else {
		const step = idxAdvance(previous.usedIdx, current.usedIdx);
		requests = step.delta;
		reset = step.reset;
	}
	return {requests, rate: perSecond(requests, current.at - previous.at), reset};
}

/** A count per second over dtMs; 0 for a non-positive interval. */
export function perSecond(count: number, dtMs: number): number {
	return dtMs > 0 ? (count * 1000) / dtMs : 0;
}

interface QueueTrack {
	point: QueuePoint;
	/** avail, last-avail and used index and the ring's address, to tell an idle queue. */
	indices: string;
	totals: {requests: number; kicks?: number; interrupts?: number};
	history: number[];
	traceVq?: string;
	traceKicks?: number;
	traceInterrupts?: number;
	windowed?: {requests: number; kicks: number; interrupts: number};
}

interface RawDevice {
	info: VirtioInfo;
	status: VirtioStatus;
	queues: VirtQueueStatus[];
}

export class VirtioSampler {
	/** Ticks skipped because the previous sample had not finished. */
	skippedTicks = 0;
	/** Samples completed. */
	samples = 0;
	/** The last error a sample ended with (also given to error listeners). */
	lastError: Error | undefined;

	private readonly qmp: QmpLike;
	private readonly intervalMs: number;
	private readonly idleIntervalMs: number;
	private idle = false;
	private readonly historyLength: number;
	private readonly timeoutMs: number;
	private readonly trace: QueueTraceSource | undefined;
	private readonly now: () => number;
	private readonly tracks = new Map<string, QueueTrack>();
	private readonly sampleListeners = new Set<SampleListener>();
	private readonly errorListeners = new Set<SampleErrorListener>();
	private traceBaseline: Map<string, {kicks: number; interrupts: number}> | undefined;
	/** The counting stretch the previous sample's poll ended in (see countedLastInterval). */
	private previousStretch: number | undefined;
	private intervalCounted = false;
	private timer: NodeJS.Timeout | undefined;
	private inFlight: Promise<DeviceView[]> | undefined;
	private latestSample: {devices: DeviceView[]; at: number} | undefined;
	private identity: Promise<QemuIdentity> | undefined;
	private ramBytes: Promise<bigint> | undefined;

	constructor(qmp: QmpLike, options: VirtioSamplerOptions = {}) {
		this.qmp = qmp;
		this.intervalMs = options.intervalMs ?? 250;
		this.idleIntervalMs = options.idleIntervalMs ?? this.intervalMs * 2;
		this.historyLength = Math.max(1, options.historyLength ?? 60);
		this.timeoutMs = options.queryTimeoutMs ?? 2000;
		this.trace = options.trace;
		this.now = options.now ?? Date.now;
	}

	get running(): boolean {
		return this.timer !== undefined;
	}

	/** The time to the next timed sample: intervalMs while queues move, idleIntervalMs while idle. */
	get currentIntervalMs(): number {
		return this.idle ? this.idleIntervalMs : this.intervalMs;
	}

	/**
	 * The interval between the last two samples lay wholly inside one stretch of counting (the
	 * trace's per-request events on throughout): its kick and interrupt rates are true ones.
	 */
	get countedLastInterval(): boolean {
		return this.intervalCounted;
	}

	/** The last sample, if any. */
	latest(): {devices: DeviceView[]; at: number} | undefined {
		return this.latestSample;
	}

	/** Every completed sample. Returns an unsubscribe function. */
	onSample(listener: SampleListener): () => void {
		this.sampleListeners.add(listener);
		return () => this.sampleListeners.delete(listener);
	}

	/** Errors of timed samples (a QmpClosedError also stops the sampler). */
	onError(listener: SampleErrorListener): () => void {
		this.errorListeners.add(listener);
		return () => this.errorListeners.delete(listener);
	}

	/**
	 * Starts sampling: one sample now, then one per interval (currentIntervalMs, chosen after each
	 * sample from whether it saw a queue move). Idempotent.
	 */
	start(): void {
		if (this.timer) return;
		this.schedule();
		this.tick();
	}

	/** Stops the timer and waits for a sample in progress to finish. Never rejects. */
	async stop(): Promise<void> {
		if (this.timer) clearTimeout(this.timer);
		this.timer = undefined;
		await this.inFlight?.catch(() => undefined);
	}

	private schedule(): void {
		this.timer = setTimeout(() => {
			if (!this.timer) return;
			this.schedule();
			this.tick();
		}, this.currentIntervalMs);
	}

	/**
	 * Takes one sample now and emits it. If a sample is already in progress, resolves with that
	 * one instead of starting a second. Rejects with the QMP error (the timer path reports errors
	 * to onError listeners instead).
	 */
	sample(): Promise<DeviceView[]> {
		if (this.inFlight) return this.inFlight;
		const run = this.sampleOnce().finally(() => {
			if (this.inFlight === run) this.inFlight = undefined;
		});
		this.inFlight = run;
		return run;
	}

	/**
	 * A sample that started after this call: one in progress may have read QEMU before whatever
	 * the caller just did, so it is waited for and another one taken (or joined, if the timer
	 * started it meanwhile).
	 */
	async sampleFresh(): Promise<DeviceView[]> {
		if (this.inFlight) await this.inFlight.catch(() => undefined);
		return this.sample();
	}

	/**
	 * The chain at an avail position, read from guest memory with HMP `xp` instead of
	 * x-query-virtio-queue-element: a plain read of guest RAM, which never runs the device's chain
	 * walker and so can never mark the device broken, whatever state the chain is in. Default
	 * position: the newest chain the guest published and the device has not taken, else the last
	 * one it took (that one may be done, and the guest may be reusing its descriptors: it is shown
	 * as the memory holds it). Only addresses inside guest RAM below 4 GiB are read (a read of a
	 * device's registers could have effects). Undefined when there is no ring yet, or when what the
	 * memory holds is not a well-formed chain (the guest rewrote it while it was read).
	 */
	async readChain(path: string, queue: number, position?: number): Promise<RingElementView | undefined> {
		const opts = {timeoutMs: this.timeoutMs};
		const status = await this.qmp.execute<VirtQueueStatus>('x-query-virtio-queue-status', {path, queue}, opts);
		const num = status['vring-num'];
		if (!num || status['vring-desc'] === undefined || BigInt(status['vring-desc']) === 0n) return undefined;
		this.ramBytes ??= this.qmp
			.execute<{'base-memory': number}>('query-memory-size-summary', undefined, opts)
			.then(m => BigInt(m['base-memory']));
		const ram = await this.ramBytes;
		const inRam = (addr: bigint, len: bigint) => addr >= 0n && addr + len <= ram && addr + len <= 0x8000_0000n;
		const xp = async (format: string, addr: bigint, len: bigint): Promise<bigint[] | undefined> => {
			if (!inRam(addr, len)) return undefined;
			const text = await this.qmp.execute<string>(
				'human-monitor-command',
				{'command-line': `xp /${format} 0x${addr.toString(16)}`},
				opts,
			);
			return parseXp(text);
		};
		const lastAvail = status['last-avail-idx'] ?? 0;
		const at = (position ?? safeRingPosition(status) ?? lastAvail - 1) & 0xffff;
		const head = (await xp('1hx', BigInt(status['vring-avail'] ?? 0) + 4n + 2n * BigInt(at % num), 2n))?.[0];
		if (head === undefined) return undefined;
		const descriptors = await walkChain(Number(head), num, BigInt(status['vring-desc']), xp);
		if (!descriptors) return undefined;
		const shadowAvail = status['shadow-avail-idx'] ?? 0;
		return {
			path,
			queue,
			position: at,
			head: Number(head),
			descriptors,
			pending: idxPending(lastAvail, at) < idxPending(lastAvail, shadowAvail),
		};
	}

	/**
	 * Which QEMU answers: its version and Debian's package string when it is Debian's build (which
	 * has no virtio-hello device). Asked once.
	 */
	async qemuIdentity(): Promise<QemuIdentity> {
		this.identity ??= (async () => {
			const version = await this.qmp.execute<{qemu: {major: number; minor: number; micro: number}; package: string}>(
				'query-version',
				undefined,
				{timeoutMs: this.timeoutMs},
			);
			const types = await this.qmp
				.execute<{name: string}[]>('qom-list-types', {implements: 'virtio-device'}, {timeoutMs: this.timeoutMs})
				.catch(() => []);
			return {
				version: `${version.qemu.major}.${version.qemu.minor}.${version.qemu.micro}`,
				package: version.package.trim(),
				kernelcraftBuild: types.some(type => type.name === 'virtio-hello-device'),
			};
		})();
		return this.identity;
	}

	private tick(): void {
		if (this.inFlight) {
			this.skippedTicks++;
			return;
		}
		this.sample().catch((error: unknown) => {
			const err = error instanceof Error ? error : new Error(String(error));
			this.lastError = err;
			if (err instanceof QmpClosedError && this.timer) {
				clearTimeout(this.timer);
				this.timer = undefined;
			}
			for (const listener of [...this.errorListeners]) {
				try {
					listener(err);
				} catch {
					// a listener's bug must not stop sampling
				}
			}
		});
	}

	private async sampleOnce(): Promise<DeviceView[]> {
		const raw = await this.query();
		if (this.trace) {
			await this.trace.poll();
			this.trace.correlate(
				raw.flatMap(d =>
					d.queues.map(q => ({path: d.info.path, name: d.info.name, index: q['queue-index'], usedIdx: q['used-idx']})),
				),
			);
			if (!this.traceBaseline) {
				this.traceBaseline = new Map(this.trace.queues().map(q => [q.vq, {kicks: q.kicks, interrupts: q.interrupts}]));
			}
			const stretch = this.trace.countingStretch;
			this.intervalCounted = this.samples > 0 && stretch !== undefined && stretch === this.previousStretch;
			this.previousStretch = stretch;
		}
		const at = this.now();
		const moved = raw.some(d =>
			d.queues.some(q => {
				const previous = this.tracks.get(queueKey(d.info.path, q['queue-index']))?.indices;
				return !previous || previous !== indexSignature(q);
			}),
		);
		const devices = raw.map(d => this.deviceView(d, at));
		const seen = new Set(raw.flatMap(d => d.queues.map(q => queueKey(d.info.path, q['queue-index']))));
		for (const key of this.tracks.keys()) if (!seen.has(key)) this.tracks.delete(key);
		this.samples++;
		this.setIdle(!moved);
		this.latestSample = {devices, at};
		for (const listener of [...this.sampleListeners]) {
			try {
				listener(devices, at);
			} catch {
				// a listener's bug must not stop sampling
			}
		}
		return devices;
	}

	/** Idle changes the pace at once: the timer waiting for the old interval is replaced. */
	private setIdle(idle: boolean): void {
		if (idle === this.idle) return;
		this.idle = idle;
		if (this.timer) {
			clearTimeout(this.timer);
			this.schedule();
		}
	}

	private async query(): Promise<RawDevice[]> {
		const opts = {timeoutMs: this.timeoutMs};
		const infos = await this.qmp.execute<VirtioInfo[]>('x-query-virtio', undefined, opts);
		const devices = await Promise.all(
			infos.map(async (info): Promise<RawDevice | undefined> => {
				try {
					const status = await this.qmp.execute<VirtioStatus>('x-query-virtio-status', {path: info.path}, opts);
					const count = status['num-vqs'] ?? 0;
					const queues = await Promise.all(
						Array.from({length: count}, (_, queue) =>
							this.qmp.execute<VirtQueueStatus>('x-query-virtio-queue-status', {path: info.path, queue}, opts),
						),
					);
					return {info, status, queues};
				} catch (error) {
					// a device unplugged between the queries: leave it out of this sample
					if (error instanceof QmpError) return undefined;
					throw error;
				}
			}),
		);
		return devices
			.filter((d): d is RawDevice => d !== undefined)
			.sort((a, b) => a.info.path.localeCompare(b.info.path, 'en', {numeric: true}));
	}

	private deviceView(raw: RawDevice, at: number): DeviceView {
		return {
			path: raw.info.path,
			name: raw.info.name,
			status: decodeStatus(raw.status.status),
			features: decodeFeatures(raw.status['guest-features']),
			queues: raw.queues.map(q => this.queueView(raw.info.path, q, at)),
		};
	}

	private queueView(path: string, q: VirtQueueStatus, at: number): QueueView {
		const index = q['queue-index'];
		const key = queueKey(path, index);
		const previous = this.tracks.get(key);
		const point: QueuePoint = {usedIdx: q['used-idx'], ringAddr: hexAddr(q['vring-desc']), at};
		const step = queueStep(previous?.point, point);
		const history = [...(previous?.history ?? []), step.rate].slice(-this.historyLength);
		const track: QueueTrack = {
			point,
			indices: indexSignature(q),
			totals: {requests: (previous?.totals.requests ?? 0) + step.requests},
			history,
		};
		const rates: QueueView['rates'] = {requests: step.rate};

		const counts = this.trace?.countsFor(path, index);
		if (counts) {
			const base = this.traceBaseline?.get(counts.vq) ?? {kicks: 0, interrupts: 0};
			// Only over an interval the events covered whole: across an off stretch the trace's counts
			// stand still while the guest does not, and a rate from them would be false.
			if (previous?.traceVq === counts.vq && this.intervalCounted) {
				const kicks = counts.kicks - previous.traceKicks!;
				const interrupts = counts.interrupts - previous.traceInterrupts!;
				const dt = at - previous.point.at;
				rates.kicks = perSecond(kicks, dt);
				rates.interrupts = perSecond(interrupts, dt);
				const sums = previous.windowed ?? {requests: 0, kicks: 0, interrupts: 0};
				track.windowed = {
					requests: sums.requests + step.requests,
					kicks: sums.kicks + kicks,
					interrupts: sums.interrupts + interrupts,
				};
			} else if (previous?.traceVq === counts.vq) track.windowed = previous.windowed;
			track.totals.kicks = counts.kicks - base.kicks;
			track.totals.interrupts = counts.interrupts - base.interrupts;
			track.traceVq = counts.vq;
			track.traceKicks = counts.kicks;
			track.traceInterrupts = counts.interrupts;
		}
		this.tracks.set(key, track);

		const view: QueueView = {
			index,
			size: q['vring-num'],
			availIdx: q['shadow-avail-idx'] ?? 0,
			lastAvailIdx: q['last-avail-idx'] ?? 0,
			usedIdx: q['used-idx'],
			signalledUsed: q['signalled-used'],
			signalledUsedValid: q['signalled-used-valid'],
			inFlight: q.inuse,
			rates,
			totals: {...track.totals},
			history: [...history],
		};
		if (track.windowed) view.windowed = {...track.windowed};
		if (q.name) view.name = q.name;
		return view;
	}
}

function indexSignature(q: VirtQueueStatus): string {
	return `${q['shadow-avail-idx'] ?? 0}/${q['last-avail-idx'] ?? 0}/${q['used-idx']}/${hexAddr(q['vring-desc'])}`;
}

function queueKey(path: string, index: number): string {
	return `${path}#${index}`;
}
