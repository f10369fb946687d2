// Counts virtqueue kicks (guest -> device notifications) and interrupts (device -> guest) from
// QEMU's trace output, read incrementally from the file QEMU writes with the "log" backend.
//
// What was measured (QEMU 7.2.22, Debian 12, TCG, Debian's 6.1 kernel as guest with virtio-blk-pci
// on a raw file and virtio-rng-pci; the guest read 50 x 4 KiB with O_DIRECT and 5 x 64 B of
// /dev/hwrng; command in the report and in test/lab/virtio/trace-counter.test.ts):
//
//   ioeventfd on (the default)            | ioeventfd off (-global virtio-blk-pci.ioeventfd=off ...)
//   virtio_pci_notify_write:  0           | 65: one per guest write to the notify register
//   virtio_queue_notify: blk 56, rng 12   | blk 54, rng 11: exactly one per guest kick
//   virtqueue_pop:       blk 54, rng 11   | blk 54, rng 11
//   virtio_notify_irqfd: blk 53           | 0
//   virtio_notify:       rng 11           | blk 53, rng 11
//   guest /proc/interrupts virtio0-req.0: 53 in both runs
//
// So:
// - Kicks: `virtio_queue_notify vdev P n N vq Q` fires in both modes. With ioeventfd off it is
//   called from the notify register's write handler: exactly one line per guest kick. With
//   ioeventfd on, the guest's write only signals an eventfd (under KVM QEMU never even sees the
//   write) and the line comes from the eventfd handler in QEMU's main loop: several kicks between
//   two wake-ups count once, and QEMU adds a wake-up of its own each time it (re)starts the
//   ioeventfd handler (virtio-blk: blk 56 = 54 requests + 2 starts). So with ioeventfd on, kicks
//   are "notifications QEMU handled", a close lower-or-equal approximation of guest kicks
//   plus a few host-made ones. `virtio_pci_notify_write` is exact for guest writes but carries no
//   device pointer (only the register offset and queue number): it is counted globally only.
// - Interrupts: `virtio_notify` (interrupt injected from the device's thread) and
//   `virtio_notify_irqfd` (through an irqfd: what virtio-blk uses when ioeventfd is on) fire only
//   after QEMU decided to interrupt (event-idx / NO_INTERRUPT suppression already applied). Their
//   sum per queue matched the guest's /proc/interrupts count exactly (53 = 53). True counts.
//
// Mapping pointers to QMP's view. Trace lines name devices by the address of their VirtIODevice
// ("vdev 0x...") and queues by the address of their VirtQueue ("vq 0x..."); QMP names devices by
// QOM path and never shows an address. What ties them:
// - exact: `virtio_queue_notify` carries vdev, queue number and vq together, so each vq pointer
//   seen there maps to (vdev, queue index); `virtio_notify*` carry (vdev, vq).
// - exact when the device type is unique: device-specific events name the device type with the
//   same pointer (`virtio_blk_* vdev 0x...`, `virtio_rng_* rng 0x...`: VirtIORNG starts with its
//   VirtIODevice, so the pointers are equal). If QMP lists exactly one device of that name, the
//   vdev is that path. Only blk and rng were checked; other devices rely on the next rule.
// - by correlation: `virtqueue_flush vq Q count C` advances the used index by C, and
//   `virtio_set_status vdev P val 0` precedes a reset that puts every index of the device back to
//   0. So the sum of flushes since the last reset, modulo 2^16, is the used-idx QMP reports. A
//   vdev is mapped to a path when, on two consecutive samples, its queues' sums equal that path's
//   used-idx values, nonzero, and no other unmapped device or path matches. This needs the flush
//   events on since the device's last reset (on from QEMU's start, or a reset seen inside a
//   counting window; countingSwitched tells the counter when they were off); it is an inference,
//   right in practice, not a guarantee (two devices with identical histories stay unmapped).
// - exact, by elimination: every vdev in the trace is a device QMP lists, so when one vdev and
//   one path are left unmapped they are the same device (virtio-blk next to named devices, or
//   alone). Wrong only if a device was unplugged after it traced; kernelcraft unplugs none.
// - Per-request events cost the guest (one line each, written from the vCPU thread): QEMU can
//   start with only the rare ones on (qemuTraceArgs(..., {counting: false})) and a panel switch
//   the rest on for a counting window (setCountingEvents).
// - exact, by name: kernelcraft's virtio-hello device (QEMU built by devices/qemu-build.sh) has
//   trace events of its own, `virtio_hello_*`, each naming the device first ("hello 0x..."; its
//   VirtIOHello starts with its VirtIODevice, so the pointer is the vdev). The rare ones,
//   `virtio_hello_dev_realize|status|reset`, also carry its QOM path, the path QMP lists, and
//   realize carries its one queue's pointer: `virtio_hello_dev_realize hello P vq Q path PATH`.
//   One such line binds P to PATH and Q to (P, queue 0) at once, with any number of devices, no
//   warm-up and no correlation. With the trace on from QEMU's start, realize is the first line.

