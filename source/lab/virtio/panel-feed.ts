import {stat} from 'node:fs/promises';
import net from 'node:net';
import type {LabEmit} from '../lab-events.js';
import type {DeviceView, GuestView} from './views.js';
import {QmpClient} from '../vm/qmp.js';
import {GuestFrameReader} from './guest-stats.js';
import {DutyCycle} from './duty-cycle.js';
import {HeldRates} from './held-rates.js';
import {VirtioSampler} from './sampler.js';
import {setCountingEvents, TraceCounter} from './trace-counter.js';

export interface PanelFeedOptions {
	qmpSocket: string;
	traceLog: string;
	sideSocket: string;
	intervalMs: number;
	emit: LabEmit;
	signal: AbortSignal;
	/**
	 * Someone watches the kick and interrupt counters live: the TUI, whose panel is on screen
	 * whenever a VM runs, shows kick/s and irq/s. Then the per-request trace events are
	 * duty-cycled (liveTrace): on in a short window every few seconds, long enough for one whole
	 * sample interval, and between windows the panel shows the last rate measured, marked as such.
	 * Tracing every request all the time cost the guest ~15 % of its I/O. Otherwise (headless
	 * `run`, `run --json`, `bench`) they are on only inside counting windows (countKicks):
	 * `run --json` still streams the virtio samples (indices, rates, status), but their
	 * kick/interrupt totals move only while a step counts. A milestone's own checks get exact
	 * counts from their windows, in both cases.
	 */
	liveCounters?: boolean;
	/** The duty cycle of a live viewer's trace (liveTrace's defaults when not given). */
	liveTrace?: {periodMs: number; maxOnMs: number};
	/** The trace log starts with the per-request events on (QEMU was given them with -trace). */
	countingFromStart?: boolean;
}

/**
 * A live viewer's trace windows: one every 3 s, closed once a sample interval was measured whole
 * in it, or after 1.5 s (three idle intervals) at the most. A window needs two samples inside it,
 * so it lasts 250-500 ms while queues move (4 Hz) and 500-1000 ms idle (2 Hz, when nothing is
 * traced anyway). Measured under a steady stream of reads (test/lab/virtio/live-trace.test.ts):
 * on 10 % of the time, the trace saw 1 kick in 10. Cost: npm run bench -- --only-panel
 * (test/bench/panel-cost.ts).
 */
export const liveTrace = {periodMs: 3000, maxOnMs: 1500};

/**
 * Everything the virtqueue panel shows, while one VM runs: QMP samples (host view), trace
 * counts (kicks, interrupts) and the guest's frames from its side channel (guest view).
 * Failures here never fail a step: the panel goes quiet and the step log says why.
 */
export class PanelFeed {
	private qmp: QmpClient | undefined;
	private sampler: VirtioSampler | undefined;
	private paused = false;
	private side: net.Socket | undefined;
	private guest: GuestView | undefined;
	private stopped = false;
	private trace: TraceCounter | undefined;
	/** Counting windows open now. */
	private windows = 0;
	/** Quiet windows open now (withoutCounting): a live viewer's counting pauses. */
	private quiets = 0;
	/** Switches of the trace events, one at a time, in order. */
	private switching: Promise<void> = Promise.resolve();
	private countingOn: boolean;
	/** A live viewer's windows of tracing; undefined without one. */
	private readonly duty: DutyCycle | undefined;
	/** The last rates a window measured, shown between windows. */
	private readonly held = new HeldRates();
	readonly ready: Promise<void>;

	constructor(private readonly options: PanelFeedOptions) {
		this.countingOn = options.countingFromStart ?? true;
		if (options.liveCounters)
			this.duty = new DutyCycle({...liveTrace, ...options.liveTrace, onSwitch: () => void this.apply()});
		this.ready = this.start();
	}

	/** The per-request trace events are on (as far as this feed switched them). */
	get counting(): boolean {
		return this.countingOn;
	}

	/**
	 * A counting window: the trace's per-request events (kicks, interrupts) are on from before
	 * `work` starts until after it ends and one more sample has read the trace, so every kick of
	 * the work is counted, exactly, in the samples `work` takes (sampleNow) and in the one taken
	 * after it. Take the "before" sample inside the window: kicks before it opened were not
	 * traced. Windows may overlap (a counter each); the events go off when the last one closes,
	 * unless a live viewer keeps them on.
	 */
	async countKicks<T>(work: () => Promise<T>): Promise<T> {
		this.windows++;
		await this.apply();
		try {
			return await work();
		} finally {
			this.windows--;
			await this.apply();
		}
	}

