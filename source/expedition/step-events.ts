// What a step reports while it runs, on top of the lab's events (lab/lab-events.ts): a task it
// waits for the learner to do, and the stops of the request walk. The runner adds its milestone
// and step events to these (runner/events.ts). Plain data, serialisable as-is.

import type {LabEvent} from '../lab/lab-events.js';

export type StepEvent =
	| LabEvent
	/** Guided mode: the step waits for the learner to do `ask`; `missing` says what the check still lacks. */
	| {type: 'task'; step: string; ask: string; missing?: string}
	/**
	 * A stop of the request walk (--debug, virtio-hello): which side stopped where, and the
	 * queue's indices as that side saw them, for the panel.
	 */
	| {
			type: 'walk-stop';
			step: string;
			n: number;
			side: 'driver' | 'device';
			where: string;
			indices?: string;
			descriptor?: string;
	  };

export type StepEmit = (event: StepEvent) => void;
