// The panel on screen shows kick/s and irq/s live, but tracing every request all the time costs
// the guest ~15 % of its I/O (one trace line per kick and interrupt, written by the vCPU thread).
// So the trace is duty-cycled: a short window opens every periodMs and closes as soon as the
// sampler has measured one whole interval inside it (two samples that both saw the events on), so
// the window lasts one to two sample intervals; maxOnMs closes it anyway when no sample comes
// (the sampler is slow or the trace names no queue yet).

export interface DutyTimers {
	set(run: () => void, ms: number): unknown;
	clear(handle: unknown): void;
}

/** Node's timers, unref'd: a duty cycle alone never keeps the process alive. */
export const nodeTimers: DutyTimers = {
	set: (run, ms) => setTimeout(run, ms).unref(),
	clear: handle => clearTimeout(handle as NodeJS.Timeout),
};

export interface DutyCycleOptions {
	/** From one window's opening to the next. */
	periodMs: number;
	/** A window closes after this even when no whole interval was measured in it. */
	maxOnMs: number;
	/** Called with true as a window opens and false as it closes. */
	onSwitch: (on: boolean) => void;
	timers?: DutyTimers;
	now?: () => number;
}

export class DutyCycle {
	private windowOpen = false;
	private openedAt = 0;
	private timer: unknown;
	private running = false;
	private readonly timers: DutyTimers;
	private readonly now: () => number;

	constructor(private readonly options: DutyCycleOptions) {
		this.timers = options.timers ?? nodeTimers;
		this.now = options.now ?? Date.now;
	}

	/** A window is open: the events should be on. */
	get open(): boolean {
		return this.windowOpen;
	}

	/** Opens a window now (a first rate comes at once), then one per period. Also resumes after pause(). */
	start(): void {
		if (this.running) return;
		this.running = true;
		if (!this.windowOpen) return this.openWindow();
		// Resumed with a window left open: it counts as opened now.
		this.openedAt = this.now();
		this.setTimer(() => this.close(), this.options.maxOnMs);
	}

	/**
	 * Stops switching, leaving the events as they are: while a debugger holds the guest nothing
	 * is traced anyway, and QEMU itself may be stopped and answer no switch.
	 */
	pause(): void {
		this.running = false;
		this.clearTimer();
	}

	/** A sample measured a whole interval inside the open window: what the window was for is done. */
	measured(): void {
		if (this.running && this.windowOpen) this.close();
	}

	private openWindow(): void {
		this.windowOpen = true;
		this.openedAt = this.now();
		this.options.onSwitch(true);
		this.setTimer(() => this.close(), this.options.maxOnMs);
	}

	private close(): void {
		this.windowOpen = false;
		this.options.onSwitch(false);
		const next = Math.max(0, this.openedAt + this.options.periodMs - this.now());
		this.setTimer(() => this.openWindow(), next);
	}

	private setTimer(run: () => void, ms: number): void {
		this.clearTimer();
		this.timer = this.timers.set(() => {
			this.timer = undefined;
			if (this.running) run();
		}, ms);
	}

	private clearTimer(): void {
		if (this.timer !== undefined) this.timers.clear(this.timer);
		this.timer = undefined;
	}
}
