import fs from 'node:fs';
import path from 'node:path';
import {removeTree} from './build/cache-entry.js';
import {withLock} from './build/cache-lock.js';
import {cacheKinds, entriesOf, treeSize, type CacheKind} from './cache-usage.js';

/** Runs newer than this may belong to a kernelcraft that is running now: clearing keeps them. */
const liveRunAgeMs = 10 * 60_000;

/**
 * Removes one kind from the cache. Each entry is removed under its own lock, so a build that
 * another kernelcraft process is making right now is waited for, never cut from under it; a
 * folder that holds entries of its own (qemu/exercise-bin/<key>) is cleared entry by entry the
 * same way; a build in progress in a scratch folder (<entry>.scratch-<pid>-<tag>, see
 * cache-entry.ts) is kept while its process lives. Lock files stay: removing one that is held
 * would let a second process lock a new file beside the holder.
 */
export async function clearCache(cacheDir: string, kind: CacheKind, onLine: (line: string) => void): Promise<number> {
	let freed = 0;
	const clear = async (folder: string): Promise<void> => {
		for (const name of entriesOf(folder)) {
			const entry = path.join(folder, name);
			const scratchOf = /\.scratch-(\d+)-[0-9a-f]+$/.exec(name);
			if (scratchOf && processAlive(Number(scratchOf[1]))) {
				onLine(`kept ${name}: a build in progress (pid ${scratchOf[1]})`);
				continue;
			}
			if (kind === 'runs' && Date.now() - fs.statSync(entry).mtimeMs < liveRunAgeMs) {
				onLine(`kept ${name}: written in the last 10 minutes, it may belong to a kernelcraft that is running`);
				continue;
			}
			const lock = `${entry}.lock`;
			if (fs.existsSync(lock)) {
				const bytes = treeSize(entry);
				await withLock(
					lock,
					{what: 'clearing the cache', onWait: () => onLine(`waiting for the process using ${name}`)},
					async () => removeTree(entry),
				);
				freed += bytes;
			} else if (holdsEntries(entry)) {
				await clear(entry);
			} else {
				freed += treeSize(entry);
				removeTree(entry);
			}
		}
	};
	for (const folder of cacheKinds[kind].folders.map(name => path.join(cacheDir, name))) await clear(folder);
	return freed;
}

/** A folder with entries of its own: some child has a lock file beside it. */
function holdsEntries(dir: string): boolean {
	try {
		return fs.statSync(dir).isDirectory() && fs.readdirSync(dir).some(name => name.endsWith('.lock'));
	} catch {
		return false;
	}
}

function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
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
