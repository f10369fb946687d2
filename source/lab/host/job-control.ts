/**
 * Pause and resume for a job that runs child processes (a build in the background): every
 * process group the job starts is attached here, and SIGSTOP/SIGCONT go to all of them. A group
 * that starts while the job is paused is stopped at once, so a paused job never gets going again
 * behind the learner's back. The groups are runLogged's (each child leads its own group: make,
 * ninja and every compiler under them stop and resume together).
 */
export class JobControl {
	private readonly groups = new Set<number>();
	private pausedNow = false;

	get paused(): boolean {
		return this.pausedNow;
	}

	/** Registers a running process group; returns the function that forgets it when it exits. */
	attach(pgid: number): () => void {
		this.groups.add(pgid);
		if (this.pausedNow) signalGroup(pgid, 'SIGSTOP');
		return () => this.groups.delete(pgid);
	}

	pause(): void {
		if (this.pausedNow) return;
		this.pausedNow = true;
		for (const pgid of this.groups) signalGroup(pgid, 'SIGSTOP');
	}

	resume(): void {
		if (!this.pausedNow) return;
		this.pausedNow = false;
		for (const pgid of this.groups) signalGroup(pgid, 'SIGCONT');
	}

	/** The process groups running now (for tests and for the header's detail). */
	get runningGroups(): number[] {
		return [...this.groups];
	}
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
	try {
		process.kill(-pgid, signal);
	} catch {
		// The group has already exited; its close handler detaches it.
	}
}
