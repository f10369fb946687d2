// Between two windows of a duty-cycled trace (duty-cycle.ts) the sampler gives no kick or
// interrupt rate: the trace counted nothing, which is not the same as nothing happening. The
// panel on screen keeps showing the last rate a window measured instead, marked with when it was
// measured (QueueView.ratesSampledAt), so the learner sees ≈ the last value, never a false 0.

import type {DeviceView} from './views.js';

interface Measured {
	kicks?: number;
	interrupts?: number;
	at: number;
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
					this.last.set(key, {kicks: queue.rates.kicks, interrupts: queue.rates.interrupts, at});
					return queue;
				}
				const held = this.last.get(key);
				if (!held) return queue;
				return {
					...queue,
					rates: {...queue.rates, kicks: held.kicks, interrupts: held.interrupts},
					ratesSampledAt: held.at,
				};
			}),
		}));
	}
}