	/**
	 * The opposite, for a measurement that must not pay for the trace (tune's timed runs): the
	 * per-request events are off during `work` even with a live viewer, so a benchmark measures the
	 * same with the TUI watching as headless. A counting window still wins (its counts must be
	 * exact). Meanwhile the panel shows no kick/s and irq/s (not a false 0, nor an old one).
	 */
	async withoutCounting<T>(work: () => Promise<T>): Promise<T> {
		this.quiets++;
		await this.apply();
		try {
			return await work();
		} finally {
			this.quiets--;
			await this.apply();
		}
	}

	private get wanted(): boolean {
		return this.windows > 0 || (this.duty?.open === true && this.quiets === 0);
	}

	/** Makes QEMU's event state match what is wanted, and tells the trace counter where it switched. */
	private apply(): Promise<void> {
		this.switching = this.switching.then(() => this.applyNow()).catch(() => undefined);
		return this.switching;
	}

	private async applyNow(): Promise<void> {
		await this.ready.catch(() => undefined);
		const want = this.wanted;
		if (want === this.countingOn || !this.qmp || this.stopped) return;
		await setCountingEvents(this.qmp, want);
		this.countingOn = want;
		// QEMU writes and flushes each line whole: the file's size now is where the switch falls.
		const size = await stat(this.options.traceLog).then(
			s => s.size,
			() => 0,
		);
		this.trace?.countingSwitched(want, size);
	}

	/**
	 * The counters as they are now, for a milestone's checks and its summary: from a sample that
	 * started after this call, never one already in flight (it may predate what the step just did).
	 */
	async sampleNow() {
		await this.ready;
		return this.sampler ? this.sampler.sampleFresh() : [];
	}

	/**
	 * A device's own property over the panel's QMP connection (QEMU serves one client per
	 * socket): a device's counters, for a check. Undefined when QMP is not connected or the
	 * property does not exist.
	 */
	async qomGet<T>(path: string, property: string): Promise<T | undefined> {
		await this.ready.catch(() => undefined);
		if (!this.qmp || this.stopped) return undefined;
		return this.qmp.execute<T>('qom-get', {path, property}).catch(() => undefined);
	}

	/** Samples taken so far, and the sampler's current pace (it halves while the queues are idle). */
	get sampling(): {samples: number; intervalMs: number | undefined} {
		return {samples: this.sampler?.samples ?? 0, intervalMs: this.sampler?.currentIntervalMs};
	}

	get latestGuest(): GuestView | undefined {
		return this.guest;
	}

	private lastSignature = '';
	private lastEmitted = 0;

	/**
	 * An idle VM yields the same sample four times a second; redrawing the screen for each would
	 * cost the TUI more than everything else it does. Unchanged samples go out once per 2 s, so
	 * the sparklines still scroll.
	 */
	private changed(devices: DeviceView[], at: number): boolean {
		const signature = JSON.stringify([
			devices.map(device => [
				device.status,
				device.features,
				device.queues.map(queue => [queue.availIdx, queue.lastAvailIdx, queue.usedIdx, queue.inFlight, queue.totals]),
			]),
			this.guest,
		]);
		if (signature === this.lastSignature && at - this.lastEmitted < 2000) return false;
		this.lastSignature = signature;
		this.lastEmitted = at;
		return true;
	}

	private looking = false;

	/** While true, each sample also carries the newest descriptor chain of every queue. */
	get lookInside(): boolean {
		return this.looking;
	}

	set lookInside(on: boolean) {
		if (on && !this.looking) void this.sayWhichChains();
		this.looking = on;
		// The next sample goes out even if the queues are idle, so the chains appear at once.
		this.lastSignature = '';
	}

	private said = false;

	/** Once per VM, in the step log: which QEMU answers and which chains the view reads. */
	private async sayWhichChains(): Promise<void> {
		await this.ready.catch(() => undefined);
		if (!this.sampler || this.said || this.stopped) return;
		this.said = true;
		const identity = await this.sampler.qemuIdentity().catch(() => undefined);
		const qemu = identity
			? `QEMU ${identity.version}${identity.kernelcraftBuild ? " (kernelcraft's build)" : identity.package ? ` (${identity.package})` : ''}`
			: 'QEMU';
		this.options.emit({
			type: 'log',
			step: '',
			line: `inside the ring: ${qemu}; chains are read from guest memory, never through QEMU's element query (on 7.2 that can break a device when asked about a chain the guest already reclaimed). A chain posted and not yet taken is exact; one the device took may be done and its descriptors reused: it is shown as the memory holds it now.`,
		});
	}

