import {aptSourceState, fetchedQemuSource} from '../lab/build/qemu-source.js';
import {packageStates, requirementsFor} from '../lab/host/requirements.js';
import path from 'node:path';
import {exercisesOf} from '../expedition/exercises.js';
import {projectRoot} from '../lab/paths.js';
import {LabError} from '../lab/lab-error.js';
import type {Milestone} from '../expedition/types.js';
import {GuestDebugger} from '../lab/debug/guest-debugger.js';
import {Session, type SessionOptions} from '../lab/session.js';
import type {MilestoneSummary, RunEvent} from './events.js';
import {BackgroundBuild, qemuBuildWork} from './background-build.js';
import {Guide} from './guide.js';
import {hintFor, type HintShown} from './hints.js';
import {ProgressStore, type StepProgress} from './progress-store.js';
import {runMilestone} from './run-milestone.js';
import type {GdbAction, WorkbenchApi} from './workbench-api.js';
import {ExerciseWorkspaces} from './exercise-workspaces.js';
import {RerunOnSave} from './rerun-on-save.js';

export interface WorkbenchOptions extends SessionOptions {
	/** The milestones it can run: their data says what each needs from the host and can build ahead. */
	milestones: readonly Milestone[];
	stateFile: string;
	/** Headless runs power the VM off at the end; the TUI keeps it for the learner. */
	keepVm: boolean;
	/**
	 * The TUI: the learner does each step that has a task and answers the predictions (`d` hands
	 * the rest of a run to kernelcraft). Unset: every step runs itself, as `kernelcraft run` does.
	 */
	guided?: boolean;
	/** The learner's exercise folders (workspaceRoot()): milestones build those copies. */
	exerciseWorkspace?: string;
	/** A save in an exercise folder re-runs its milestone (the TUI's watch mode). */
	watchExercises?: boolean;
}

/** The host side behind the TUI and `run`: one session, one run at a time, one event stream. */
export class Workbench implements WorkbenchApi {
	private readonly listeners = new Set<(event: RunEvent) => void>();
	private readonly progress: ProgressStore;
	private readonly session: Session;
	/** gdb on the running VM, for the gdb pane (--debug). */
	private readonly debugger: GuestDebugger;
	private running: {controller: AbortController; done: Promise<unknown>; milestone: string} | undefined;
	private background: BackgroundBuild | undefined;
	private disposed = false;
	private readonly guide: Guide | undefined;
	/** The run's milestone and step, as its events said (hints are for the step running). */
	private current: {milestone: string; step?: string} | undefined;
	/** Progress records written in event order; dispose waits for the last. */
	private recording: Promise<void> = Promise.resolve();
	private readonly exercises: ExerciseWorkspaces | undefined;
	/**
	 * Per milestone, the steps the learner did (or had done again for them) in its last run: a run
	 * a save starts does those again itself, and the learner resumes where that run stopped.
	 */
	private readonly learnerDid = new Map<string, string[]>();
	private readonly reruns = new RerunOnSave({
		runningMilestone: () => this.running?.milestone,
		cancel: () => this.cancel(),
		run: milestone => this.run(milestone, {afterSave: true}),
		failed: (milestone, error) =>
			this.broadcast({
				type: 'notice',
				text: `re-running ${milestone} after your save: ${error instanceof Error ? error.message : String(error)}`,
			}),
		stopped: () => this.disposed,
	});

	constructor(private readonly options: WorkbenchOptions) {
		this.progress = new ProgressStore(options.stateFile, text => this.broadcast({type: 'notice', text}));
		this.guide = options.guided ? new Guide('guided') : undefined;
		this.session = new Session(options, event => this.broadcast(event));
		this.debugger = new GuestDebugger(this.session, event => this.broadcast(event));
		if (options.exerciseWorkspace) this.exercises = new ExerciseWorkspaces(options.exerciseWorkspace);
	}

	subscribe(listener: (event: RunEvent) => void): () => void {
		this.listeners.add(listener);
		// A screen drawn after the background build started (the app comes back from the editor)
		// shows where it is.
		const background = this.background?.lastEvent;
		if (background) listener(background);
		return () => this.listeners.delete(listener);
	}

	/**
	 * Starts building, at low priority, what the later milestones need and the host can build now
	 * (QEMU, for the first milestone whose data lists it among its builds). The TUI calls this;
	 * `run` builds on demand. Off with KERNELCRAFT_BACKGROUND_BUILDS=0.
	 */
	startBackgroundBuilds(): void {
		if (this.disposed || process.env.KERNELCRAFT_BACKGROUND_BUILDS === '0') return;
		const needsQemu = this.options.milestones.find(milestone => milestone.builds?.includes('qemu'));
		// Its host packages missing, the build would fail: setup comes first.
		if (!needsQemu || this.hostNeeds(needsQemu.id).length > 0) return;
		this.background ??= new BackgroundBuild(
			// --debug: the milestones boot the QEMU with -g, so that is the one to build ahead.
			qemuBuildWork({
				cacheDir: this.options.cacheDir,
				qemuSrc: this.options.qemuSrc,
				debugInfo: this.options.debug,
				exerciseDir: () => this.exercises?.deviceDirFor(needsQemu.id),
			}),
			event => this.broadcast(event),
		);
		this.session.foreground = work => this.background!.whilePaused(work);
		this.background.start();
	}

