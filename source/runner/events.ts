// The one stream both consumers read: the TUI reduces it into screen state, `run --json` prints
// it line by line. Every field is plain data so an event can be serialised as-is. Each event is
// defined on the floor that emits it: the lab's (builds, VM, panel, debugger) in the lab, the
// steps' own (tasks, the walk's stops) in the expedition, the milestone and step events here.
// They are re-exported here for the runner's consumers (cli, ui).

import type {StepEvent} from '../expedition/step-events.js';
import type {Accel} from '../lab/host/accel.js';
import type {Failure} from '../lab/lab-error.js';
import type {RunMode} from './guide.js';

export type {StepEvent} from '../expedition/step-events.js';
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
	| StepEvent
	| {type: 'milestone-started'; milestone: string; title: string; steps: {name: string; title: string}[]}
	| {type: 'step-started'; step: string; title: string}
	/** `byLearner`: a guided step the learner did with their own hands (checked from the system's state). */
	| {type: 'verified'; step: string; detail: string; ms: number; byLearner?: boolean}
	| {type: 'failed'; step: string; failure: Failure; ms: number}
	| {type: 'milestone-finished'; summary: MilestoneSummary}
	/** Guided mode: the step waits for the learner's number before it runs. */
	| {type: 'prediction-asked'; step: string; question: string; unit: string}
	| {type: 'prediction-result'; step: string; guess: number; actual: number; unit: string; why: string}
	/** The next hint for a step (`solution`: the last one, the answer itself). */
	| {type: 'hint'; milestone: string; step: string; index: number; of: number; text: string; solution: boolean}
	/** Something the learner should know that is not a step's result (the progress file was set aside). */
	| {type: 'notice'; text: string}
	/** The run switched between the learner doing the steps and kernelcraft doing them. */
	| {type: 'mode'; mode: RunMode}
	/** A build the TUI runs ahead of time (QEMU for milestones 4 and 5), and how far it is. */
	| {type: 'background'; job: 'qemu'; state: BackgroundState; fraction: number; label: string; note?: string};

export type BackgroundState = 'idle' | 'running' | 'paused' | 'done' | 'failed' | 'stopped';

export type Emit = (event: RunEvent) => void;
