import fs from 'node:fs';
import path from 'node:path';
import {removeTree} from './build/cache-entry.js';
import {withLock} from './build/cache-lock.js';

/** The kinds of things in kernelcraft's cache, as `kernelcraft cache` names them. */
export const cacheKinds = {
	runs: {folders: ['runs'], what: 'logs, transcripts and traces of past runs'},
	kernels: {folders: ['src', 'kernel'], what: 'the unpacked kernel source and kernel builds'},
	qemu: {folders: ['qemu'], what: "QEMU's source, work tree and builds"},
	builds: {
		folders: ['modules', 'guest-programs', 'rootfs', 'disks'],
		what: 'modules, guest programs, root filesystems and disk images',
	},
	compiler: {
		folders: ['ccache'],
		what: 'the compiler cache (ccache): objects the next kernel, module or QEMU build reuses',
	},
} as const;

export type CacheKind = keyof typeof cacheKinds;

export interface KindUsage {
	kind: CacheKind;
	what: string;
	bytes: number;
	entries: number;
}

/** Bytes under a path (files only, not following links). */
export function treeSize(target: string): number {
	let stat: fs.Stats;
	try {
		stat = fs.lstatSync(target);
	} catch {
		return 0;
	}
	if (!stat.isDirectory()) return stat.size;
	let total = 0;
	for (const entry of fs.readdirSync(target)) total += treeSize(path.join(target, entry));
	return total;
}

const entriesOf = (dir: string) =>
	fs.existsSync(dir) ? fs.readdirSync(dir).filter(name => !name.endsWith('.lock') && !name.endsWith('.owner')) : [];

export function cacheUsage(cacheDir: string): KindUsage[] {
	return (Object.keys(cacheKinds) as CacheKind[]).map(kind => {
		const folders = cacheKinds[kind].folders.map(folder => path.join(cacheDir, folder));
		return {
			kind,
			what: cacheKinds[kind].what,
			bytes: folders.reduce((sum, folder) => sum + treeSize(folder), 0),
			entries: folders.reduce((sum, folder) => sum + entriesOf(folder).length, 0),
		};
	});
}

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

export function formatBytes(bytes: number): string {
	if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
	if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
	if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
	return `${bytes} B`;
}