	/**
	 * Setup has run (the TUI's `s`): the host may now have what the background build needed and
	 * lacked at start-up, so it starts, unless it already ran or still cannot.
	 */
	afterSetup(): void {
		if (!this.background) this.startBackgroundBuilds();
	}

	toggleBackgroundBuild(): void {
		this.background?.togglePause();
	}

	async stopBackgroundBuild(): Promise<void> {
		await this.background?.stop();
	}

	/**
	 * Runs a milestone. `afterSave`: the learner saved their exercise copy; the steps they had
	 * done in the run it replaces are done for them (the save changed the code, not what they
	 * showed they can do), and guided mode resumes at the step that run stopped at.
	 */
	async run(id: string, options: {afterSave?: boolean} = {}): Promise<MilestoneSummary> {
		const milestone = this.milestone(id);
		if (!milestone) throw new LabError({what: `There is no milestone "${id}".`});
		if (this.running) throw new LabError({what: 'A milestone is already running: wait for it or cancel it first.'});
		// The milestone needs QEMU now: the background build hands over, and the milestone's own
		// build goes on from the work tree it leaves (at normal priority, with its progress shown).
		if (milestone.builds?.includes('qemu') && this.background?.current !== 'done')
			await this.background?.stop('moved to the milestone, which builds it now');
		if (this.exercises) {
			// Only this milestone's: a later milestone that shares its steps builds the references.
			this.session.options.exerciseDirs = this.exercises.dirsFor(id);
			if (this.options.watchExercises) this.exercises.watch(id, () => void this.reruns.saved(id));
		}
		const controller = new AbortController();
		const started = Date.now();
		if (this.guide) {
			this.guide.reset('guided', options.afterSave ? (this.learnerDid.get(id) ?? []) : []);
			this.broadcast({type: 'mode', mode: 'guided'});
		}
		const did: string[] = [];
		this.learnerDid.set(id, did);
		// The pane is the TUI's (keepVm); a headless run's gdb step uses a gdb of its own.
		const pane = this.options.keepVm ? this.debugger : undefined;
		const done = runMilestone(
			milestone,
			this.session,
			event => {
				if (event.type === 'verified' && event.byLearner) did.push(event.step);
				this.broadcast(event);
			},
			controller.signal,
			this.guide,
			pane,
		);

		this.running = {controller, done, milestone: id};
		try {
			const summary = await done;
			this.exercises?.noteRun(summary);
			if (summary.ok)
				await this.progress.markVerified(id, Date.now() - started).catch((error: Error) => {
					throw new LabError({
						what: `${id} passed, but its tick could not be saved in ${this.options.stateFile}: ${error.message}`,
					});
				});
			if (!this.options.keepVm) await this.powerOff();
			return summary;
		} finally {
			this.running = undefined;
		}
	}

	async cancel(): Promise<void> {
		const running = this.running;
		running?.controller.abort();
		await this.session.stopVm();
		await running?.done.catch(() => undefined);
	}

	/** The learner's number for the prediction being asked; false when none is. */
	answer(value: number): boolean {
		return this.guide?.answer(value) ?? false;
	}

	/** `d`: kernelcraft does the step in progress and the rest of this run. */
	demo(): void {
		if (!this.guide || this.guide.current === 'demo') return;
		this.guide.demo();
		this.broadcast({type: 'mode', mode: 'demo'});
	}

	/**
	 * The next hint for the step running (or, between runs, the milestone's first step not yet done
	 * by the learner), counted in the progress file; undefined when that step has none.
	 */
	async hint(milestoneId: string): Promise<HintShown | undefined> {
		const milestone = this.milestone(milestoneId);
		if (!milestone) throw new LabError({what: `There is no milestone "${milestoneId}".`});
		const running = this.current?.milestone === milestoneId && this.running ? this.current.step : undefined;
		// The step records this run's events are still writing (a failure's TODO) come first.
		await this.recording;
		const shown = await hintFor(this.progress, milestone, running);
		if (shown) this.broadcast({type: 'hint', ...shown});
		return shown;
	}

	async gdb(action: GdbAction): Promise<void> {
		const gdb = this.debugger;
		switch (action) {
			case 'start':
				return gdb.start(this.session.options.consoleSize);
			case 'continue':
				return gdb.continue();
			case 'step':
				return gdb.step();
			case 'next':
				return gdb.next();
			case 'finish':
				return gdb.finish();
			case 'backtrace':
				return gdb.backtrace();
			case 'interrupt':
				return gdb.interrupt();
			case 'quit':
				return gdb.quit();
		}
	}

