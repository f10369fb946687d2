/** An error written for people: what failed, what was last seen, what to try. */
export interface Failure {
	what: string;
	lastSeen?: string[];
	hint?: string;
	logPath?: string;
	/**
	 * What the check saw, named ("not-kicked"), when a step can fail in more than one way: an
	 * exercise's data maps it to the TODO that causes it.
	 */
	symptom?: string;
	/** The exercise TODO the failure points at (exercise-failure.ts), for its hints. */
	todo?: {exercise: string; n: number};
}

/**
 * An error meant for a person: what failed, what was last seen, what to try. Everything in the
 * lab throws these for expected failures so the UI and --json can show them without a stack.
 */
export class LabError extends Error {
	readonly failure: Failure;

	constructor(failure: Failure) {
		super(failure.what);
		this.name = 'LabError';
		this.failure = failure;
	}
}

export function toFailure(error: unknown): Failure {
	if (error instanceof LabError) return error.failure;
	if (error instanceof Error && error.name === 'AbortError') return {what: 'Cancelled.'};
	const message = error instanceof Error ? error.message : String(error);
	return {
		what: `Unexpected error: ${message}`,
		hint: 'This is a bug in kernelcraft; the stack trace is in the run log.',
	};
}
