import {LabError} from '../lab/lab-error.js';
import {idxDelta} from '../lab/virtio/wrap.js';
import {guest} from './shell.js';
import type {StepContext} from './types.js';
import {helloDevices} from './virtio-hello.js';

/** Seconds a greeting may take before it counts as lost (a round trip takes milliseconds). */
export const greetingTimeoutS = 5;

/** busybox timeout -s KILL: the client was killed, so the request never came back. */
const killedStatus = 137;

/** Where one request stands, from both ends: the driver's sysfs counters and QEMU's queue (QMP). */
export interface RequestCounts {
	/** The driver's stats/: requests queued, completed, interrupts taken. */
	driver?: {requests: number; completed: number; interrupts: number};
	/** The device's view: the avail index it last read from the ring, and its used index. */
	device?: {availIdx: number; usedIdx: number};
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
	const device = queue ? {availIdx: queue.availIdx, usedIdx: queue.usedIdx} : undefined;
	return {driver, device};
}

/**
 * Why a greeting failed, from where the request stopped: never queued (the driver's requests count
 * did not move), queued but never seen by the device (its avail index did not move: no kick),
 * answered but never completed (the used index moved, the driver's completed count did not).
 * Each has a symptom name the exercise data maps to its TODO.
 */
export async function greetingFailure(
	ctx: StepContext,
	command: string,
	before: RequestCounts,
	result: {output: string; status: number},
): Promise<LabError> {
	const after = await requestCounts(ctx);
	const dmesg = (await guest(ctx, 'dmesg | tail -n 6')).output.split('\n');
	const timedOut = result.status === killedStatus;
	const how = timedOut
		? `\`${command}\` got no answer within ${greetingTimeoutS} s`
		: `\`${command}\` failed (status ${result.status}: ${result.output.trim() || 'no output'})`;
	const lastSeen = [
		...(before.driver && after.driver
			? [
					`driver stats: requests ${before.driver.requests} → ${after.driver.requests}, completed ${before.driver.completed} → ${after.driver.completed}, interrupts ${before.driver.interrupts} → ${after.driver.interrupts}`,
				]
			: []),
		...(before.device && after.device
			? [
					`device (QMP): avail index ${before.device.availIdx} → ${after.device.availIdx}, used index ${before.device.usedIdx} → ${after.device.usedIdx}`,
				]
			: []),
		'--- dmesg:',
		...dmesg,
	];
	if (!before.driver || !after.driver) return new LabError({what: `${how}.`, lastSeen});
	const queued = after.driver.requests - before.driver.requests;
	const completed = after.driver.completed - before.driver.completed;
	const seen = before.device && after.device ? idxDelta(before.device.availIdx, after.device.availIdx) : undefined;
	const answered =
		before.device && after.device
			? idxDelta(before.device.usedIdx, after.device.usedIdx)
			: after.driver.interrupts - before.driver.interrupts;
	if (queued === 0)
		return new LabError({
			what: `${how}: the driver queued no request (its requests count stayed at ${after.driver.requests}), so nothing reached the ring.`,
			lastSeen,
			symptom: 'not-queued',
		});
	if (timedOut && answered === 0 && (seen ?? 0) === 0)
		return new LabError({
			what: `${how}: the request is in the ring (the driver counted it) but the device never looked${seen === undefined ? '' : ` (its avail index stayed at ${after.device!.availIdx})`}: no kick reached it.`,
			lastSeen,
			symptom: 'not-kicked',
		});
	if (timedOut && answered > 0 && completed === 0)
		return new LabError({
			what: `${how}: the device answered (used index +${answered}) and interrupted, but the driver never completed the request.`,
			lastSeen,
			symptom: 'not-completed',
		});
	return new LabError({what: `${how}.`, lastSeen});
}
