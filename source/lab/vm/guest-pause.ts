/**
 * Whether something (gdb, at a breakpoint) holds the guest stopped, and for how long it has in
 * all: waits on the guest count only the time it could run, so a learner who stops the guest and
 * walks away never comes back to a false timeout.
 */
export class GuestPause {
	private since: number | undefined;
	private total = 0;
	private readonly listeners = new Set<(paused: boolean) => void>();

	get paused(): boolean {
		return this.since !== undefined;
	}

	set(paused: boolean, now = Date.now()): void {
		if (paused === this.paused) return;
		if (paused) this.since = now;
		else {
			this.total += now - this.since!;
			this.since = undefined;
		}
		for (const listener of [...this.listeners]) listener(paused);
	}

	/** Milliseconds paused so far, the pause going on included. */
	pausedMs(now = Date.now()): number {
		return this.total + (this.since === undefined ? 0 : now - this.since);
	}

	onChange(listener: (paused: boolean) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}
}

/**
 * Like setTimeout, but the time the guest spends paused does not count: `fire` runs once the
 * guest has been able to run for `ms`. Returns a function that cancels it.
 */
export function guestTimeout(pause: GuestPause | undefined, ms: number, fire: () => void): () => void {
	if (!pause) {
		const timer = setTimeout(fire, ms);
		return () => clearTimeout(timer);
	}
	const started = Date.now();
	const pausedBefore = pause.pausedMs(started);
	let timer: NodeJS.Timeout | undefined;
	const check = () => {
		const now = Date.now();
		const ran = now - started - (pause.pausedMs(now) - pausedBefore);
		// While paused, look again now and then: the time left does not shrink meanwhile.
		if (pause.paused) timer = setTimeout(check, Math.max(50, Math.min(1000, ms - ran)));
		else if (ran >= ms) fire();
		else timer = setTimeout(check, ms - ran);
	};
	timer = setTimeout(check, ms);
	return () => clearTimeout(timer);
}
