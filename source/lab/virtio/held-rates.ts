// Between two windows of a duty-cycled trace (duty-cycle.ts) the sampler gives no kick or
// interrupt rate: the trace counted nothing, which is not the same as nothing happening. The
// panel on screen keeps showing the last rate a window measured instead, marked with when it was
// measured (QueueView.ratesSampledAt), so the learner sees ≈ the last value, never a false 0.
// A held rate goes stale when the load changes (a 0 measured while idle, then a stream of reads):
// the request rate, exact in every sample, tells when, and then no rate is shown until the next
// window measures one. Opening a window early instead was tried: each of a stream's restarts
// (a dd per command) then got a window of its own, and in test/lab/virtio/live-trace.test.ts the
// events were on 16 % of the time instead of 10 %.

import type {DeviceView} from './views.js';

interface Measured {
	kicks?: number;
	interrupts?: number;
	/** The request rate of the interval the rates were measured in. */
	requests: number;
	at: number;
}

/**
 * The request rate moved too far from the one a held rate was measured at for that rate to stand
 * for now: more than twice or less than half, ignoring a trickle below 20 requests/s. Pure.
 */
export function rateMoved(measuredAt: number, now: number): boolean {
	if (Math.max(measuredAt, now) < 20) return false;
	return now > measuredAt * 2 || now < measuredAt / 2;
}

export class HeldRates {
	private readonly last = new Map<string, Measured>();

	/** Remembers the rates measured in this sample and fills in the last ones where none were. Pure but for the memory. */
	fill(devices: DeviceView[], at: number): DeviceView[] {
		return devices.map(device => ({
			...device,
			queues: device.queues.map(queue => {
				const key = `${device.path}#${queue.index}`;
				if (queue.rates.kicks !== undefined || queue.rates.interrupts !== undefined) {
					this.last.set(key, {
						kicks: queue.rates.kicks,
						interrupts: queue.rates.interrupts,
						requests: queue.rates.requests,
						at,
					});
					return queue;
				}
				const held = this.last.get(key);
				if (!held) return queue;
				if (rateMoved(held.requests, queue.rates.requests)) return queue;
				return {
					...queue,
					rates: {...queue.rates, kicks: held.kicks, interrupts: held.interrupts},
					ratesSampledAt: held.at,
				};
			}),
		}));
	}
}
