import type {GuestDebugger} from '../lab/debug/guest-debugger.js';
import type {Session} from '../lab/session.js';
import type {StepEmit} from './step-events.js';

export interface StepContext {
	emit: StepEmit;
	/** Aborted when the learner quits or the run is cancelled: long jobs must stop. */
	signal: AbortSignal;
	session: Session;
	/** The TUI's gdb pane (--debug): a step that uses gdb uses the learner's, so it shows there. */
	debugger?: GuestDebugger;
	/** Step id, for events the step emits itself. */
	step: string;
	/** Figures the step wants in the milestone summary (e.g. bootMs). */
	figures: Record<string, unknown>;
	/**
	 * Guest checks say nothing while they wait: a task's check polls while the learner works, and
	 * the step log should say the run waits for the learner, not for `cat`.
	 */
	quietChecks?: boolean;
	/** The learner does this step (guided mode, not handed over with `d`): waits may be theirs. */
	guided?: () => boolean;
}

/** What a task's check found in the system: done (with a one-line proof), or what is missing. */
export type TaskState = {done: true; detail: string} | {done: false; missing: string};

/**
 * A step the learner does with their own hands, in guided mode: they type into the guest's
 * console (or edit a file), and kernelcraft watches the system until the effect is there.
 */
export interface Task {
	/** What to do, for the lesson pane: one or two sentences, the command in backticks. */
	ask: string;
	/**
	 * Reads the guest's and QEMU's own state (sysfs, /proc, dmesg, QMP) and says whether the task
	 * is done. Never matches what the learner typed: any way to the effect counts. Called
	 * repeatedly while the learner works, so it must be cheap and change nothing.
	 */
	check(ctx: StepContext): Promise<TaskState>;
	/**
	 * The check reads only the host's side (a gdb's state, not the guest's), so it runs while gdb
	 * holds the guest paused too; other checks wait for the guest to run again.
	 */
	hostOnly?: boolean;
	/**
	 * What the step goes on to do once the learner has done their part (the request they caught
	 * in gdb is followed into QEMU); resolves with the step's proof.
	 */
	then?(ctx: StepContext, done: string): Promise<string>;
	/** What the step sets up before the learner's part (a driver reloaded with a test switch). */
	prepare?(ctx: StepContext): Promise<void>;
}

/** A number the learner predicts before the step runs; the step's figures then hold the answer. */
export interface Prediction {
	question: string;
	/** What the number counts: "requests". */
	unit: string;
	/** The measured answer, once the step has run. */
	actual(figures: Record<string, unknown>): number | undefined;
	/** Why the answer is what it is: shown next to the guess, right or wrong. */
	why: string;
}

export interface Step {
	id: string;
	title: string;
	/** Shown while the step runs: what is happening, why, which file to open. */
	lesson: string;
	/** Does the work and verifies it. Resolves with a one-line proof; throws a LabError (lab/lab-error.ts) on failure. */
	run(ctx: StepContext): Promise<string>;
	/** Guided mode: the learner does this step; `run` is what demo mode (and `run`) does instead. */
	task?: Task;
	/** Guided mode: asked before the step runs. */
	predict?: Prediction;
	/** Up to three hints, each more direct than the last; `solution` comes after them. */
	hints?: string[];
	/** The answer itself: the command to type, or the value and why. */
	solution?: string;
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

/**
 * A step as the code writes it: what it does and checks, without the learner's text, which comes
 * from the milestone's lesson file (lesson-content.ts) when the milestone is composed.
 */
export interface StepLogic {
	id: string;
	run(ctx: StepContext): Promise<string>;
	task?: Omit<Task, 'ask'>;
	predict?: Omit<Prediction, 'question' | 'unit' | 'why'>;
}

/** A milestone as the code writes it; its title, summary and every step's text are content. */
export interface MilestoneLogic extends Omit<Milestone, 'title' | 'summary' | 'steps'> {
	steps: StepLogic[];
}
