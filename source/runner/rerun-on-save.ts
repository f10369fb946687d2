/** What re-running on save needs of the workbench. */
export interface RerunHost {
	/** The milestone running now, if any. */
	runningMilestone(): string | undefined;
	/** Stops the run in progress (if any) and its VM, and waits for it to end. */
	cancel(): Promise<void>;
	/** Runs a milestone to its end; a rejection means it never started, or its tick was not saved. */
	run(milestone: string): Promise<unknown>;
	/** A re-run's rejection: nobody awaits a re-run, so this is where it is told. */
	failed(milestone: string, error: unknown): void;
	stopped(): boolean;
}

/**
 * Watch mode's runs: a save re-runs the exercise's milestone, cancelling a run of it still going
 * (its result would be stale). Saves that come during a re-run end it and start one more, so the
 * last save is always the one checked. A run of another milestone is left alone.
 */
export class RerunOnSave {
	private current: {again: boolean} | undefined;

	constructor(private readonly host: RerunHost) {}

	async saved(milestone: string): Promise<void> {
		if (this.host.stopped()) return;
		if (this.current) {
			this.current.again = true;
			return void this.host.cancel();
		}
		const running = this.host.runningMilestone();
		if (running !== undefined && running !== milestone) return;
		const current = {again: true};
		this.current = current;
		try {
			while (current.again && !this.host.stopped()) {
				current.again = false;
				await this.host.cancel();
				await this.host.run(milestone).catch(error => this.host.failed(milestone, error));
			}
		} finally {
			this.current = undefined;
		}
	}
}