import {open} from 'node:fs/promises';
import {StringDecoder} from 'node:string_decoder';
import {idx16} from './wrap.js';

// The event lists and switches live in trace-events.ts; still reachable from here.
export {
	countingTraceEvents,
	deviceTraceEvents,
	enableTraceEventsViaQmp,
	mappingTraceEvents,
	qemuTraceArgs,
	setCountingEvents,
	traceEvents,
} from './trace-events.js';

export interface TraceQueueCounts {
	vq: string;
	vdev?: string;
	/** Queue number, known once a virtio_queue_notify line named this vq. */
	index?: number;
	kicks: number;
	interrupts: number;
	/** Entries flushed to the used ring since the device's last reset (mod 2^16 = used-idx). */
	flushedSinceReset: number;
	/** All flushed entries. */
	flushed: number;
}

/** One queue as QMP sees it, for correlating trace pointers with QOM paths. */
export interface QueueCorrelationSample {
	path: string;
	name: string;
	index: number;
	usedIdx: number;
}

interface VqState {
	vq: string;
	vdev?: string;
	index?: number;
	kicks: number;
	interrupts: number;
	flushed: number;
	flushedSinceReset: number;
	/**
	 * flushedSinceReset counts every flush since the device's last reset: the flush events were on
	 * all that time. False after a stretch with counting off (the sum misses flushes then).
	 */
	flushKnown: boolean;
}

interface Candidate {
	path: string;
	confirmations: number;
}

/** Device-specific events that name their device type with the VirtIODevice pointer. */
const nameHints: {pattern: RegExp; name: string}[] = [
	{pattern: /^virtio_blk_\w+$/, name: 'virtio-blk'},
	{pattern: /^virtio_rng_\w+$/, name: 'virtio-rng'},
	{pattern: /^virtio_hello_\w+$/, name: 'virtio-hello'},
];

const linePattern = /^(?:\d+@\d+\.\d+:)?([a-z0-9_]+) (.*)$/;
const queueNotifyArgs = /^vdev (0x[0-9a-f]+) n (\d+) vq (0x[0-9a-f]+)/;
const notifyArgs = /^vdev (0x[0-9a-f]+) vq (0x[0-9a-f]+)/;
const flushArgs = /^vq (0x[0-9a-f]+) count (\d+)/;
const statusArgs = /^vdev (0x[0-9a-f]+) val (\d+)/;
const pciNotifyArgs = /^0x[0-9a-f]+ = (0x[0-9a-f]+)/;
const hintArgs = /^(?:vdev|rng|hello) (0x[0-9a-f]+)/;
const helloRealizeArgs = /^hello (0x[0-9a-f]+) vq (0x[0-9a-f]+) path (\S+)/;
const helloPathArgs = /^hello (0x[0-9a-f]+) path (\S+)/;

export interface TraceCounterOptions {
	/** Most bytes read per poll(), so a huge backlog is taken in slices. Default 8 MiB. */
	maxBytesPerPoll?: number;
	/**
	 * QEMU starts with the per-request events on (qemuTraceArgs' default). False when it starts
	 * with them off: flush sums are then unknown until a device reset seen with them on.
	 */
	countingFromStart?: boolean;
}

export class TraceCounter {
	/** Guest writes to a notify register seen by QEMU's handler (ioeventfd off only), by queue number. */
	readonly pciNotifyWrites = new Map<number, number>();
	/** Lines read and understood / lines with an event this counter does not use. */
	linesParsed = 0;
	linesIgnored = 0;

	private readonly logFile: string;
	private readonly maxBytes: number;
	private offset = 0;
	private remainder = '';
	private decoder = new StringDecoder('utf8');
	private polling: Promise<number> | undefined;
	private readonly vqs = new Map<string, VqState>();
	private readonly vdevQueues = new Map<string, Map<number, string>>();
	private readonly vdevHints = new Map<string, string>();
	private readonly vdevToPath = new Map<string, string>();
	private readonly pathToVdev = new Map<string, string>();
	private readonly candidates = new Map<string, Candidate>();
	/** vdev pointers whose path a device's own trace event gave. */
	private readonly named = new Set<string>();
	private readonly countingFromStart: boolean;
	/** Whether the per-request events are on at the point of the file read so far. */
	private counting: boolean;
	/** They were off at some point: flushes may be missing from every sum begun before. */
	private countingWasOff: boolean;
	/** Where in the file they were switched (countingSwitched), in file order, not yet reached. */
	private readonly switches: {offset: number; on: boolean}[] = [];
	/** Bumped at every switch the read passes: two reads in the same stretch saw the events on throughout. */
	private stretch = 0;

