import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import {ensureCacheEntry} from './cache-entry.js';

export interface KernelSource {
	dir: string;
	/** e.g. "6.1.192" from the tree's Makefile. */
	version: string;
	/** What identifies this source in cache keys. */
	id: string;
	/** Debian's unpacked package never changes, so a build with the same key is final. A learner's
	 * own tree can change under us: make runs every time and rebuilds what changed. */
	immutable: boolean;
	origin: 'debian-package' | 'given';
}

export const debianKernelTarball = '/usr/src/linux-source-6.1.tar.xz';
const debianKernelPackage = 'linux-source-6.1';

/** Reads VERSION/PATCHLEVEL/SUBLEVEL from a tree's top Makefile; throws if it is not a kernel tree. */
export function validateKernelTree(dir: string, how: string): string {
	if (!fs.existsSync(dir))
		throw new LabError({
			what: `${how} points to ${dir}, which does not exist.`,
			hint: "Give the path of a Linux source tree (the folder with the top-level Makefile and Kconfig), or leave it unset to use Debian's linux-source-6.1.",
		});
	if (!fs.statSync(dir).isDirectory())
		throw new LabError({
			what: `${how} points to ${dir}, which is a file, not a directory.`,
			hint: 'Give the folder of a Linux source tree, not an archive: unpack it first.',
		});
	const makefile = path.join(dir, 'Makefile');
	const missing = ['Makefile', 'Kconfig', 'scripts/kconfig/merge_config.sh', 'arch/x86/Kconfig'].filter(
		file => !fs.existsSync(path.join(dir, file)),
	);
	if (missing.length > 0) {
		throw new LabError({
			what: `${how} is ${dir}, which is not a Linux kernel tree: it has no ${missing.join(', ')}.`,
			hint: 'Point it at the top of a kernel checkout (where `make kernelversion` works).',
		});
	}
	const text = fs.readFileSync(makefile, 'utf8');
	const field = (name: string) => new RegExp(`^${name}\\s*=\\s*(\\S*)`, 'm').exec(text)?.[1];
	const [version, patchlevel, sublevel] = [field('VERSION'), field('PATCHLEVEL'), field('SUBLEVEL')];
	if (!version || !patchlevel)
		throw new LabError({what: `${dir}/Makefile has no VERSION/PATCHLEVEL: this is not a Linux kernel tree.`});
	return `${version}.${patchlevel}.${sublevel || 0}`;
}

export interface ResolveKernelSourceOptions {
	/** --kernel-src or KERNEL_SRC. */
	given?: string;
	cacheDir: string;
	signal?: AbortSignal;
	onLine?: (line: string) => void;
}

export async function resolveKernelSource(options: ResolveKernelSourceOptions): Promise<KernelSource> {
	if (options.given) {
		const dir = path.resolve(options.given);
		const version = validateKernelTree(dir, 'The kernel source (KERNEL_SRC / --kernel-src)');
		return {dir, version, id: `given:${dir}:${version}`, immutable: false, origin: 'given'};
	}
	if (!fs.existsSync(debianKernelTarball)) {
		throw new LabError({
			what: `No kernel source: ${debianKernelTarball} is missing.`,
			hint: `Run \`kernelcraft setup\` (installs ${debianKernelPackage}), or set KERNEL_SRC to a kernel tree.`,
		});
	}
	const packageVersion = execFileSync('dpkg-query', ['-W', '-f=${Version}', debianKernelPackage], {
		encoding: 'utf8',
	}).trim();
	const {dir} = await ensureCacheEntry(
		path.join(options.cacheDir, 'src', `${debianKernelPackage}_${packageVersion}`),
		{what: 'unpacking the kernel source', onLine: options.onLine, signal: options.signal},
		scratch => unpack(scratch, options),
	);
	const version = validateKernelTree(dir, 'The unpacked linux-source-6.1');
	return {
		dir,
		version,
		id: `debian:${debianKernelPackage}:${packageVersion}`,
		immutable: true,
		origin: 'debian-package',
	};
}

/** Unpacks the tarball into the entry's scratch folder; ensureCacheEntry publishes it once tar has finished. */
async function unpack(scratch: string, options: ResolveKernelSourceOptions): Promise<Record<string, never>> {
	options.onLine?.(`unpacking ${debianKernelTarball} (138 MB, 10–30 s)`);
	await runLogged('tar', ['-xf', debianKernelTarball, '-C', scratch, '--strip-components=1'], {
		logPath: path.join(scratch, '.kernelcraft-unpack.log'),
		what: 'unpacking the kernel source',
		signal: options.signal,
	});
	return {};
}
