import fs from 'node:fs';
import {writeFileAtomic} from '../atomic-file.js';

/**
 * make prints one line per object (CC, LD, AR, ...). Counting them against the count of the last
 * full build gives a progress fraction; the first build uses a default, so it is an estimate.
 */
export class LineProgress {
	private seen = 0;
	readonly estimated: boolean;
	private readonly expected: number;

	constructor(
		private readonly memoryFile: string,
		fallbackExpected: number,
		private readonly counts: RegExp,
	) {
		const remembered = readRemembered(memoryFile);
		this.expected = remembered ?? fallbackExpected;
		this.estimated = remembered === undefined;
	}

	/** Returns the new fraction (0..0.99) when the line counts, else undefined. */
	take(line: string): number | undefined {
		if (!this.counts.test(line)) return undefined;
		this.seen++;
		return this.fraction();
	}

	fraction(): number {
		return Math.min(0.99, this.seen / this.expected);
	}

	get count(): number {
		return this.seen;
	}

	/** After a complete build from scratch: remember how many lines it took. */
	remember(): void {
		if (this.seen > 0) writeFileAtomic(this.memoryFile, JSON.stringify({lines: this.seen}) + '\n');
	}
}

function readRemembered(file: string): number | undefined {
	try {
		const lines = JSON.parse(fs.readFileSync(file, 'utf8')).lines;
		return typeof lines === 'number' && lines > 0 ? lines : undefined;
	} catch {
		return undefined;
	}
}