	constructor(logPath: string, options: TraceCounterOptions = {}) {
		this.logFile = logPath;
		this.maxBytes = options.maxBytesPerPoll ?? 8 << 20;
		this.countingFromStart = options.countingFromStart ?? true;
		this.counting = this.countingFromStart;
		this.countingWasOff = !this.countingFromStart;
	}

	/**
	 * The per-request events were switched on or off when the file was `offset` bytes long (its
	 * size right after setCountingEvents resolved: QEMU writes each line whole and flushes it).
	 * Lines before that offset were written in the old state. Only the flush sums need this: kicks
	 * and interrupts are counted whenever they are there.
	 */
	countingSwitched(on: boolean, offset: number): void {
		this.switches.push({offset, on});
		this.switches.sort((a, b) => a.offset - b.offset);
	}

	private applySwitches(upTo: number): void {
		while (this.switches.length > 0 && this.switches[0]!.offset <= upTo) {
			const {on} = this.switches.shift()!;
			this.counting = on;
			this.stretch++;
			if (!on) {
				this.countingWasOff = true;
				for (const state of this.vqs.values()) state.flushKnown = false;
			}
		}
	}

	get logPath(): string {
		return this.logFile;
	}

	/**
	 * Which unbroken stretch of counting the read has reached (undefined while the events are off
	 * there). When two polls end in the same stretch, every kick and interrupt between them is in
	 * the lines they read: a rate over that interval is true. A stretch that went off and on again
	 * in between is a new one. A switch is known from when countingSwitched is called, a moment after
	 * QEMU made it: a poll in that moment may count an interval as whole that lost its last
	 * millisecond or so (never more than a stat of the file).
	 */
	get countingStretch(): number | undefined {
		return this.counting ? this.stretch : undefined;
	}

	/**
	 * Reads what QEMU appended since the last call and counts it. Resolves with the number of
	 * lines read. A missing file reads as empty; a file that shrank (QEMU restarted with the same
	 * -D path) starts everything over. Calls do not overlap: a call during a poll joins it.
	 */
	poll(): Promise<number> {
		this.polling ??= this.readNew().finally(() => {
			this.polling = undefined;
		});
		return this.polling;
	}

	private async readNew(): Promise<number> {
		let handle;
		try {
			handle = await open(this.logFile, 'r');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
			throw error;
		}
		const before = this.linesParsed + this.linesIgnored;
		try {
			const {size} = await handle.stat();
			if (size < this.offset) this.reset();
			let budget = this.maxBytes;
			const buffer = Buffer.alloc(Math.min(1 << 20, Math.max(1, size - this.offset)));
			this.applySwitches(this.offset);
			while (this.offset < size && budget > 0) {
				// Never read across a switch: the lines before it are counted in the old state.
				const stopAt = this.switches[0] && this.switches[0].offset < size ? this.switches[0].offset : size;
				const want = Math.min(buffer.length, stopAt - this.offset, budget);
				const {bytesRead} = await handle.read(buffer, 0, want, this.offset);
				if (bytesRead === 0) break;
				this.offset += bytesRead;
				budget -= bytesRead;
				this.feed(this.decoder.write(buffer.subarray(0, bytesRead)));
				this.applySwitches(this.offset);
			}
		} finally {
			await handle.close();
		}
		return this.linesParsed + this.linesIgnored - before;
	}

	/** Counts a piece of trace output (any split: an unfinished last line waits for the rest). */
	feed(text: string): void {
		const data = this.remainder + text;
		const lines = data.split('\n');
		this.remainder = lines.pop() ?? '';
		for (const line of lines) this.line(line.trimEnd());
	}

	/** Forgets everything: counts, mappings, file position. */
	reset(): void {
		this.offset = 0;
		this.remainder = '';
		this.decoder = new StringDecoder('utf8');
		this.vqs.clear();
		this.vdevQueues.clear();
		this.vdevHints.clear();
		this.vdevToPath.clear();
		this.pathToVdev.clear();
		this.candidates.clear();
		this.named.clear();
		this.pciNotifyWrites.clear();
		this.switches.length = 0;
		this.counting = this.countingFromStart;
		this.countingWasOff = !this.countingFromStart;
		this.stretch++;
	}

