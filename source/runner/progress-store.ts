import fs from 'node:fs';
import {writeFileAtomic} from '../lab/atomic-file.js';

export interface ProgressFile {
	version: 1;
	verified: Record<string, {at: string; ms: number}>;
}

/**
 * The learner's ticks. Written atomically; a file that cannot be read is moved aside (never
 * deleted: the learner may want it) and reported once, and the app goes on with no ticks.
 */
export class ProgressStore {
	private data: ProgressFile = {version: 1, verified: {}};
	readonly warning: string | undefined;

	constructor(private readonly file: string) {
		this.warning = this.load();
	}

	verified(): string[] {
		return Object.keys(this.data.verified);
	}

	markVerified(milestone: string, ms: number): void {
		this.data.verified[milestone] = {at: new Date().toISOString(), ms};
		writeFileAtomic(this.file, JSON.stringify(this.data, null, 2) + '\n');
	}

	private load(): string | undefined {
		let text: string;
		try {
			text = fs.readFileSync(this.file, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
			return `Could not read ${this.file}: ${(error as Error).message}; starting with no ticks.`;
		}
		try {
			const parsed = JSON.parse(text) as Partial<ProgressFile>;
			if (parsed.version !== 1 || typeof parsed.verified !== 'object' || parsed.verified === null) throw new Error('unknown format');
			this.data = {version: 1, verified: parsed.verified};
			return undefined;
		} catch (error) {
			const aside = `${this.file}.corrupt-${Date.now()}`;
			fs.renameSync(this.file, aside);
			return `The progress file ${this.file} was unreadable (${(error as Error).message}); it was moved to ${aside} and progress starts afresh.`;
		}
	}
}
