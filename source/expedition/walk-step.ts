import {GdbSession} from '../lab/debug/gdb-session.js';
import {ptraceBlocker, qemuGdbCommand} from '../lab/debug/gdb.js';
import {LabError} from '../lab/lab-error.js';
import {GuestDebugger} from '../lab/debug/guest-debugger.js';
import {lessonFileOf, lessons} from './compose.js';
import {fillText} from './lesson-content.js';
import {followOneRequest, walkBreakpoints, type WalkStop} from './request-walk.js';
import {deviceGreeting} from './virtio-hello.js';
import type {StepContext, StepLogic, TaskState} from './types.js';

/**
 * The virtio-hello milestone's gdb step (kernelcraft --debug): one request followed from the
 * driver that queues it, into the QEMU device that answers it, back to the driver's callback.
 * Guided, the learner catches the request in their own driver with the gdb pane; kernelcraft
 * then attaches a second gdb to QEMU and follows it across. The panel shows the queue's indices
 * at each stop.
 */

/** How long one stop may take to come: TCG on a busy 2-core machine is slow, gdb slower. */
const stopTimeoutMs = 180_000;

export const walkStep: StepLogic = {
	id: 'walk',
	async run(ctx) {
		const gdb = await kernelGdbOf(ctx);
		try {
			return await follow(ctx, gdb.session, true);
		} finally {
			await gdb.release();
		}
	},
	task: {
		hostOnly: true,
		async check(ctx) {
			return caughtIn(ctx.debugger?.active === true, ctx.debugger?.breakpointFunction);
		},
		async then(ctx, done) {
			ctx.emit({type: 'log', step: ctx.step, line: done});
			const gdb = await ctx.debugger!.attached();
			return follow(ctx, gdb, false);
		},
	},
	predict: {
		actual: figures => figures.walkBuffers as number | undefined,
	},
};

/** The guided check: has the learner's gdb stopped the driver in vh_queue? Pure. */
export function caughtIn(attached: boolean, breakpoint: string | undefined): TaskState {
	if (!attached) return {done: false, missing: 'gdb is not attached: press g.'};
	if (breakpoint === undefined)
		return {
			done: false,
			missing: 'gdb is attached and the guest runs: set `break vh_queue` in the gdb pane, then greet the device.',
		};
	if (breakpoint !== walkBreakpoints.driverQueue)
		return {done: false, missing: `gdb holds the guest at a breakpoint in ${breakpoint}, not vh_queue: c lets it go.`};
	return {done: true, detail: 'you stopped the driver in vh_queue, with your own request in hand'};
}

/** The kernel's gdb: the pane's (TUI), or one of the step's own (headless), released after. */
async function kernelGdbOf(ctx: StepContext): Promise<{session: GdbSession; release: () => Promise<void>}> {
	const pane = ctx.debugger;
	if (pane) return {session: await pane.attached(), release: async () => undefined};
	// Headless: its own, whose pane output nobody reads (the stops are logged instead).
	const own = new GuestDebugger(ctx.session, event => {
		if (event.type !== 'gdb') ctx.emit(event);
	});
	return {session: await own.attached(), release: () => own.dispose()};
}

/**
 * Follows one request with the kernel's gdb and one on QEMU. `send`: kernelcraft sends the
 * greeting itself (demo); otherwise the learner's gdb already holds their request in vh_queue,
 * and each stop of the driver waits for the learner to continue (c in the pane).
 */