	/** Every queue seen in the trace so far. */
	queues(): TraceQueueCounts[] {
		return [...this.vqs.values()].map(s => ({...s}));
	}

	/**
	 * How a vdev pointer was mapped to its path: 'named' when the device's own trace events said
	 * (virtio-hello), otherwise a name hint or used-idx correlation. Undefined while unmapped.
	 */
	mappedBy(path: string): 'named' | 'inferred' | undefined {
		const vdev = this.pathToVdev.get(path);
		if (!vdev) return undefined;
		return this.named.has(vdev) ? 'named' : 'inferred';
	}

	/** The QOM path a vdev pointer was mapped to, if any. */
	pathOf(vdev: string): string | undefined {
		return this.vdevToPath.get(vdev);
	}

	/** Maps a vdev pointer to a QOM path by hand (e.g. from knowledge the caller has). */
	bind(vdev: string, path: string): void {
		this.named.delete(vdev);
		const oldPath = this.vdevToPath.get(vdev);
		if (oldPath) this.pathToVdev.delete(oldPath);
		const oldVdev = this.pathToVdev.get(path);
		if (oldVdev) this.vdevToPath.delete(oldVdev);
		this.vdevToPath.set(vdev, path);
		this.pathToVdev.set(path, vdev);
		this.candidates.delete(vdev);
	}

	/** Counts of queue `index` of the device at `path`, once the mapping is known. */
	countsFor(path: string, index: number): TraceQueueCounts | undefined {
		const vdev = this.pathToVdev.get(path);
		if (!vdev) return undefined;
		const vq = this.vdevQueues.get(vdev)?.get(index);
		const state = vq ? this.vqs.get(vq) : undefined;
		return state ? {...state} : undefined;
	}

	/**
	 * Tries to map still-unmapped vdev pointers to QOM paths using the current QMP view (see the
	 * comment at the top of this file). Cheap; call it after every sample.
	 */
	correlate(samples: readonly QueueCorrelationSample[]): void {
		const byPath = new Map<string, {name: string; used: Map<number, number>}>();
		for (const s of samples) {
			let entry = byPath.get(s.path);
			if (!entry) byPath.set(s.path, (entry = {name: s.name, used: new Map()}));
			entry.used.set(s.index, idx16(s.usedIdx));
		}
		const freePaths = [...byPath.keys()].filter(p => !this.pathToVdev.has(p));

		// 1. name hints: exact when the device type is unique among QMP's devices
		for (const [vdev, name] of this.vdevHints) {
			if (this.vdevToPath.has(vdev)) continue;
			const sameName = [...byPath].filter(([, e]) => e.name === name);
			const sameHint = [...this.vdevHints.values()].filter(n => n === name);
			if (sameName.length === 1 && sameHint.length === 1 && !this.pathToVdev.has(sameName[0]![0])) {
				this.bind(vdev, sameName[0]![0]);
			}
		}

		// 2. by elimination: every vdev in the trace is a device QMP lists (while none is unplugged),
		// so when one vdev and one path are left unmapped, they are the same device. Exact; this is
		// what maps virtio-blk when the trace starts with the per-request events off.
		const unmappedVdevs = new Set(
			[...this.vqs.values(), ...[...this.vdevHints.keys()].map(vdev => ({vdev}))]
				.map(state => state.vdev)
				.filter((vdev): vdev is string => vdev !== undefined && !this.vdevToPath.has(vdev)),
		);
		const leftPaths = [...byPath.keys()].filter(p => !this.pathToVdev.has(p));
		if (unmappedVdevs.size === 1 && leftPaths.length === 1) this.bind([...unmappedVdevs][0]!, leftPaths[0]!);

		// 3. used-idx correlation, for devices whose flush sums are complete
		const matches = new Map<string, string[]>(); // vdev -> matching free paths
		for (const [vdev, queues] of this.vdevQueues) {
			if (this.vdevToPath.has(vdev)) continue;
			if ([...queues.values()].some(vq => this.vqs.get(vq)?.flushKnown === false)) continue;
			const found: string[] = [];
			for (const path of freePaths) {
				if (this.pathToVdev.has(path)) continue;
				const used = byPath.get(path)!.used;
				let nonzero = false;
				let all = true;
				for (const [index, vq] of queues) {
					const sum = idx16(this.vqs.get(vq)?.flushedSinceReset ?? 0);
					if (used.get(index) !== sum) {
						all = false;
						break;
					}
					if (sum !== 0) nonzero = true;
				}
				if (all && nonzero) found.push(path);
			}
			matches.set(vdev, found);
		}
		for (const [vdev, found] of matches) {
			const path = found.length === 1 ? found[0]! : undefined;
			const contested = path !== undefined && [...matches].some(([other, f]) => other !== vdev && f.includes(path));
			if (!path || contested) {
				this.candidates.delete(vdev);
				continue;
			}
			const previous = this.candidates.get(vdev);
			const confirmations = previous?.path === path ? previous.confirmations + 1 : 1;
			if (confirmations >= 2) this.bind(vdev, path);
			else this.candidates.set(vdev, {path, confirmations});
		}
	}

