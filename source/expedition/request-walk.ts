import type {GdbSession} from '../lab/debug/gdb-session.js';

/**
 * The lesson that follows one virtio-hello request across the boundary with two gdbs: the guest
 * kernel's (through QEMU's gdbstub) and QEMU's own (gdb -p, QEMU built with -g).
 *
 * 1. The driver queues it: vh_queue() is the driver's function that calls virtqueue_add_sgs()
 *    (through vh_add(), inlined). Its scatterlist: the guest-physical address of each buffer,
 *    which is what virtqueue_add_sgs() writes into the descriptors.
 * 2. The device answers it: virtio_hello_handle_one() (inlined in virtio_hello_process()) fills
 *    the used element with virtqueue_fill(); the element virtqueue_pop() made from those
 *    descriptors holds the same guest-physical addresses (out_addr[]/in_addr[]), and out_sg[]/
 *    in_sg[] the host's mappings of them.
 * 3. The driver is told: vh_vq_done() is the virtqueue callback; the used element names the
 *    request (its head descriptor) and how many bytes the device wrote.
 *
 * At each stop the queue's indices, as the side that stopped sees them.
 */

/** Where each side stops; module symbols resolve once the driver is loaded (lx-symbols). */
export const walkBreakpoints = {
	driverQueue: 'vh_queue',
	// QEMU is built -O2: the device's virtio_hello_handle_one() is inlined and its arguments are
	// optimized out there. virtqueue_fill() is the virtio core's, called by that handler for the
	// element it answers: at its entry the element, its length and the queue are all in hand.
	deviceHandler: 'virtqueue_fill',
	driverCallback: 'vh_vq_done',
} as const;

/**
 * virtqueue_fill() answers for every virtio device in QEMU: the walk's breakpoint stops only when
 * virtio-hello's handler called it (gdb counts the inlined handler as a frame of its own).
 */
export const deviceHandlerCondition = '$_caller_is("virtio_hello_handle_one")';

/** Printed in the driver at vh_queue(): its scatterlist, the first buffer's address, the indices. */
export const driverQueueCommands = [
	'printf "out %u, in %u scatterlists\\n", out, in',
	'p *sgs[0]',
	// sg_phys(sgs[0]): its page's frame number (vmemmap) times the page size, plus the offset.
	'printf "descriptor 0: addr 0x%lx len %u\\n", ((sgs[0]->page_link & ~3UL) - vmemmap_base) / sizeof(struct page) * 4096 + sgs[0]->offset, sgs[0]->length',
	'printf "driver: avail idx %u, last used idx %u\\n", ((struct vring_virtqueue *)vh->vq)->split.avail_idx_shadow, ((struct vring_virtqueue *)vh->vq)->last_used_idx',
];

/** Printed in QEMU at virtqueue_fill(): who called it, the element it answers, the device's indices. */
export const deviceHandlerCommands = [
	'bt 2',
	'printf "element: head %u, %u out + %u in\\n", elem->index, elem->out_num, elem->in_num',
	'printf "descriptor 0: addr 0x%lx len %lu\\n", elem->out_addr[0], elem->out_sg[0].iov_len',
	'p elem->out_sg[0]',
	'printf "device: last avail idx %u, used idx %u; used len %u\\n", vq->last_avail_idx, vq->used_idx, len',
];

/** Printed in the driver at vh_vq_done(): the used element and the request's response. */
export const driverCallbackCommands = [
	'set $vvq = (struct vring_virtqueue *)vq',
	'set $used = $vvq->split.vring.used->ring[$vvq->last_used_idx % $vvq->split.vring.num]',
	'printf "used element: head %u, %u bytes written\\n", $used.id, $used.len',
	'p ((struct vh_req *)$vvq->split.desc_state[$used.id].data)->resp',
	'printf "driver: used idx %u, last used idx %u\\n", $vvq->split.vring.used->idx, $vvq->last_used_idx',
];

/** Queue indices as a stop printed them ("avail idx 3, last used idx 2"), for the panel. */
export interface WalkIndices {
	side: 'driver' | 'device';
	text: string;
}

export function indicesIn(output: string): WalkIndices | undefined {
	const match = /^(driver|device): (.*idx.*)$/m.exec(output);
	return match ? {side: match[1] as WalkIndices['side'], text: match[2]!} : undefined;
}

/** The first descriptor's guest-physical address as a stop printed it. */
export function descriptorAddress(output: string): string | undefined {
	return /^descriptor 0: addr (0x[0-9a-f]+)/m.exec(output)?.[1];
}

/** Runs commands one after the other at gdb's prompt; resolves with all they printed. */
export async function printAll(gdb: GdbSession, commands: readonly string[]): Promise<string> {
	let said = '';
	for (const command of commands) said += await gdb.command(command);
	return said;
}

/** One stop of the walk, as the side that stopped printed it. */
export interface WalkStop {
	/** 1: the driver queues it; 2: the device answers it; 3: the driver's callback reaps it. */
	n: 1 | 2 | 3;
	side: 'driver' | 'device';
	where: string;
	printed: string;
	/** The queue's indices as that side sees them ("avail idx 3, last used idx 2"). */
	indices?: string;
	/** Descriptor 0's guest-physical address (stops 1 and 2): the same number on both sides. */
	descriptor?: string;
	/** Stop 2: the buffers in QEMU's element (device-readable + device-writable). */
	buffers?: number;
}

