import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {configsDir} from '../paths.js';
import {hashInputs} from './content-hash.js';

/** A file a milestone adds to the guest, e.g. a module under /lib/modules. */
export interface GuestFile {
	guestPath: string;
	hostPath: string;
	mode?: string;
}

export interface Rootfs {
	/** An uncompressed newc cpio: the kernel unpacks it faster than a gzipped one under TCG. */
	path: string;
	key: string;
	rebuilt: boolean;
}

export interface RootfsOptions {
	/** The kernel build dir: its usr/gen_init_cpio packs the archive, no root needed. */
	kernelBuildDir: string;
	cacheDir: string;
	extras?: GuestFile[];
	busybox?: string;
	init?: string;
}

export const defaultBusybox = '/bin/busybox';
const baseDirs = [
	'/bin',
	'/sbin',
	'/dev',
	'/proc',
	'/sys',
	'/tmp',
	'/root',
	'/etc',
	'/etc/kernelcraft',
	'/etc/kernelcraft/init.d',
	'/mnt',
	'/lib',
	'/lib/modules',
	'/usr',
	'/usr/bin',
];

export function ensureRootfs(options: RootfsOptions): Rootfs {
	const busybox = options.busybox ?? defaultBusybox;
	const init = options.init ?? path.join(configsDir, 'rootfs', 'init');
	checkBusybox(busybox);
	const extras = options.extras ?? [];
	for (const extra of extras) {
		if (!fs.existsSync(extra.hostPath))
			throw new LabError({what: `A file meant for the guest's ${extra.guestPath} is missing: ${extra.hostPath}.`});
	}
	const builtIn: GuestFile[] = [
		{
			guestPath: '/etc/kernelcraft/init.d/side-channel',
			hostPath: path.join(configsDir, 'rootfs', 'side-channel'),
			mode: '755',
		},
		{
			guestPath: '/etc/kernelcraft/init.d/check-shell',
			hostPath: path.join(configsDir, 'rootfs', 'check-shell'),
			mode: '755',
		},
		{guestPath: '/etc/kernelcraft/shrc', hostPath: path.join(configsDir, 'rootfs', 'shrc'), mode: '644'},
	];
	const inputs: Record<string, string> = {
		format: 'rootfs-4',
		init: fs.readFileSync(init, 'utf8'),
		busybox: fileIdentity(busybox),
	};
	for (const file of builtIn) inputs[`builtin:${file.guestPath}`] = fs.readFileSync(file.hostPath, 'utf8');
	for (const extra of extras)
		inputs[`extra:${extra.guestPath}`] = `${extra.mode ?? '644'}:${fileIdentity(extra.hostPath)}`;
	const key = hashInputs(inputs);
	// One file, made in well under a second and identical for identical inputs: two processes may
	// both make it, each writes a temporary name of its own and renames it into place whole, so a
	// reader only ever sees a complete archive. No lock is needed for that.
	const archive = path.join(options.cacheDir, 'rootfs', `${key}.cpio`);
	if (fs.existsSync(archive)) return {path: archive, key, rebuilt: false};

	const generator = path.join(options.kernelBuildDir, 'usr', 'gen_init_cpio');
	if (!fs.existsSync(generator))
		throw new LabError({
			what: `${generator} is missing: the kernel build should have made it.`,
			hint: 'Check that CONFIG_BLK_DEV_INITRD=y is in configs/kernel/, then build the kernel again.',
		});
	const staging = new SpaceFreePaths();
	try {
		const list = cpioList(
			staging.of(busybox),
			staging.of(init),
			[...builtIn, ...extras].map(file => ({...file, hostPath: staging.of(file.hostPath)})),
		);
		const listFile = path.join(options.cacheDir, 'rootfs', `${key}.list`);
		writeFileAtomic(listFile, list);
		const packed = execFileSync(generator, ['-t', '0', listFile], {maxBuffer: 512 * 1024 * 1024});
		writeFileAtomic(archive, packed);
	} finally {
		staging.dispose();
	}
	return {path: archive, key, rebuilt: true};
}

/**
 * gen_init_cpio reads its list with sscanf("%s"): a host path with a space in it (a home folder
 * named "Jane Doe", a clone in "My Projects") would be cut there. Such a path is given as a
 * symlink of a space-free name in a private temp folder, which gen_init_cpio follows.
 */
class SpaceFreePaths {
	private dir: string | undefined;
	private count = 0;

	of(hostPath: string): string {
		if (!/\s/.test(hostPath)) return hostPath;
		this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kernelcraft-cpio-'));
		if (/\s/.test(this.dir))
			throw new LabError({
				what: `Cannot pack ${hostPath} into the guest: its path has a space, and so does the temp folder ${this.dir}.`,
				hint: 'Set TMPDIR to a folder without spaces (for example /tmp).',
			});
		const link = path.join(this.dir, `${this.count++}-${path.basename(hostPath).replace(/\s/g, '_')}`);
		fs.symlinkSync(path.resolve(hostPath), link);
		return link;
	}

	dispose(): void {
		if (this.dir) fs.rmSync(this.dir, {recursive: true, force: true});
	}
}

/** gen_init_cpio's list format: one entry per line, parents before children. */
export function cpioList(busybox: string, init: string, extras: GuestFile[]): string {
	const dirs = new Set(baseDirs);
	for (const extra of extras) {
		for (let dir = path.posix.dirname(extra.guestPath); dir !== '/'; dir = path.posix.dirname(dir)) dirs.add(dir);
	}
	const lines = [...dirs].sort().map(dir => `dir ${dir} 755 0 0`);
	lines.push('nod /dev/console 600 0 0 c 5 1');
	lines.push(`file /bin/busybox ${busybox} 755 0 0`);
	lines.push(`file /init ${init} 755 0 0`);
	for (const extra of extras) lines.push(`file ${extra.guestPath} ${extra.hostPath} ${extra.mode ?? '644'} 0 0`);
	return lines.join('\n') + '\n';
}

function checkBusybox(busybox: string): void {
	if (!fs.existsSync(busybox))
		throw new LabError({what: `${busybox} is missing.`, hint: 'Run `kernelcraft setup` (installs busybox-static).'});
	const head = fs.readFileSync(busybox).subarray(0, 4096);
	// A dynamically linked busybox would need the host's libc inside the initramfs: insist on static.
	if (head.includes(Buffer.from('ld-linux')))
		throw new LabError({
			what: `${busybox} is dynamically linked; the guest has no libc.`,
			hint: 'Install busybox-static (`kernelcraft setup`).',
		});
}

/** A file's identity for the cache key: its size and a hash of its content. */
function fileIdentity(file: string): string {
	const stat = fs.statSync(file);
	return hashInputs({size: String(stat.size), content: fs.readFileSync(file).toString('base64')});
}
