import {aptSourceState, fetchedQemuSource} from '../lab/build/qemu-source.js';
import {packageStates, requirementsFor} from '../lab/host/requirements.js';
import path from 'node:path';
import {findMilestone} from '../expedition/milestones.js';
import {driversDir} from '../lab/paths.js';
import {LabError} from '../lab/lab-error.js';
import type {MilestoneSummary, RunEvent} from './events.js';
import {ProgressStore} from './progress-store.js';
import {runMilestone} from './run-milestone.js';
import {Session, type SessionOptions} from './session.js';
import type {WorkbenchApi} from './workbench-api.js';

export interface WorkbenchOptions extends SessionOptions {
	stateFile: string;
	/** Headless runs power the VM off at the end; the TUI keeps it for the learner. */
	keepVm: boolean;
}

/** The host side behind the TUI and `run`: one session, one run at a time, one event stream. */
export class Workbench implements WorkbenchApi {
	private readonly listeners = new Set<(event: RunEvent) => void>();
	private readonly progress: ProgressStore;
	private readonly session: Session;
	private running: {controller: AbortController; done: Promise<unknown>} | undefined;
	private disposed = false;

	constructor(private readonly options: WorkbenchOptions) {
		this.progress = new ProgressStore(options.stateFile);
		this.session = new Session(options, event => this.broadcast(event));
	}

	subscribe(listener: (event: RunEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	async run(id: string): Promise<MilestoneSummary> {
		const milestone = findMilestone(id);
		if (!milestone) throw new LabError({what: `There is no milestone "${id}".`});
		if (this.running) throw new LabError({what: 'A milestone is already running: wait for it or cancel it first.'});
		const controller = new AbortController();
		const started = Date.now();
		const done = runMilestone(milestone, this.session, event => this.broadcast(event), controller.signal);
		this.running = {controller, done};
		try {
			const summary = await done;
			if (summary.ok) await this.progress.markVerified(id, Date.now() - started);
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
		if (milestone !== 'hello-module') return undefined;
		return path.join(this.options.moduleSrc ?? path.join(driversDir, 'hello'), 'hello.c');
	}

	hostNeeds(milestone: string): string[] {
		const packages = packageStates(requirementsFor(milestone))
			.filter(state => !state.installed)
			.map(state => state.pkg);
		const buildsQemu = requirementsFor(milestone).some(requirement => requirement.pkg === 'ninja-build');
		const needsSource =
			buildsQemu && !this.options.qemuSrc && !fetchedQemuSource(this.options.cacheDir) && !aptSourceState().ready;
		return needsSource ? [...packages, "a deb-src entry for QEMU's source"] : packages;
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
		await this.cancel();
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
		for (const listener of this.listeners) listener(event);
	}
}