	/**
	 * Each queue's newest chain, read from guest memory (VirtioSampler.readChain): the one posted
	 * and not yet taken if there is one, else the last one the device took. Never through
	 * x-query-virtio-queue-element, which on QEMU 7.2 can break a device when the guest has
	 * already reclaimed the chain.
	 */
	private async withRings(devices: DeviceView[]): Promise<DeviceView[]> {
		return Promise.all(
			devices.map(async device => ({
				...device,
				queues: await Promise.all(
					device.queues.map(async queue => {
						try {
							const ring = await this.sampler!.readChain(device.path, queue.index);
							if (!ring) return queue;
							return {
								...queue,
								ring: {position: ring.position, head: ring.head, pending: ring.pending, descriptors: ring.descriptors},
							};
						} catch {
							// Before the driver sets the ring up QEMU refuses: no chain then.
							return queue;
						}
					}),
				),
			})),
		);
	}

	/**
	 * While a debugger holds the guest (or QEMU itself) stopped, the panel keeps its last sample
	 * instead of sampling: a stopped QEMU answers no QMP query, and a stopped guest moves no
	 * queue. One sample is taken as it stops when QEMU still answers (the guest alone stopped),
	 * so the panel shows the queue indices at that stop.
	 */
	hold(held: boolean): void {
		if (held === this.paused) return;
		this.paused = held;
		if (!this.sampler || this.stopped) return;
		// The duty cycle switches nothing meanwhile: a stopped QEMU would answer no switch, and
		// everything waiting on the switches (a counting window) would wait with it.
		if (held) {
			this.duty?.pause();
			void this.sampler.stop().then(() => this.sampler?.sample().catch(() => undefined));
		} else {
			this.sampler.start();
			this.duty?.start();
		}
	}

	async stop(): Promise<void> {
		this.stopped = true;
		this.duty?.pause();
		await this.ready.catch(() => undefined);
		await this.sampler?.stop();
		this.side?.destroy();
		await this.qmp?.close().catch(() => undefined);
	}

	private async start(): Promise<void> {
		const {emit, signal} = this.options;
		try {
			this.qmp = await QmpClient.connect({socketPath: this.options.qmpSocket, timeoutMs: 15_000, signal});
		} catch (error) {
			if (!this.stopped)
				emit({type: 'log', step: '', line: `virtqueue panel: no QMP connection (${(error as Error).message})`});
			return;
		}
		if (this.stopped) return;
		const trace = new TraceCounter(this.options.traceLog, {countingFromStart: this.options.countingFromStart ?? true});
		this.trace = trace;
		this.sampler = new VirtioSampler(this.qmp, {intervalMs: this.options.intervalMs, trace});
		this.sampler.onSample((sampled, at) => {
			// A window is done once it gave a rate: a whole interval, and a queue the trace names.
			const rated = sampled.some(device => device.queues.some(queue => queue.rates.kicks !== undefined));
			if (this.sampler?.countedLastInterval && rated) this.duty?.measured();
			const devices = this.duty ? this.liveView(sampled, at) : sampled;
			if (!this.changed(devices, at)) return;
			if (!this.lookInside) return emit({type: 'virtio', devices, guest: this.guest, at});
			void this.withRings(devices).then(withRings => emit({type: 'virtio', devices: withRings, guest: this.guest, at}));
		});
		if (!this.paused) {
			this.sampler.start();
			this.duty?.start();
		}
		this.connectSide();
		// A window or a live viewer that came before QMP answered.
		void this.apply();
	}

	/**
	 * What a live viewer is shown of a duty-cycled trace: between windows, the last rates measured
	 * (marked); no kick and interrupt totals, which count only the kicks inside windows now (the
	 * panel shows kicks and interrupts per request from QueueView.windowed instead). The samples a
	 * milestone's checks take (sampleNow) are the sampler's own, totals and all.
	 */
	private liveView(sampled: DeviceView[], at: number): DeviceView[] {
		const devices = this.quiets === 0 ? this.held.fill(sampled, at) : sampled;
		return devices.map(device => ({
			...device,
			queues: device.queues.map(queue => ({...queue, totals: {requests: queue.totals.requests}})),
		}));
	}

	private connectSide(attempt = 0): void {
		if (this.stopped) return;
		const reader = new GuestFrameReader(view => (this.guest = view));
		const socket = net.connect(this.options.sideSocket);
		socket.setEncoding('utf8');
		socket.on('data', (data: string) => reader.push(data));
		socket.on('error', () => {
			// QEMU creates the socket as it starts: retry briefly, then live without the guest view.
			if (attempt < 50) setTimeout(() => this.connectSide(attempt + 1), 100).unref();
		});
		this.side = socket;
	}
}
