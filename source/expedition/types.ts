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

/** A Debian package a milestone needs beyond what every milestone needs (lab/host/requirements.ts). */
export interface HostPackage {
	pkg: string;
	/** Said by doctor and by a run that finds it missing. */
	why: string;
}

/**
 * A build the host can do before the milestone runs, because nothing in it depends on the
 * learner: the TUI starts it in the background while earlier milestones run.
 */
export type ForeseeableBuild = 'qemu';

export interface Milestone {
	id: string;
	title: string;
	summary: string;
	steps: Step[];
	/** Host packages beyond every milestone's: checked before a run, installed by setup, listed by doctor. */
	packages?: HostPackage[];
	/**
	 * Builds the milestone needs that can be done ahead of time. A milestone that lists QEMU also
	 * builds it itself (a step), so a background build of it hands over when the milestone starts.
	 */
	builds?: ForeseeableBuild[];
}
