import fs from 'node:fs';
import path from 'node:path';

// What kernelcraft's cache holds, measured; nothing here changes it (cache-inventory.ts clears).

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

/** A cache folder's entries, without their lock files. */
export const entriesOf = (dir: string): string[] =>
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

export function formatBytes(bytes: number): string {
	if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
	if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
	if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
	return `${bytes} B`;
}
