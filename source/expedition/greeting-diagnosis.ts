import {LabError} from '../lab/lab-error.js';
import {idxDelta} from '../lab/virtio/wrap.js';
import {withTodoPointer} from './exercise-failure.js';
import {helloDevices} from './hello-devices.js';
import {guest} from './shell.js';
import type {StepContext} from './types.js';

/** Seconds a greeting may take before it counts as lost (a round trip takes milliseconds). */
export const greetingTimeoutS = 5;

/** busybox timeout -s KILL: the client was killed, so the request never came back. */
const killedStatus = 137;

/** The device the milestone starts (-device virtio-hello-pci,id=hello0). */
const deviceId = 'hello0';

/** Where one request stands, from both ends: the driver's sysfs counters and QEMU's (QMP). */
export interface RequestCounts {
	/** The driver's stats/: requests queued, completed, interrupts taken. */
	driver?: {requests: number; completed: number; interrupts: number};
	/**
	 * The device's view: the kicks it counted, the next avail entry it will pop (its last avail
	 * index) and its used index.
	 */
	device?: {kicks?: number; lastAvailIdx: number; usedIdx: number};
}

/** The counts now; either end may be missing (no driver bound, the panel off). */
export async function requestCounts(ctx: StepContext): Promise<RequestCounts> {
	const {output, status} = await guest(
		ctx,
		'cd /sys/bus/virtio/drivers/virtio_hello/virtio*/stats && grep . requests completed interrupts',
	);
	const values = Object.fromEntries(
		output
			.split('\n')
			.map(line => line.split(':'))
			.map(([name, value]) => [name, Number(value)]),
	) as Record<string, number>;
	const driver =
		status === 0
			? {requests: values.requests!, completed: values.completed!, interrupts: values.interrupts!}
			: undefined;
	const queue = (await helloDevices(ctx))[0]?.queues[0];
	const kicks = await ctx.session.panel?.qomGet<number>(deviceId, 'kicks');
	const device = queue ? {kicks, lastAvailIdx: queue.lastAvailIdx, usedIdx: queue.usedIdx} : undefined;
	return {driver, device};
}

const kicksSaid = (n: number) => (n === 1 ? ' once' : n > 1 ? ` ${n} times` : '');

/** The driver's and the device's counts before and after, as lines for a failure's last-seen. */
export function describeCounts(before: RequestCounts, after: RequestCounts): string[] {
	const lines: string[] = [];
	const [b, a] = [before.driver, after.driver];
	if (b && a)
		lines.push(
			`driver (sysfs stats): requests ${b.requests} → ${a.requests}, interrupts ${b.interrupts} → ${a.interrupts}, completed ${b.completed} → ${a.completed}`,
		);
	const [bd, ad] = [before.device, after.device];
	if (bd && ad)
		lines.push(
			`device (QMP): kicks ${bd.kicks ?? '?'} → ${ad.kicks ?? '?'}, last avail index ${bd.lastAvailIdx} → ${ad.lastAvailIdx}, used index ${bd.usedIdx} → ${ad.usedIdx}`,
		);
	return lines;
}

/**
 * Why a greeting failed, from where the request stopped on its way: never queued (the driver's
 * requests count did not move), queued but no kick reached the device (its kick count did not
 * move), kicked but never popped (its last avail index did not move), refused (a non-OK status),
 * answered but no interrupt came (the used index moved, the driver's interrupt count did not),
 * or interrupted but never completed. Each has a symptom name the exercise data maps to a TODO.
 */
export async function greetingFailure(
	ctx: StepContext,
	command: string,
	before: RequestCounts,
	result: {output: string; status: number},
	timeoutS = greetingTimeoutS,
): Promise<LabError> {
	const after = await requestCounts(ctx);
	const dmesg = (await guest(ctx, 'dmesg | tail -n 6')).output.split('\n');
	const timedOut = result.status === killedStatus;
	const how = timedOut
		? `\`${command}\` got no answer within ${timeoutS} s`
		: `\`${command}\` failed (status ${result.status}: ${result.output.trim() || 'no output'})`;
	const lastSeen = [...describeCounts(before, after), '--- dmesg:', ...dmesg];
	const fail = (why: string, symptom?: string) => new LabError({what: `${how}: ${why}`, lastSeen, symptom});
	const [b, a] = [before.driver, after.driver];
	if (!b || !a) return fail('the driver has no statistics in sysfs (is virtio_hello bound?).');
	if (a.requests === b.requests)
		return fail(`the driver queued no request (its requests count stayed at ${a.requests}).`, 'not-queued');
	const refused = /device status (\d+) \((\w+)\)/.exec(result.output);
	if (refused) return fail(`the device answered with status ${refused[2]}, not OK.`, 'refused');
	if (!timedOut) return fail('see the lines below.');
	const [bd, ad] = [before.device, after.device];
	const answered = bd && ad ? idxDelta(bd.usedIdx, ad.usedIdx) : a.interrupts - b.interrupts;
	if (answered === 0 && bd && ad) {
		if (bd.kicks !== undefined && ad.kicks === bd.kicks)
			return fail(
				`the request is in the ring (the driver counted it) but no kick reached the device (its kick count stayed at ${ad.kicks}).`,
				'not-kicked',
			);
		if (idxDelta(bd.lastAvailIdx, ad.lastAvailIdx) === 0)
			return fail(
				`the device was kicked${kicksSaid((ad.kicks ?? 0) - (bd.kicks ?? 0))} but never popped the request: its last avail index stayed at ${ad.lastAvailIdx}.`,
				'not-popped',
			);
		return fail('the device popped the request but never pushed an answer to the used ring.', 'not-pushed');
	}
	// The driver took interrupts and completed nothing: its callback does not take answers back.
	// Under EVENT_IDX the device then asks for no more interrupts (the driver never moved
	// used_event past the first answer), so this request's missing interrupt is the same fault.
	if (answered > 0 && a.interrupts > 0 && a.completed === 0)
		return fail(
			`the device answered (used index +${answered}); the driver took ${a.interrupts} interrupt${a.interrupts === 1 ? '' : 's'} and never completed a request: its interrupt callback takes no answer back.`,
			'not-completed',
		);
	if (answered > 0 && a.interrupts === b.interrupts)
		return fail(
			`the device answered (used index +${answered}) but the guest got no interrupt (the driver's interrupt count stayed at ${a.interrupts}).`,
			'not-interrupted',
		);
	if (answered > 0 && a.completed === b.completed)
		return fail(
			`the device answered (used index +${answered}) and interrupted, but the driver never completed the request.`,
			'not-completed',
		);
	return fail('see the lines below.');
}

