import type {Emit} from '../runner/events.js';
import type {Session} from '../runner/session.js';

export interface StepContext {
	emit: Emit;
	/** Aborted when the learner quits or the run is cancelled: long jobs must stop. */
	signal: AbortSignal;
	session: Session;
	/** Step id, for events the step emits itself. */
	step: string;
	/** Figures the step wants in the milestone summary (e.g. bootMs). */
	figures: Record<string, unknown>;
}

export interface Step {
	id: string;
	title: string;
	/** Shown while the step runs: what is happening, why, which file to open. */
	lesson: string;
	/** Does the work and verifies it. Resolves with a one-line proof; throws StepError on failure. */
	run(ctx: StepContext): Promise<string>;
}

export interface Milestone {
	id: string;
	title: string;
	summary: string;
	steps: Step[];
}
