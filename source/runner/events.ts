// The one stream both consumers read: the TUI reduces it into screen state, `run --json` prints
// it line by line. Every field is plain data so an event can be serialised as-is.

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
	accel: Accel;
	/** Why this accelerator: shown to the learner, e.g. "no vmx/svm CPU flag". */
	reason: string;
}

/** An error written for people: what failed, what was last seen, what to try. */
export interface Failure {
	what: string;
	lastSeen?: string[];
	hint?: string;
	logPath?: string;
}

export interface StepSummary {
	name: string;
	title: string;
	ok: boolean;
	ms: number;
	detail?: string;
}

export interface MilestoneSummary {
	milestone: string;
	ok: boolean;
	accel?: Accel;
	steps: StepSummary[];
	/** Milestone-specific figures, e.g. bootMs for boot, counters for virtio-blk. */
	[figure: string]: unknown;
}

/** One virtqueue as the host (QEMU) sees it, with rates derived from successive samples. */
export interface QueueView {
	index: number;
	name?: string;
	/** vring-num: descriptors in the ring. */
	size: number;
	/** shadow-avail-idx: the avail index the device last read from the guest's ring. */
	availIdx: number;
	/** last-avail-idx: the next avail entry the device will pop. */
	lastAvailIdx: number;
	usedIdx: number;
	signalledUsed: number;
	/** Requests popped but not yet pushed back (QEMU's inuse). */
	inFlight: number;
	/** Per second over the last sample interval; kicks/interrupts only where traced. */
	rates: {requests: number; kicks?: number; interrupts?: number};
	/** Totals since sampling started (16-bit index wraps accounted for). */
	totals: {requests: number; kicks?: number; interrupts?: number};
	/** Recent request rates, oldest first, for a sparkline. */
	history: number[];
	/** "Look inside the ring": the newest descriptor chain, fetched only while the learner looks. */
	ring?: RingChain;
}

export interface RingChain {
	/** Avail ring position of the chain. */
	position: number;
	/** Descriptor-table index of its head. */
	head: number;
	/** Still waiting for the device (true) or already completed (false). */
	pending: boolean;
	descriptors: {addr: string; len: number; flags: string[]}[];
}

export interface DeviceView {
	/** QOM path, e.g. /machine/peripheral-anon/device[0]/virtio-backend */
	path: string;
	/** e.g. "virtio-blk" */
	name: string;
	/** Decoded status bits, e.g. ["ACKNOWLEDGE","DRIVER","FEATURES_OK","DRIVER_OK"]. */
	status: string[];
	/** Negotiated features, decoded names, e.g. ["VIRTIO_RING_F_EVENT_IDX", ...]. */
	features: string[];
	queues: QueueView[];
}

/** The guest's own view, read over a side channel that never touches the learner's console. */
export interface GuestView {
	/** /proc/interrupts lines for virtio, name -> count. */
	interrupts: Record<string, number>;
	/** /sys/block/<dev>/inflight: reads and writes in flight. */
	inflight?: Record<string, {reads: number; writes: number}>;
}

export type RunEvent =
	| {type: 'milestone-started'; milestone: string; title: string; steps: {name: string; title: string}[]}
	| {type: 'accel'; choice: AccelChoice}
	| {type: 'step-started'; step: string; title: string}
	| {type: 'progress'; step: string; fraction: number; label: string; estimated: boolean}
	| {type: 'log'; step: string; line: string}
	| {type: 'waiting'; step: string; what: string; elapsedMs: number; timeoutMs: number}
	| {type: 'verified'; step: string; detail: string; ms: number}
	| {type: 'failed'; step: string; failure: Failure; ms: number}
	| {type: 'vm-started'; pid: number; runDir: string; accel: Accel}
	/** One finished line of the serial console, ANSI stripped (for logs and --json). */
	| {type: 'console-line'; line: string}
	/** The console as a terminal screen (rows of text), throttled; for the TUI's console pane. */
	| {type: 'console-screen'; rows: string[]; cursor: {x: number; y: number}}
	| {type: 'vm-stopped'; exitCode: number | null; reason: string}
	| {type: 'virtio'; devices: DeviceView[]; guest?: GuestView; at: number}
	| {type: 'milestone-finished'; summary: MilestoneSummary};

export type Emit = (event: RunEvent) => void;
