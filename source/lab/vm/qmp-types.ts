// Wire shapes of the QMP commands kernelcraft uses, as QEMU 7.2.22 (Debian 12) answers them.
// Checked against a real `qemu-system-x86_64 -S -nodefaults` with virtio-blk-pci and virtio-rng-pci,
// before and after a Linux guest drove the devices.
//
// Integers beyond Number.MAX_SAFE_INTEGER (descriptor addresses, some feature masks) arrive as
// bigint: the client parses them exactly instead of rounding (see parseQmpJson in qmp.ts).

/** A 64-bit value from QEMU: a number when it fits exactly in a double, else a bigint. */
export type U64 = number | bigint;

export interface QmpGreeting {
	QMP: {
		version: {qemu: {major: number; minor: number; micro: number}; package: string};
		capabilities: string[];
	};
}

export interface QmpEvent {
	event: string;
	data?: Record<string, unknown>;
	timestamp: {seconds: number; microseconds: number};
}

export interface QueryStatusResult {
	/** e.g. "prelaunch", "running", "paused", "shutdown". */
	status: string;
	running: boolean;
	singlestep?: boolean;
}

/** One entry of `x-query-virtio`. */
export interface VirtioInfo {
	/** e.g. "virtio-blk" */
	name: string;
	/** QOM path of the virtio backend, e.g. /machine/peripheral-anon/device[0]/virtio-backend */
	path: string;
}

/**
 * A decoded feature set. Each entry is "NAME: description", e.g.
 * "VIRTIO_RING_F_EVENT_IDX: Used & avail. event fields enabled". Bits QEMU cannot name are
 * summed into unknown-dev-features (absent when zero).
 */
export interface VirtioDeviceFeatures {
	transports: string[];
	'dev-features'?: string[];
	'unknown-dev-features'?: U64;
}

/** `x-query-virtio-status` (QEMU 7.2: status bits and features come decoded). */
export interface VirtioStatus {
	name: string;
	'device-id': number;
	'vhost-started': boolean;
	'device-endian': string;
	'guest-features': VirtioDeviceFeatures;
	'host-features': VirtioDeviceFeatures;
	'backend-features': VirtioDeviceFeatures;
	'num-vqs': number;
	/** Entries like "VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready"; empty before the driver. */
	status: {statuses: string[]; 'unknown-statuses'?: number};
	isr: number;
	'queue-sel': number;
	'vm-running': boolean;
	broken: boolean;
	disabled: boolean;
	'use-started': boolean;
	started: boolean;
	'start-on-kick': boolean;
	'disable-legacy-check': boolean;
	'bus-name': string;
	'use-guest-notifier-mask': boolean;
	'vhost-dev'?: Record<string, unknown>;
}

/** `x-query-virtio-queue-status`. All indices are free-running 16-bit counters. */
export interface VirtQueueStatus {
	name: string;
	'queue-index': number;
	inuse: number;
	'vring-num': number;
	'vring-num-default': number;
	'vring-align': number;
	'vring-desc': U64;
	'vring-avail': U64;
	'vring-used': U64;
	'last-avail-idx'?: number;
	'shadow-avail-idx'?: number;
	'used-idx': number;
	'signalled-used': number;
	'signalled-used-valid': boolean;
}

export interface VirtioRingDesc {
	addr: U64;
	len: number;
	/** e.g. ["next"], ["write", "next"], ["indirect"] */
	flags: string[];
}

/** `x-query-virtio-queue-element`. */
export interface VirtioQueueElement {
	name: string;
	/** The descriptor-table index of the chain's head. */
	index: number;
	/** QEMU 7.2 lists the chain tail first (it prepends while walking). */
	descs: VirtioRingDesc[];
	avail?: {flags: number; idx: number; ring: number};
	used?: {flags: number; idx: number};
}
