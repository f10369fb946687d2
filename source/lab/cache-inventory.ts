import fs from 'node:fs';
import path from 'node:path';
import {removeTree} from './build/cache-entry.js';
import {withLock} from './build/cache-lock.js';
import {cacheKinds, entriesOf, treeSize, type CacheKind} from './cache-usage.js';

/** Runs newer than this may belong to a kernelcraft that is running now: clearing keeps them. */
const liveRunAgeMs = 10 * 60_000;

/**
 * Removes one kind from the cache. Each entry is removed under its own lock, so a build that
 * another kernelcraft process is making right now is waited for, never cut from under it.
 */
export async function clearCache(cacheDir: string, kind: CacheKind, onLine: (line: string) => void): Promise<number> {
	let freed = 0;
	for (const folder of cacheKinds[kind].folders.map(name => path.join(cacheDir, name))) {
		for (const name of entriesOf(folder)) {
			const entry = path.join(folder, name);
			if (kind === 'runs' && Date.now() - fs.statSync(entry).mtimeMs < liveRunAgeMs) {
				onLine(`kept ${name}: written in the last 10 minutes, it may belong to a kernelcraft that is running`);
				continue;
			}
			const bytes = treeSize(entry);
			const lock = `${entry}.lock`;
			if (fs.existsSync(lock)) {
				await withLock(
					lock,
					{what: 'clearing the cache', onWait: () => onLine(`waiting for the process using ${name}`)},
					async () => removeTree(entry),
				);
			} else {
				removeTree(entry);
			}
			freed += bytes;
		}
	}
	return freed;
}

/**
 * Keeps runs/ under a size cap: the newest runs stay (at least `keepNewest` of them, whatever
 * their size), older ones go once the total passes `capBytes`. Called when a run starts.
 */
export function pruneRuns(cacheDir: string, capBytes = 512 * 1024 * 1024, keepNewest = 5): string[] {
	const runs = path.join(cacheDir, 'runs');
	const names = entriesOf(runs).sort().reverse();
	const removed: string[] = [];
	let total = 0;
	names.forEach((name, index) => {
		const full = path.join(runs, name);
		total += treeSize(full);
		if (index >= keepNewest && total > capBytes && Date.now() - fs.statSync(full).mtimeMs > liveRunAgeMs) {
			removeTree(full);
			removed.push(name);
		}
	});
	return removed;
}
