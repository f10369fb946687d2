// The one stream both consumers read: the TUI reduces it into screen state, `run --json` prints
// it line by line. Every field is plain data so an event can be serialised as-is. The lab's own
// events and types live in the lab; they are re-exported here for the runner and the UI.

import type {Accel} from '../lab/host/accel.js';
import type {Failure} from '../lab/lab-error.js';
import type {LabEvent} from '../lab/lab-events.js';

export type {Accel, AccelChoice} from '../lab/host/accel.js';
export type {Failure} from '../lab/lab-error.js';
export type {LabEvent} from '../lab/lab-events.js';
export type {DeviceView, GuestView, QueueView, RingChain} from '../lab/virtio/views.js';

export interface StepSummary {
	name: string;
	title: string;
	ok: boolean;
	ms: number;
	detail?: string;
}

export interface MilestoneSummary {
	milestone: string;
	ok: boolean;
	accel?: Accel;
	steps: StepSummary[];
	/** Milestone-specific figures, e.g. bootMs for boot, counters for virtio-blk. */
	[figure: string]: unknown;
}

export type RunEvent =
	| LabEvent
	| {type: 'milestone-started'; milestone: string; title: string; steps: {name: string; title: string}[]}
	| {type: 'step-started'; step: string; title: string}
	| {type: 'verified'; step: string; detail: string; ms: number}
	| {type: 'failed'; step: string; failure: Failure; ms: number}
	| {type: 'milestone-finished'; summary: MilestoneSummary}
	/** A build the TUI runs ahead of time (QEMU for milestones 4 and 5), and how far it is. */
	| {type: 'background'; job: 'qemu'; state: BackgroundState; fraction: number; label: string; note?: string};

export type BackgroundState = 'idle' | 'running' | 'paused' | 'done' | 'failed' | 'stopped';

export type Emit = (event: RunEvent) => void;