export interface FollowOptions {
	/** gdb on the guest kernel, attached (GdbSession.ready). */
	kernelGdb: GdbSession;
	/** gdb on QEMU, attached and running. */
	qemuGdb: GdbSession;
	/**
	 * Sends the one request (e.g. `hello-client greet Ada` in the guest's check shell). Without
	 * it the kernel gdb already holds the driver in vh_queue with a request of the learner's.
	 */
	send?: () => Promise<{output: string; status: number}>;
	/** Each stop as it happens. */
	say: (stop: WalkStop) => void;
	/**
	 * Lets the driver go on from a stop (1 or 3): by default at once; guided, once the learner
	 * continues in the gdb pane.
	 */
	resume?: (gdb: GdbSession, stop: WalkStop) => Promise<void>;
	/** QEMU is held stopped by its gdb (true) or runs again: the guest is frozen meanwhile. */
	qemuHeld?: (held: boolean) => void;
	/** How long a stop may take to come (TCG on a busy machine is slow). */
	timeoutMs?: number;
	/** The run was cancelled (the learner quit): stop waiting for a stop. */
	signal?: AbortSignal;
}

/**
 * The whole lesson: the three stops in order, both targets left running and without the walk's
 * breakpoints at the end. Resolves with the stops and, when it sent the request, its answer.
 */
export async function followOneRequest(
	options: FollowOptions,
): Promise<{stops: WalkStop[]; answer?: {output: string; status: number}}> {
	const {kernelGdb, qemuGdb} = options;
	const timeoutMs = options.timeoutMs ?? 120_000;
	const stopped = (gdb: GdbSession) => waitFor(gdb, timeoutMs, options.signal);
	const resume =
		options.resume ??
		(async (gdb: GdbSession) => {
			gdb.continue();
		});
	const stops: WalkStop[] = [];
	const say = (stop: WalkStop) => {
		stops.push(stop);
		options.say(stop);
	};
	let answer: Promise<{output: string; status: number}> | undefined;
	if (options.send) {
		const queued = await kernelGdb.break(walkBreakpoints.driverQueue);
		if (!queued.set) throw new Error(queued.message);
	} else if (kernelGdb.breakpointFunction !== walkBreakpoints.driverQueue)
		throw new Error(`gdb does not hold the driver in ${walkBreakpoints.driverQueue}.`);
	const handled = await qemuGdb.break(walkBreakpoints.deviceHandler, {condition: deviceHandlerCondition});
	if (!handled.set) throw new Error(handled.message);
	if (options.send) {
		answer = options.send();
		// 1. The driver queues the request.
		await stopped(kernelGdb);
	}
	// Five frames reach the ioctl that brought the request in; the rest is the syscall entry.
	const queuedOutput = (await kernelGdb.command('backtrace 5')) + (await printAll(kernelGdb, driverQueueCommands));
	const first: WalkStop = {n: 1, side: 'driver', where: walkBreakpoints.driverQueue, printed: queuedOutput};
	addReadings(first);
	say(first);
	await kernelGdb.command(`clear ${walkBreakpoints.driverQueue}`);
	// The callback's breakpoint now, while the guest is stopped anyway: once QEMU has answered,
	// the guest takes the interrupt before gdb could stop it again.
	const callback = await kernelGdb.break(walkBreakpoints.driverCallback);
	if (!callback.set) throw new Error(callback.message);
	await resume(kernelGdb, first);
	// 2. The device pops it (QEMU stops; the guest with it).
	await stopped(qemuGdb);
	options.qemuHeld?.(true);
	try {
		const second: WalkStop = {
			n: 2,
			side: 'device',
			where: walkBreakpoints.deviceHandler,
			printed: await printAll(qemuGdb, deviceHandlerCommands),
		};
		addReadings(second);
		say(second);
		await qemuGdb.command('delete');
	} finally {
		qemuGdb.continue();
		options.qemuHeld?.(false);
	}
	// 3. The driver's callback reaps the used element.
	await stopped(kernelGdb);
	const third: WalkStop = {
		n: 3,
		side: 'driver',
		where: walkBreakpoints.driverCallback,
		printed: await printAll(kernelGdb, driverCallbackCommands),
	};
	addReadings(third);
	say(third);
	await kernelGdb.command(`clear ${walkBreakpoints.driverCallback}`);
	await resume(kernelGdb, third);
	return {stops, ...(answer ? {answer: await answer} : {})};
}

/** What a stop's printout says about the queue, put where the panel and the checks read it. */
function addReadings(stop: WalkStop): void {
	const indices = indicesIn(stop.printed);
	if (indices) stop.indices = indices.text;
	const descriptor = descriptorAddress(stop.printed);
	if (descriptor) stop.descriptor = descriptor;
	const element = /^element: head \d+, (\d+) out \+ (\d+) in$/m.exec(stop.printed);
	if (element) stop.buffers = Number(element[1]) + Number(element[2]);
}

/** Until gdb holds its target stopped; a gdb that exited or a cancelled run ends the wait at once. */
async function waitFor(gdb: GdbSession, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!gdb.stopped) {
		if (signal?.aborted) throw Object.assign(new Error('Cancelled.'), {name: 'AbortError'});
		if (!gdb.running) throw new Error('gdb exited before the target stopped');
		if (Date.now() > deadline) throw new Error(`no stop within ${timeoutMs / 1000} s`);
		await new Promise(resolve => setTimeout(resolve, 100));
	}
}
