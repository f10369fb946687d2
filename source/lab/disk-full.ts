import fs from 'node:fs';
import path from 'node:path';
import {cacheUsage, formatBytes} from './cache-usage.js';
import {LabError} from './lab-error.js';
import {cacheRoot} from './paths.js';

/** A write failed because the disk (or the user's quota) is full. */
export function isNoSpace(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Free bytes on the file system that holds `target` (its nearest existing folder). */
function freeBytes(target: string): number | undefined {
	let dir = target;
	while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
	try {
		const stats = fs.statfsSync(dir);
		return stats.bavail * stats.bsize;
	} catch {
		return undefined;
	}
}

/**
 * What to say when a write to `target` found the disk full: how much is free, how big
 * kernelcraft's cache is and what each `kernelcraft cache --clear` would free, largest first.
 */
export function noSpaceError(target: string, cacheDir = cacheRoot()): LabError {
	const free = freeBytes(target);
	const usage = cacheUsage(cacheDir)
		.filter(kind => kind.bytes > 0)
		.sort((a, b) => b.bytes - a.bytes);
	const total = usage.reduce((sum, kind) => sum + kind.bytes, 0);
	const largest = usage[0];
	return new LabError({
		what: `No space left on the disk that holds ${target}${free === undefined ? '' : ` (${formatBytes(free)} free)`}.`,
		lastSeen: [
			`kernelcraft's cache (${cacheDir}) holds ${formatBytes(total)}:`,
			...usage.map(kind => `  ${kind.kind}: ${formatBytes(kind.bytes)} (${kind.what})`),
		],
		hint: largest
			? `Free some space: \`kernelcraft cache --clear ${largest.kind}\` frees ${formatBytes(largest.bytes)} (everything in the cache is rebuilt on demand), then run again.`
			: 'Free some space on that disk, then run again.',
	});
}