async function follow(ctx: StepContext, kernelGdb: GdbSession, send: boolean): Promise<string> {
	const vm = ctx.session.vm;
	if (!vm?.running) throw new LabError({what: 'No VM is running to follow a request in.'});
	const blocker = ptraceBlocker();
	if (blocker) throw new LabError({what: 'gdb cannot attach to QEMU here.', hint: blocker});
	ctx.emit({type: 'log', step: ctx.step, line: `attaching gdb to QEMU (pid ${vm.pid}) for the device's side`});
	const qemuGdb = new GdbSession({argv: qemuGdbCommand({qemu: vm.commandLine[0]!, pid: vm.pid})});
	const holder = ctx.debugger;
	try {
		await qemuGdb.ready;
		// Handed over (d) while the learner's gdb held the guest somewhere: it runs on first, so
		// the walk's first stop is the request kernelcraft sends.
		if (send && kernelGdb.stopped) kernelGdb.continue();
		const {stops, answer} = await followOneRequest({
			kernelGdb,
			qemuGdb,
			...(send
				? {send: () => vm.checks.run(`hello-client greet Ada`, {timeoutMs: stopTimeoutMs * 3})}
				: {resume: (gdb, stop) => learnerContinues(ctx, gdb, stop)}),
			say: stop => sayStop(ctx, stop),
			qemuHeld: held => holder?.hold(held, 'gdb on QEMU'),
			timeoutMs: stopTimeoutMs,
			signal: ctx.signal,
		});
		return proof(ctx, stops, answer);
	} catch (error) {
		if (error instanceof LabError || (error as Error).name === 'AbortError') throw error;
		throw new LabError({
			what: `Following the request stopped: ${(error as Error).message.split('\n')[0]}`,
			hint: "The gdb pane (g) shows what the guest kernel's gdb last said; run the milestone again to start over.",
			lastSeen: qemuGdb.transcript.split('\n').slice(-8),
		});
	} finally {
		await qemuGdb.dispose();
		holder?.hold(false, 'gdb on QEMU');
	}
}

/** Guided: the driver goes on when the learner says so (c in the pane), or at once after `d`. */
async function learnerContinues(ctx: StepContext, gdb: GdbSession, stop: WalkStop): Promise<void> {
	const next = fillText(
		lessons(lessonFileOf('virtio-hello')),
		stop.n === 1 ? 'walk-on-to-device' : 'walk-on-to-driver',
	);
	ctx.emit({type: 'task', step: ctx.step, ask: next});
	while (gdb.stopped && gdb.running) {
		if (ctx.signal.aborted) throw Object.assign(new Error('Cancelled.'), {name: 'AbortError'});
		if (!ctx.guided?.()) {
			gdb.continue();
			return;
		}
		await new Promise(resolve => setTimeout(resolve, 200));
	}
}

function sayStop(ctx: StepContext, stop: WalkStop): void {
	ctx.emit({
		type: 'walk-stop',
		step: ctx.step,
		n: stop.n,
		side: stop.side,
		where: stop.where,
		...(stop.indices ? {indices: stop.indices} : {}),
		...(stop.descriptor ? {descriptor: stop.descriptor} : {}),
	});
	ctx.emit({type: 'log', step: ctx.step, line: `── stop ${stop.n}: the ${stop.side} in ${stop.where} ──`});
	for (const line of stop.printed.trim().split('\n')) ctx.emit({type: 'log', step: ctx.step, line});
}

/** The step's proof: three stops, in order, one descriptor address on both sides. */
function proof(ctx: StepContext, stops: WalkStop[], answer: {output: string; status: number} | undefined): string {
	const [queued, handled, reaped] = stops;
	if (!queued || !handled || !reaped) throw new LabError({what: `The walk stopped ${stops.length} times, not 3.`});
	if (!queued.descriptor || queued.descriptor !== handled.descriptor)
		throw new LabError({
			what: `The driver queued descriptor 0 at ${queued.descriptor ?? '(not read)'}, but QEMU popped ${handled.descriptor ?? '(not read)'}.`,
			lastSeen: [...queued.printed.trim().split('\n').slice(-4), ...handled.printed.trim().split('\n').slice(-4)],
		});
	if (handled.buffers !== undefined) ctx.figures.walkBuffers = handled.buffers;
	ctx.figures.walkDescriptor = queued.descriptor;
	if (answer) {
		const expected = `Hello, Ada! from ${deviceGreeting}`;
		if (answer.status !== 0 || answer.output.trim() !== expected)
			throw new LabError({what: `After the walk the device answered "${answer.output.trim()}", not "${expected}".`});
	}
	return `driver queued descriptor 0 at ${queued.descriptor}; QEMU popped the same address in ${handled.buffers ?? '?'} buffers; vh_vq_done reaped it${answer ? ` and hello-client got "${answer.output.trim()}"` : ''}`;
}
