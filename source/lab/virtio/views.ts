// The virtqueue panel's data: what the sampler reads from QEMU and the guest, as plain data.

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
	/**
	 * signalled-used: the used index when QEMU last decided whether to interrupt the guest. QEMU
	 * keeps it only on a queue with VIRTIO_RING_F_EVENT_IDX (hw/virtio/virtio.c:
	 * virtio_split_should_notify); without it the flag alone decides and this stays 0.
	 */
	signalledUsed: number;
	/** signalled-used-valid: QEMU has made that decision since the last reset (EVENT_IDX only). */
	signalledUsedValid?: boolean;
	/** Requests popped but not yet pushed back (QEMU's inuse). */
	inFlight: number;
	/**
	 * Per second over the last sample interval; kicks/interrupts only when the trace's per-request
	 * events were on for that whole interval (or, see ratesSampledAt, held from the last one that was).
	 */
	rates: {requests: number; kicks?: number; interrupts?: number};
	/**
	 * Set when kicks/interrupts in `rates` were not measured in this interval but in an earlier
	 * one (at this sample time, ms): the panel on screen traces in short windows, and between them
	 * shows the last rate measured, marked as such.
	 */
	ratesSampledAt?: number;
	/** Totals since sampling started (16-bit index wraps accounted for). */
	totals: {requests: number; kicks?: number; interrupts?: number};
	/**
	 * Requests, kicks and interrupts summed over the sample intervals that the trace covered whole:
	 * exact for those intervals, so kicks/requests is the kicks per request the windows saw.
	 */
	windowed?: {requests: number; kicks: number; interrupts: number};
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