	/** A virtio-hello device was realized: its pointer, its queue's, its path; all fresh. */
	private helloRealized(vdev: string, vq: string, path: string): void {
		for (const queues of this.vdevQueues.values()) {
			for (const [index, q] of queues) if (q === vq) queues.delete(index);
		}
		this.vdevQueues.delete(vdev);
		this.vqs.delete(vq);
		this.attach(this.vq(vq), vdev, 0);
		this.helloNamed(vdev, path);
	}

	private helloNamed(vdev: string, path: string): void {
		this.vdevHints.set(vdev, 'virtio-hello');
		if (this.vdevToPath.get(vdev) !== path) this.bind(vdev, path);
		this.named.add(vdev);
	}

	private vq(vq: string): VqState {
		let state = this.vqs.get(vq);
		if (!state)
			this.vqs.set(
				vq,
				(state = {vq, kicks: 0, interrupts: 0, flushed: 0, flushedSinceReset: 0, flushKnown: !this.countingWasOff}),
			);
		return state;
	}

	private attach(state: VqState, vdev: string, index?: number): void {
		state.vdev ??= vdev;
		if (index !== undefined && state.index === undefined) {
			state.index = index;
			let queues = this.vdevQueues.get(vdev);
			if (!queues) this.vdevQueues.set(vdev, (queues = new Map()));
			queues.set(index, state.vq);
		}
	}

	private line(line: string): void {
		const m = linePattern.exec(line);
		if (!m) {
			if (line) this.linesIgnored++;
			return;
		}
		const event = m[1]!;
		const args = m[2]!;
		let a: RegExpExecArray | null;
		switch (event) {
			case 'virtio_queue_notify':
				if ((a = queueNotifyArgs.exec(args))) {
					const state = this.vq(a[3]!);
					this.attach(state, a[1]!, Number(a[2]));
					state.kicks++;
					this.linesParsed++;
					return;
				}
				break;
			case 'virtio_notify':
			case 'virtio_notify_irqfd':
				if ((a = notifyArgs.exec(args))) {
					const state = this.vq(a[2]!);
					this.attach(state, a[1]!);
					state.interrupts++;
					this.linesParsed++;
					return;
				}
				break;
			case 'virtqueue_flush':
				if ((a = flushArgs.exec(args))) {
					const state = this.vq(a[1]!);
					const count = Number(a[2]);
					state.flushed += count;
					state.flushedSinceReset = idx16(state.flushedSinceReset + count);
					this.linesParsed++;
					return;
				}
				break;
			case 'virtio_set_status':
				if ((a = statusArgs.exec(args))) {
					if (Number(a[2]) === 0) {
						const vdev = a[1]!;
						for (const state of this.vqs.values())
							if (state.vdev === vdev) {
								state.flushedSinceReset = 0;
								state.flushKnown = this.counting;
							}
					}
					this.linesParsed++;
					return;
				}
				break;
			case 'virtio_pci_notify_write':
				if ((a = pciNotifyArgs.exec(args))) {
					const queue = Number.parseInt(a[1]!, 16);
					this.pciNotifyWrites.set(queue, (this.pciNotifyWrites.get(queue) ?? 0) + 1);
					this.linesParsed++;
					return;
				}
				break;
			case 'virtio_hello_dev_realize':
				if ((a = helloRealizeArgs.exec(args))) {
					this.helloRealized(a[1]!, a[2]!, a[3]!);
					this.linesParsed++;
					return;
				}
				break;
			case 'virtio_hello_dev_status':
			case 'virtio_hello_dev_reset':
				if ((a = helloPathArgs.exec(args))) {
					this.helloNamed(a[1]!, a[2]!);
					this.linesParsed++;
					return;
				}
				break;
			default: {
				const hint = nameHints.find(h => h.pattern.test(event));
				if (hint && (a = hintArgs.exec(args))) {
					this.vdevHints.set(a[1]!, hint.name);
					this.linesParsed++;
					return;
				}
			}
		}
		this.linesIgnored++;
	}
}
