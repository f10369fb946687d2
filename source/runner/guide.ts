/** How a run goes: the learner does each step (guided), or kernelcraft does them (demo). */
export type RunMode = 'guided' | 'demo';

/**
 * The learner's side of a guided run. The TUI feeds it (an answer typed, `d` pressed); the runner
 * waits on it. Headless runs have none and run every step themselves.
 */
export class Guide {
	private mode: RunMode;
	private question: {step: string; answer: (value: number | undefined) => void} | undefined;
	private readonly demoWaiters = new Set<() => void>();
	/** Steps of this run the learner did in the run a save replaced: kernelcraft does them again. */
	private replayed: ReadonlySet<string> = new Set();

	constructor(mode: RunMode = 'guided') {
		this.mode = mode;
	}

	get current(): RunMode {
		return this.mode;
	}

	/** The learner pressed `d`: kernelcraft does this step and the rest of the run. */
	demo(): void {
		this.mode = 'demo';
		this.question?.answer(undefined);
		this.question = undefined;
		for (const wake of [...this.demoWaiters]) wake();
		this.demoWaiters.clear();
	}

	/**
	 * A new run starts guided again: demo is for the run it was pressed in. `replay`: steps the
	 * learner already did before a save re-ran the milestone; they are done for them this time.
	 */
	reset(mode: RunMode = 'guided', replay: Iterable<string> = []): void {
		this.mode = mode;
		this.replayed = new Set(replay);
	}

	/** Whether the learner does `step` in this run (guided, and not one done before the save). */
	learnerDoes(step: string): boolean {
		return this.mode === 'guided' && !this.replayed.has(step);
	}

	/** Whether kernelcraft does `step` again because the learner did it before the save. */
	replays(step: string): boolean {
		return this.replayed.has(step);
	}

	/** The step asking for a prediction now, if any. */
	get asking(): string | undefined {
		return this.question?.step;
	}

	/** The learner's prediction; false when no step is asking for one. */
	answer(value: number): boolean {
		if (!this.question) return false;
		this.question.answer(value);
		this.question = undefined;
		return true;
	}

	/** Waits for the learner's number; undefined when they switch to demo instead. */
	prediction(step: string, signal: AbortSignal): Promise<number | undefined> {
		if (this.mode === 'demo') return Promise.resolve(undefined);
		return new Promise((resolve, reject) => {
			const onAbort = () => {
				this.question = undefined;
				reject(abortError());
			};
			if (signal.aborted) return onAbort();
			signal.addEventListener('abort', onAbort, {once: true});
			this.question = {
				step,
				answer: value => {
					signal.removeEventListener('abort', onAbort);
					resolve(value);
				},
			};
		});
	}

	/**
	 * Waits `ms`, or less when the learner switches to demo or the run is cancelled. True when the
	 * run is now in demo mode.
	 */
	pause(ms: number, signal: AbortSignal): Promise<boolean> {
		if (this.mode === 'demo') return Promise.resolve(true);
		return new Promise((resolve, reject) => {
			const done = (demo: boolean) => {
				clearTimeout(timer);
				this.demoWaiters.delete(wake);
				signal.removeEventListener('abort', onAbort);
				resolve(demo);
			};
			const wake = () => done(true);
			const onAbort = () => {
				clearTimeout(timer);
				this.demoWaiters.delete(wake);
				reject(abortError());
			};
			const timer = setTimeout(() => done(false), ms);
			if (signal.aborted) return onAbort();
			this.demoWaiters.add(wake);
			signal.addEventListener('abort', onAbort, {once: true});
		});
	}
}

function abortError(): Error {
	return Object.assign(new Error('Cancelled.'), {name: 'AbortError'});
}
