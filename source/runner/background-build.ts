import {ensureQemu} from '../lab/build/qemu-build.js';
import {JobControl} from '../lab/host/job-control.js';
import {toFailure} from '../lab/lab-error.js';
import type {BackgroundState, RunEvent} from './events.js';

/** What a background build does: its processes run through runLogged with `background` and `control`. */
export type BackgroundWork = (job: {
	signal: AbortSignal;
	control: JobControl;
	onProgress: (fraction: number, label: string) => void;
}) => Promise<string>;

/**
 * kernelcraft's own QEMU (for the milestones that list it in `builds`), then, when the learner has
 * a device exercise (the TUI), the QEMU of its own work tree that their copy is built into: its
 * first build is a whole QEMU (compiled objects come from ccache, filled by the first build),
 * after which each save is an incremental build. Resolves with what the header says when done.
 */
export function qemuBuildWork(options: {
	cacheDir: string;
	qemuSrc?: string;
	debugInfo?: boolean;
	/** The learner's copy of the device (made from the skeleton if it is not there yet). */
	exerciseDir?: () => string | undefined;
}): BackgroundWork {
	return async ({signal, control, onProgress}) => {
		const common = {given: options.qemuSrc, cacheDir: options.cacheDir, debugInfo: options.debugInfo, signal};
		const qemu = await ensureQemu({...common, background: true, control, onProgress});
		const done = qemu.rebuilt ? `QEMU ${qemu.version} built` : `QEMU ${qemu.version} ready`;
		const deviceDir = options.exerciseDir?.();
		if (!deviceDir) return done;
		onProgress(0, 'the QEMU your device exercise is built into');
		try {
			await ensureQemu({
				...common,
				deviceDir,
				background: true,
				control,
				onProgress: (fraction, label) => onProgress(fraction, `your device's QEMU: ${label}`),
			});
			return `${done}, and the one for your device exercise`;
		} catch (error) {
			if (signal.aborted) throw error;
			// The learner's copy does not compile (yet): theirs to fix when they get there, with the
			// milestone's own message. Everything else of that QEMU is compiled (ninja -k 0).
			return `${done}; your device exercise does not compile yet (the milestone will show where)`;
		}
	};
}

/**
 * A build the later milestones need (their data lists it in `builds`), done while the learner
 * works through the earlier ones (the TUI only: `run` builds what it needs when it needs it). At nice 19 and the idle I/O class;
 * paused while a milestone builds something itself (never two heavy builds at once), and by the
 * learner whenever they like; stopped when a milestone needs QEMU now, which then goes on in the
 * foreground from where this left the work tree (ninja keeps what was compiled).
 */
export class BackgroundBuild {
	private readonly control = new JobControl();
	private abort: AbortController | undefined;
	private job: Promise<void> | undefined;
	private state: BackgroundState = 'idle';
	/** Pauses asked for by foreground builds (nested), apart from the learner's own pause. */
	private foregroundHolds = 0;
	private learnerPaused = false;
	private stopNote = 'stopped';

	constructor(
		private readonly work: BackgroundWork,
		private readonly emit: (event: RunEvent) => void,
	) {}

	get current(): BackgroundState {
		return this.state;
	}

	/** Starts the build unless it is running or done. */
	start(): void {
		if (this.job) return;
		const abort = new AbortController();
		this.abort = abort;
		this.setState('running', {fraction: 0, label: 'starting'});
		this.job = this.work({
			signal: abort.signal,
			control: this.control,
			onProgress: (fraction, label) => this.progress(fraction, label),
		}).then(
			label => this.setState('done', {fraction: 1, label}),
			(error: unknown) => {
				if (abort.signal.aborted) return this.setState('stopped', {note: this.stopNote});
				const failure = toFailure(error);
				this.setState('failed', {note: failure.logPath ? `${failure.what} Log: ${failure.logPath}` : failure.what});
			},
		);
		this.apply();
	}

	/** The learner's pause key: pause, or resume when paused. */
	togglePause(): void {
		if (this.state !== 'running' && this.state !== 'paused') return;
		this.learnerPaused = !this.learnerPaused;
		this.apply();
	}

	/** Stops the build (the work tree keeps what was compiled); a later start goes on from there. */
	async stop(why = 'stopped by you'): Promise<void> {
		if (!this.job) return;
		this.stopNote = why;
		this.abort?.abort();
		await this.job;
		this.job = undefined;
		this.learnerPaused = false;
	}

	/**
	 * Runs a foreground build with this one paused, so two heavy builds never share the CPU; the
	 * learner's own pause, if any, outlives it.
	 */
	async whilePaused<T>(work: () => Promise<T>): Promise<T> {
		this.foregroundHolds++;
		this.apply();
		try {
			return await work();
		} finally {
			this.foregroundHolds--;
			this.apply();
		}
	}

	private apply(): void {
		if (this.state !== 'running' && this.state !== 'paused') return;
		const pause = this.learnerPaused || this.foregroundHolds > 0;
		if (pause) this.control.pause();
		else this.control.resume();
		const note = this.learnerPaused ? 'paused by you' : pause ? 'paused while the milestone builds' : undefined;
		this.setState(pause ? 'paused' : 'running', {note});
	}

	private fraction = 0;
	private label = '';

	private progress(fraction: number, label: string): void {
		this.fraction = fraction;
		this.label = label;
		if (this.state === 'running') this.emitState();
	}

	private setState(state: BackgroundState, extra: {fraction?: number; label?: string; note?: string} = {}): void {
		this.state = state;
		if (extra.fraction !== undefined) this.fraction = extra.fraction;
		if (extra.label !== undefined) this.label = extra.label;
		this.emitState(extra.note);
	}

	/** The last event sent, so a screen that subscribes later starts from it. */
	lastEvent: Extract<RunEvent, {type: 'background'}> | undefined;

	private emitState(note?: string): void {
		this.lastEvent = {
			type: 'background',
			job: 'qemu',
			state: this.state,
			fraction: this.fraction,
			label: this.label,
			...(note ? {note} : {}),
		};
		this.emit(this.lastEvent);
	}
}
