// Which of QEMU's trace events kernelcraft reads and how they are switched: the event lists (the
// per-request ones that counting needs, the rare ones that mapping needs, the device's own), the
// -D/-trace arguments for QEMU's command line, and the QMP calls that turn events on and off while
// the VM runs. What the events mean and how they are counted is in trace-counter.ts.

import type {QmpLike} from '../vm/qmp.js';

/** The events the counter reads, in the order given to QEMU. */
export const traceEvents = [
	'virtio_queue_notify',
	'virtio_notify',
	'virtio_notify_irqfd',
	'virtqueue_flush',
	'virtio_set_status',
	'virtio_pci_notify_write',
	// cheap name hint: once per VM start/stop, carries the virtio-rng pointer
	'virtio_rng_vm_state_change',
] as const;

/**
 * The events that fire per request and that counting needs (kicks, interrupts, flushes): the
 * trace's whole cost, a line each written by the vCPU thread. A panel turns them on only inside
 * a counting window (PanelFeed.countKicks) or while someone watches the counters live; QEMU then
 * starts with them off (qemuTraceArgs(..., {counting: false})).
 */
export const countingTraceEvents = [
	'virtio_queue_notify',
	'virtio_notify',
	'virtio_notify_irqfd',
	'virtqueue_flush',
] as const satisfies readonly (typeof traceEvents)[number][];

/**
 * The rare events (status changes, name hints), on for the VM's whole life with counting off.
 * virtio_pci_notify_write is neither: one more line per kick, counted globally only and read by
 * nothing in the app, it is on only when QEMU starts with every event (the default).
 */
export const mappingTraceEvents = [
	'virtio_set_status',
	'virtio_rng_vm_state_change',
] as const satisfies readonly (typeof traceEvents)[number][];

/**
 * Device events the counter also reads: a pattern, so a QEMU without the device (Debian's)
 * accepts it silently. Only virtio-hello's rare events (realize, status, reset), never its
 * per-request ones. The default `extraEvents` of qemuTraceArgs and enableTraceEventsViaQmp.
 */
export const deviceTraceEvents = ['virtio_hello_dev_*'] as const;

/**
 * Arguments for QEMU's command line: `-D logPath -trace EVENT ...` (log backend): traceEvents, then
 * `extraEvents` (by default deviceTraceEvents; a caller giving its own should include them).
 * With `counting: false` the per-request events (countingTraceEvents) are left out, so QEMU starts
 * with them disabled and writes nothing per request until setCountingEvents turns them on (an
 * event not named by -trace is compiled in but off; QMP trace-event-set-state switches it).
 * `counting: true`: counting and mapping events only (no virtio_pci_notify_write).
 */
export function qemuTraceArgs(
	logPath: string,
	extraEvents: readonly string[] = deviceTraceEvents,
	options: {counting?: boolean} = {},
): string[] {
	const args = ['-D', logPath];
	const events =
		options.counting === undefined
			? traceEvents
			: options.counting
				? [...countingTraceEvents, ...mappingTraceEvents]
				: mappingTraceEvents;
	for (const event of [...events, ...extraEvents]) args.push('-trace', event);
	return args;
}

/**
 * Turns the per-request events (countingTraceEvents) on or off at run time (QMP
 * trace-event-set-state, all sent at once on the one connection). When it resolves QEMU has switched them: the vCPU thread runs a
 * device's notify handler under the same lock as QMP commands, so a kick after this is traced and
 * one before it is not.
 */
export async function setCountingEvents(qmp: QmpLike, enable: boolean): Promise<void> {
	await Promise.all(
		countingTraceEvents.map(name => qmp.execute('trace-event-set-state', {name, enable, 'ignore-unavailable': true})),
	);
}

/**
 * Switches the events on at run time over QMP. The output goes to QEMU's log file, which must
 * have been set with -D at start (otherwise QEMU writes the lines to its stderr). Resets before
 * this call were not seen, so only exact mappings and name hints will work, not correlation.
 */
export async function enableTraceEventsViaQmp(
	qmp: QmpLike,
	extraEvents: readonly string[] = deviceTraceEvents,
): Promise<void> {
	for (const name of [...traceEvents, ...extraEvents]) {
		await qmp.execute('trace-event-set-state', {name, enable: true, 'ignore-unavailable': true});
	}
}