/** Where a request the driver queued stands while nothing came back, named by its symptom. */
function whereStuck(before: RequestCounts, now: RequestCounts): {what: string; symptom: string} | undefined {
	const [b, a, bd, ad] = [before.driver, now.driver, before.device, now.device];
	if (!b || !a || !bd || !ad || a.requests === b.requests || idxDelta(bd.usedIdx, ad.usedIdx) > 0) return undefined;
	if (bd.kicks !== undefined && ad.kicks === bd.kicks)
		return {
			what: `the driver queued your request, but no kick reached the device (its kick count stays at ${ad.kicks})`,
			symptom: 'not-kicked',
		};
	if (idxDelta(bd.lastAvailIdx, ad.lastAvailIdx) === 0)
		return {
			what: `the device was kicked${kicksSaid((ad.kicks ?? 0) - (bd.kicks ?? 0))} but has not popped your request (its last avail index stays at ${ad.lastAvailIdx})`,
			symptom: 'not-popped',
		};
	return {what: 'the device popped your request but has pushed no answer to the used ring', symptom: 'not-pushed'};
}

/**
 * Guided greet: while the learner's greeting has not come back, where it is stuck, once the same
 * symptom is seen on two checks in a row (a healthy round trip is over long before the next
 * check; one check could land inside it). With the learner's device copy, the TODO that does that
 * part. Undefined while nothing is stuck.
 */
export async function stuckGreeting(ctx: StepContext): Promise<string | undefined> {
	const now = await requestCounts(ctx);
	const before = (ctx.figures.greetCountsFrom ??= now) as RequestCounts;
	const stuck = whereStuck(before, now);
	const seenBefore = ctx.figures.greetStuck === stuck?.symptom;
	ctx.figures.greetStuck = stuck?.symptom;
	if (!stuck || !seenBefore) return undefined;
	return withTodoPointer(
		'virtio-hello',
		'greet',
		{what: `${stuck.what}.`, symptom: stuck.symptom},
		ctx.session.options.exerciseDirs,
	).what;
}

/**
 * A run of many requests that stopped part-way (`command` was killed after `timeoutS`). The case a
 * single greeting cannot show: the device answered every request it popped, nothing is in its
 * hands, and the driver queued more that the device never popped, because no kick came for them.
 * The driver kicked for the first ones, so its kick works: the device asked for no more kicks
 * while it drained (VRING_USED_F_NO_NOTIFY, or under EVENT_IDX an avail_event left behind: QEMU
 * moves it on only while notifications are on, hw/virtio/virtio.c: vring_set_avail_event) and
 * never asked again. Anything else is told as a greeting's failure is.
 */
export async function stalledRun(
	ctx: StepContext,
	command: string,
	before: RequestCounts,
	result: {output: string; status: number},
	timeoutS: number,
): Promise<LabError> {
	const after = await requestCounts(ctx);
	const [b, a, bd, ad] = [before.driver, after.driver, before.device, after.device];
	const queue = (await helloDevices(ctx))[0]?.queues[0];
	if (result.status === killedStatus && b && a && bd && ad && queue?.inFlight === 0) {
		const answered = idxDelta(bd.usedIdx, ad.usedIdx);
		const popped = idxDelta(bd.lastAvailIdx, ad.lastAvailIdx);
		const waiting = a.requests - b.requests - answered;
		const kicks =
			ad.kicks !== undefined && bd.kicks !== undefined ? {now: ad.kicks - bd.kicks, all: ad.kicks} : undefined;
		// Kicks reached the device before (the greeting's at least): the driver's kick works.
		if (popped === answered && waiting > 0 && kicks && kicks.all > 0)
			return new LabError({
				what:
					`\`${command}\` stopped and was killed after ${timeoutS} s: the driver queued ${waiting} request${waiting === 1 ? '' : 's'} that the device never popped, ` +
					`with ${kicks.now === 0 ? 'no kick' : `only ${kicks.now} kick${kicks.now === 1 ? '' : 's'}`} in this run (it answered the ${answered} it popped). ` +
					`Kicks reached it before (${kicks.all} in all), so the driver kicks: the device asked for no more kicks while it drained and never asked again. ` +
					'A drain loop turns notifications back on, and looks at the ring once more, before it stops.',
				lastSeen: describeCounts(before, after),
				symptom: 'stalled-unkicked',
			});
	}
	return greetingFailure(ctx, command, before, result, timeoutS);
}
