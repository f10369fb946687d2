import fs from 'node:fs';
import path from 'node:path';
import {writeFileAtomic} from '../lab/atomic-file.js';
import {withLock} from '../lab/build/cache-lock.js';

/** One step's record: kept across runs, so hints used and predictions made are not forgotten. */
export interface StepProgress {
	/** When the step was last verified, and how long it took. */
	doneAt?: string;
	ms?: number;
	/** The learner did it (guided), not kernelcraft (demo or `run`). */
	byLearner?: boolean;
	/** Hints shown so far (the solution counts as one more than the step has hints). */
	hints?: number;
	/** The exercise TODO the step's last failure pointed at; gone once the step is verified. */
	todo?: {exercise: string; n: number};
	/** Every prediction answered, oldest first. */
	predictions?: {guess: number; actual: number; at: string}[];
}

export interface ProgressFile {
	version: 1;
	verified: Record<string, {at: string; ms: number}>;
	/** Per milestone, per step. Optional: files written before steps were kept have none. */
	steps?: Record<string, Record<string, StepProgress>>;
}

/**
 * The learner's ticks, shared by every kernelcraft process of this user (a TUI left open, a
 * `kernelcraft run` in another terminal):
 * - reads always come from the file, so a tick made elsewhere shows up;
 * - a tick is a read-merge-write under a lock on the state folder, written atomically, so two
 *   processes ticking at once both keep their tick;
 * - a file that cannot be read is moved aside (never deleted: the learner may want it) and
 *   reported, and the app goes on with no ticks: at start-up (`warning`), and when it turns
 *   unreadable while the app runs (a newer kernelcraft wrote it, a hand edit went wrong), before
 *   the next tick would write over it (`onSetAside`).
 */
export class ProgressStore {
	readonly warning: string | undefined;

	constructor(
		private readonly file: string,
		private readonly onSetAside: (message: string) => void = () => {},
	) {
		this.warning = this.setAsideIfCorrupt();
	}

	verified(): string[] {
		return Object.keys(this.read().verified);
	}

	async markVerified(milestone: string, ms: number): Promise<void> {
		await this.update(data => {
			data.verified[milestone] = {at: new Date().toISOString(), ms};
		});
	}

	/** A milestone's steps as recorded (empty when none were). */
	steps(milestone: string): Record<string, StepProgress> {
		return this.read().steps?.[milestone] ?? {};
	}

	/** Changes one step's record, merged with what is on disk under the lock. Returns the new record. */
	async updateStep(
		milestone: string,
		step: string,
		change: (record: StepProgress) => StepProgress,
	): Promise<StepProgress> {
		let updated: StepProgress = {};
		await this.update(data => {
			const steps = (data.steps ??= {});
			const ofMilestone = (steps[milestone] ??= {});
			updated = change({...ofMilestone[step]});
			ofMilestone[step] = updated;
		});
		return updated;
	}

	/** `kernelcraft reset <milestone>`: its tick and every step record go; other milestones stay. */
	async reset(milestone: string): Promise<void> {
		await this.update(data => {
			delete data.verified[milestone];
			if (data.steps) delete data.steps[milestone];
		});
	}

	/** Read-merge-write under the state folder's lock, written atomically. */
	private async update(change: (data: ProgressFile) => void): Promise<void> {
		const dir = path.dirname(this.file);
		fs.mkdirSync(dir, {recursive: true});
		await withLock(dir, {what: 'saving progress', recordOwner: false}, async () => {
			// Under the lock, as the write: what is set aside is what would have been written over.
			const aside = this.setAsideIfCorrupt();
			if (aside) this.onSetAside(aside);
			const data = this.read();
			change(data);
			writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
		});
	}

	/** The file's ticks now; a missing or unreadable file counts as none. */
	private read(): ProgressFile {
		try {
			const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<ProgressFile>;
			if (isProgressFile(parsed)) {
				const steps = typeof parsed.steps === 'object' && parsed.steps !== null ? parsed.steps : undefined;
				return {version: 1, verified: parsed.verified, ...(steps ? {steps} : {})};
			}
		} catch {}
		return {version: 1, verified: {}};
	}

	private setAsideIfCorrupt(): string | undefined {
		let text: string;
		try {
			text = fs.readFileSync(this.file, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
			return `Could not read ${this.file}: ${(error as Error).message}; starting with no ticks.`;
		}
		try {
			const parsed = JSON.parse(text) as Partial<ProgressFile>;
			if (!isProgressFile(parsed))
				throw new Error(
					typeof parsed.version === 'number' && parsed.version > 1
						? `version ${parsed.version}, from a newer kernelcraft`
						: 'unknown format',
				);
			return undefined;
		} catch (error) {
			const aside = `${this.file}.unreadable-${Date.now()}`;
			fs.renameSync(this.file, aside);
			return `The progress file ${this.file} was unreadable (${(error as Error).message}); it was moved to ${aside} and progress starts afresh.`;
		}
	}
}

function isProgressFile(parsed: Partial<ProgressFile>): parsed is ProgressFile {
	return parsed.version === 1 && typeof parsed.verified === 'object' && parsed.verified !== null;
}