	sendToGdb(data: string): void {
		this.debugger.write(data);
	}

	sendToConsole(data: string): void {
		this.session.vm?.console.type(data);
	}

	resizeConsole(cols: number, rows: number): void {
		this.session.options.consoleSize = {cols, rows};
		this.session.vm?.resize(cols, rows);
	}

	setLookInside(on: boolean): void {
		this.session.setLookInside(on);
	}

	editableFile(milestone: string): string | undefined {
		return this.editTarget(milestone)?.file;
	}

	/**
	 * The file the learner edits for a milestone and the line of its first open TODO: their
	 * exercise copy (watched from now on), else the reference (--module-src: that folder's).
	 */
	editTarget(milestone: string): {file: string; line?: number} | undefined {
		const exercise = exercisesOf(milestone)[0];
		if (!exercise) return undefined;
		if (this.exercises && !this.options.moduleSrc) {
			if (this.options.watchExercises) this.exercises.watch(milestone, () => void this.reruns.saved(milestone));
			return this.exercises.editTarget(milestone);
		}
		return {file: path.join(this.options.moduleSrc ?? path.join(projectRoot, exercise.reference), exercise.files[0]!)};
	}

	/** A save in the learner's exercise folder re-runs its milestone (the TUI). */
	get watchMode(): boolean {
		return Boolean(this.exercises && this.options.watchExercises && !this.options.moduleSrc);
	}

	hostNeeds(id: string): string[] {
		const milestone = this.milestone(id);
		if (!milestone) return [];
		const packages = packageStates(requirementsFor(milestone))
			.filter(state => !state.installed)
			.map(state => state.pkg);
		const buildsQemu = milestone.builds?.includes('qemu') ?? false;
		const needsSource =
			buildsQemu && !this.options.qemuSrc && !fetchedQemuSource(this.options.cacheDir) && !aptSourceState().ready;
		return needsSource ? [...packages, "a deb-src entry for QEMU's source"] : packages;
	}

	stepRecords(milestone: string): Record<string, StepProgress> {
		return this.progress.steps(milestone);
	}

	verifiedMilestones(): string[] {
		return this.progress.verified();
	}

	stateWarning(): string | undefined {
		return this.progress.warning;
	}

	async dispose(): Promise<void> {
		if (this.disposed) return;
		this.disposed = true;
		this.exercises?.close();
		// gdb first: it detaches, so the guest can power off cleanly.
		await this.debugger.dispose();
		await Promise.all([this.cancel(), this.background?.stop('stopped: kernelcraft quit')]);
		await this.recording;
	}

	/** The milestones this workbench runs (with --debug, virtio-hello's has its gdb step). */
	get milestones(): readonly Milestone[] {
		return this.options.milestones;
	}

	private milestone(id: string): Milestone | undefined {
		return this.options.milestones.find(milestone => milestone.id === id);
	}

	/** A clean guest power-off (reboot -f with -no-reboot) when the guest answers; else stop QEMU. */
	private async powerOff(): Promise<void> {
		const vm = this.session.vm;
		if (!vm?.running) return;
		try {
			await vm.shutdownFromGuest(5000);
		} catch {
			// shutdownFromGuest has already stopped QEMU from the host.
		}
		await this.session.stopVm();
	}

	private broadcast(event: RunEvent): void {
		// A gdb on a VM that is gone has nothing to debug.
		if (event.type === 'vm-stopped' && this.debugger.active) void this.debugger.dispose();
		this.record(event);
		for (const listener of this.listeners) listener(event);
	}

	/** Keeps what the learner did per step: verified (by whom, how long) and each prediction. */
	private record(event: RunEvent): void {
		if (event.type === 'milestone-started') this.current = {milestone: event.milestone};
		if (event.type === 'step-started' && this.current) this.current.step = event.step;
		const milestone = this.current?.milestone;
		if (!milestone) return;
		let change: ((record: StepProgress) => StepProgress) | undefined;
		let step = '';
		if (event.type === 'verified') {
			step = event.step;
			change = ({todo: _done, ...record}) => ({
				...record,
				doneAt: new Date().toISOString(),
				ms: event.ms,
				byLearner: !!event.byLearner,
			});
		} else if (event.type === 'failed' && event.failure.todo) {
			// Hints then go to that TODO (hints.ts), in the TUI and in `kernelcraft hint` alike.
			step = event.step;
			const todo = event.failure.todo;
			change = record => ({...record, todo});
		} else if (event.type === 'prediction-result') {
			step = event.step;
			const prediction = {guess: event.guess, actual: event.actual, at: new Date().toISOString()};
			change = record => ({...record, predictions: [...(record.predictions ?? []), prediction]});
		}
		if (!change) return;
		this.recording = this.recording
			.then(() => this.progress.updateStep(milestone, step, change))
			.then(
				() => undefined,
				(error: Error) => this.broadcast({type: 'log', step, line: `could not save progress: ${error.message}`}),
			);
	}
}
