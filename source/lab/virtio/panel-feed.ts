import net from 'node:net';
import type {Emit} from '../lab-events.js';
import type {DeviceView, GuestView} from './views.js';
import {QmpClient} from '../vm/qmp.js';
import {GuestFrameReader} from './guest-stats.js';
import {VirtioSampler} from './sampler.js';
import {TraceCounter} from './trace-counter.js';

export interface PanelFeedOptions {
	qmpSocket: string;
	traceLog: string;
	sideSocket: string;
	intervalMs: number;
	emit: Emit;
	signal: AbortSignal;
}

/**
 * Everything the virtqueue panel shows, while one VM runs: QMP samples (host view), trace
 * counts (kicks, interrupts) and the guest's frames from its side channel (guest view).
 * Failures here never fail a step: the panel goes quiet and the step log says why.
 */
export class PanelFeed {
	private qmp: QmpClient | undefined;
	private sampler: VirtioSampler | undefined;
	private side: net.Socket | undefined;
	private guest: GuestView | undefined;
	private stopped = false;
	readonly ready: Promise<void>;

	constructor(private readonly options: PanelFeedOptions) {
		this.ready = this.start();
	}

	/**
	 * The counters as they are now, for a milestone's checks and its summary: from a sample that
	 * started after this call, never one already in flight (it may predate what the step just did).
	 */
	async sampleNow() {
		await this.ready;
		return this.sampler ? this.sampler.sampleFresh() : [];
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

	async stop(): Promise<void> {
		this.stopped = true;
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
		const trace = new TraceCounter(this.options.traceLog);
		this.sampler = new VirtioSampler(this.qmp, {intervalMs: this.options.intervalMs, trace});
		this.sampler.onSample((devices, at) => {
			if (!this.changed(devices, at)) return;
			if (!this.lookInside) return emit({type: 'virtio', devices, guest: this.guest, at});
			void this.withRings(devices).then(withRings => emit({type: 'virtio', devices: withRings, guest: this.guest, at}));
		});
		this.sampler.start();
		this.connectSide();
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
