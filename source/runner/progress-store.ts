import fs from 'node:fs';
import path from 'node:path';
import {writeFileAtomic} from '../lab/atomic-file.js';
import {withLock} from '../lab/build/cache-lock.js';

export interface ProgressFile {
	version: 1;
	verified: Record<string, {at: string; ms: number}>;
}

/**
 * The learner's ticks, shared by every kernelcraft process of this user (a TUI left open, a
 * `kernelcraft run` in another terminal):
 * - reads always come from the file, so a tick made elsewhere shows up;
 * - a tick is a read-merge-write under a lock on the state folder, written atomically, so two
 *   processes ticking at once both keep their tick;
 * - a file that cannot be read is moved aside (never deleted: the learner may want it) and
 *   reported once, and the app goes on with no ticks.
 */
export class ProgressStore {
	readonly warning: string | undefined;

	constructor(private readonly file: string) {
		this.warning = this.setAsideIfCorrupt();
	}

	verified(): string[] {
		return Object.keys(this.read().verified);
	}

	async markVerified(milestone: string, ms: number): Promise<void> {
		const dir = path.dirname(this.file);
		fs.mkdirSync(dir, {recursive: true});
		await withLock(dir, {what: 'saving progress', recordOwner: false}, async () => {
			const data = this.read();
			data.verified[milestone] = {at: new Date().toISOString(), ms};
			writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
		});
	}

	/** The file's ticks now; a missing or unreadable file counts as none. */
	private read(): ProgressFile {
		try {
			const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<ProgressFile>;
			if (parsed.version === 1 && typeof parsed.verified === 'object' && parsed.verified !== null)
				return {version: 1, verified: parsed.verified};
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
			if (parsed.version !== 1 || typeof parsed.verified !== 'object' || parsed.verified === null)
				throw new Error('unknown format');
			return undefined;
		} catch (error) {
			const aside = `${this.file}.corrupt-${Date.now()}`;
			fs.renameSync(this.file, aside);
			return `The progress file ${this.file} was unreadable (${(error as Error).message}); it was moved to ${aside} and progress starts afresh.`;
		}
	}
}
