import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import type {JobControl} from '../host/job-control.js';
import {devicesDir} from '../paths.js';
import {ensureCacheEntry, removeTree} from './cache-entry.js';
import {describeOwner, lockHeld, withLock} from './cache-lock.js';
import {ensureQemuSource, fetchedQemuSource} from './qemu-source.js';
import {compilerErrorLines} from './kernel.js';
import {formatCompilerError, parseCompilerErrors} from './compiler-errors.js';
import {
	compilerCacheEnv,
	compilerCacheLogName,
	describeCompilerCache,
	readCompilerCacheStats,
} from './compiler-cache.js';
import {directoryContents, hashInputs} from './content-hash.js';

export interface QemuBuild {
	binary: string;
	version: string;
	rebuilt: boolean;
	logPath: string;
}

export interface QemuBuildOptions {
	/** QEMU_SRC: a QEMU 7.2.x tree to use instead of Debian's source package. */
	given?: string;
	cacheDir: string;
	signal?: AbortSignal;
	onLine?: (line: string) => void;
	onProgress?: (fraction: number, label: string, estimated: boolean) => void;
	/** Built ahead of time by the TUI: low priority, and paused or resumed through `control`. */
	background?: boolean;
	control?: JobControl;
	/**
	 * Compile with -g (qemu-build.sh --debug-info), for gdb on QEMU (`kernelcraft gdb --qemu`). A
	 * build of its own: its own cache key and its own work tree, so the milestones' QEMU without -g
	 * is never reconfigured back and forth.
	 */
	debugInfo?: boolean;
	/**
	 * The device's files from this folder instead of devices/virtio-hello (a learner's exercise
	 * copy, same file names; the ABI header stays the repository's). Built in a work tree of its
	 * own, so the reference's QEMU stays cached and each change to the copy is an incremental
	 * build: the changed file compiled, QEMU relinked.
	 */
	deviceDir?: string;
}

const script = () => path.join(devicesDir, 'qemu-build.sh');
/** Files of devices/ that qemu-build.sh runs or applies to the tree. */
const buildHelpers = [
	'qemu-pch.py',
	'qemu-trace-batch.py',
	'kernelcraft_unity.py',
	'qemu-7.2-unity.patch',
	'qemu-7.2-configure.patch',
];
/** The devices compiled in: qemu-build.sh configures QEMU with exactly this list. */
export const qemuDeviceList = () => path.join(devicesDir, 'qemu-devices.mak');

/**
 * QEMU with the devices of devices/ compiled in. devices/qemu-build.sh does the work (apply,
 * configure, ninja) in a work tree; this keys the result by the source's identity and the content
 * of devices/, and publishes the binary as a cache entry.
 * - Debian's source (fetched once by `kernelcraft setup` or by the first build, see
 *   qemu-source.ts) is never written to: the work tree is a copy of it, kept between builds so an
 *   edit of devices/ recompiles only what changed, and used by one process at a time (a lock).
 * - A given tree (QEMU_SRC) is the learner's own: the devices are applied to it, as before.
 */
export async function ensureQemu(options: QemuBuildOptions): Promise<QemuBuild> {
	const qemuCache = path.join(options.cacheDir, 'qemu');
	let source: {dir: string; version: string; id: string};
	if (options.given) {
		const dir = path.resolve(options.given);
		if (!fs.existsSync(path.join(dir, 'VERSION')) || !fs.existsSync(path.join(dir, 'hw', 'virtio'))) {
			throw new LabError({
				what: `QEMU_SRC is ${dir}, which is not a QEMU source tree (no VERSION or hw/virtio).`,
				hint: "Point it at an unpacked QEMU 7.2.x tree (`dpkg-source -x` of Debian's package works).",
			});
		}
		source = {dir, version: fs.readFileSync(path.join(dir, 'VERSION'), 'utf8').trim(), id: `given:${dir}`};
	} else {
		if (!fetchedQemuSource(options.cacheDir))
			options.onProgress?.(0, "fetching QEMU's source (apt-get source qemu, ~24 MB)", false);
		source = await ensureQemuSource({cacheDir: options.cacheDir, onLine: options.onLine, signal: options.signal});
	}
	if (!source.version.startsWith('7.2.')) {
		throw new LabError({
			what: `QEMU ${source.version} in ${source.dir} is not supported: the virtio-hello device targets QEMU 7.2.x (Debian bookworm's).`,
			hint: "Unset QEMU_SRC to use Debian's QEMU 7.2 source.",
		});
	}
	const sourceKey = hashInputs({source: source.id, version: source.version});
	// devices/virtio-hello/test/ holds guest-side tools for the tests (vh-raw.c), not QEMU code.
	// The device list is an input: a line added to or removed from it rebuilds QEMU.
	const deviceDir = options.deviceDir ? path.resolve(options.deviceDir) : undefined;
	const inputs = hashInputs({
		sourceKey,
		script: fs.readFileSync(script(), 'utf8'),
		// What qemu-build.sh runs or applies besides itself: a change to one rebuilds QEMU with it.
		...Object.fromEntries(buildHelpers.map(name => [name, fs.readFileSync(path.join(devicesDir, name), 'utf8')])),
		deviceList: fs.readFileSync(qemuDeviceList(), 'utf8'),
		...directoryContents(path.join(devicesDir, 'virtio-hello'), name => name === 'test'),
		...(options.debugInfo ? {debugInfo: 'qemu-build.sh --debug-info'} : {}),
		...(deviceDir ? deviceInputs(deviceDir) : {}),
	});
	// A learner's builds replace each other (one copy, many saves): a folder of their own, pruned.
	const entryDir = path.join(qemuCache, deviceDir ? 'exercise-bin' : 'bin', inputs);
	const workDir = path.join(
		qemuCache,
		`work-${sourceKey}${options.debugInfo ? '-g' : ''}${deviceDir ? '-exercise' : ''}`,
	);
	// Compiler messages name the learner's files, not the work tree's copies of them.
	const toSource = deviceDir ? learnerPaths(deviceDir) : (line: string) => line;
	const logPath = path.join(workDir, 'build.log');
	const entry = await ensureCacheEntry(
		entryDir,
		{what: 'building QEMU', onLine: options.onLine, signal: options.signal},
		async scratch => {
			const onWait = (owner: Parameters<typeof describeOwner>[0]) =>
				options.onLine?.(`waiting for ${describeOwner(owner)}`);
			await withLock(`${workDir}.lock`, {what: 'building QEMU', onWait, signal: options.signal}, async () => {
				const treeDir = options.given ? source.dir : prepareWorkTree(workDir, source.dir);
				options.onProgress?.(0, 'configuring QEMU (x86_64-softmmu, the devices in devices/qemu-devices.mak)', false);
				// ccache through its masquerade folder: configure's `cc` is then ccache, so a second
				// work tree (a new QEMU source) or an object edited back compiles from the cache.
				const statsLog = path.join(workDir, compilerCacheLogName);
				fs.rmSync(statsLog, {force: true});
				const scriptArgs = [
					...(options.debugInfo ? ['--debug-info'] : []),
					...(deviceDir ? ['--device-dir', deviceDir] : []),
					workDir,
					treeDir,
				];
				const build = runLogged('bash', [script(), ...scriptArgs], {
					logPath,
					env: compilerCacheEnv({cacheDir: options.cacheDir, statsLog, workTrees: true}),
					what: 'the QEMU build',
					signal: options.signal,
					background: options.background,
					control: options.control,
					onLine: raw => {
						const line = toSource(raw);
						options.onLine?.(line);
						const step = /^\[(\d+)\/(\d+)\]\s*(.*)$/.exec(line);
						if (step) options.onProgress?.(Number(step[1]) / Number(step[2]), step[3]!.slice(0, 80), false);
					},
					pickErrorLines: lines => {
						const errors = compilerErrorLines(lines.map(toSource));
						return errors.length > 0
							? errors
							: lines.filter(line => /error|not supported|missing/i.test(line)).slice(-10);
					},
					hint: "The build log has every line; `kernelcraft setup` installs what QEMU's build needs.",
				});
				try {
					await build;
				} catch (error) {
					// The first compile error heads the failure as file:line: message, as the module
					// build's does: the line to fix, where even a narrow step log shows it.
					const first = error instanceof LabError ? firstCompilerError(error.failure.lastSeen ?? []) : undefined;
					if (!first) throw error;
					throw new LabError({...(error as LabError).failure, what: first});
				}
				const cached = readCompilerCacheStats(statsLog);
				if (cached && cached.hits + cached.misses > 0) options.onLine?.(describeCompilerCache(cached));
				const built = path.join(workDir, 'build', 'qemu-system-x86_64');
				if (!fs.existsSync(built))
					throw new LabError({what: `The QEMU build finished but ${built} is missing.`, logPath});
				// A copy, not a link: the next build of the work tree rewrites its binary.
				fs.copyFileSync(built, path.join(scratch, 'qemu-system-x86_64'));
			});
			options.onProgress?.(1, `built QEMU ${source.version} with virtio-hello`, false);
			if (deviceDir) removeOtherEntries(path.dirname(entryDir), path.basename(entryDir));
			return {version: source.version};
		},
	);
	if (!entry.built)
		options.onLine?.(
			`QEMU ${entry.meta.version} with virtio-hello is already built for these inputs: nothing to rebuild`,
		);
	return {
		binary: path.join(entryDir, 'qemu-system-x86_64'),
		version: entry.meta.version,
		rebuilt: entry.built,
		logPath,
	};
}

/**
 * The work tree's copy of Debian's source, made once (cp -a keeps mtimes, so ninja's view of the
 * tree stays stable); a copy without its stamp was interrupted and is made again.
 */
function prepareWorkTree(workDir: string, pristine: string): string {
	const tree = path.join(workDir, 'src');
	const stamp = path.join(workDir, '.kernelcraft-tree');
	if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === pristine) return tree;
	removeTree(workDir);
	fs.mkdirSync(workDir, {recursive: true});
	const copy = spawnSync('cp', ['-a', pristine, tree], {encoding: 'utf8'});
	if (copy.status !== 0)
		throw new LabError({what: `Could not copy QEMU's source into ${tree}.`, lastSeen: [copy.stderr.trim()]});
	writeFileAtomic(stamp, pristine);
	return tree;
}

/** The files of a device folder qemu-build.sh reads (devices/virtio-hello's, by name). */
const deviceFiles = [
	'Kconfig',
	'meson.build',
	'qemu-7.2-virtio-core.patch',
	'trace-events',
	'virtio-hello-pci.c',
	'virtio-hello.c',
	'virtio-hello.h',
];

/** A learner's device folder as build inputs: its path (the work tree is theirs) and those files. */
function deviceInputs(deviceDir: string): Record<string, string> {
	const inputs: Record<string, string> = {deviceDir};
	for (const name of deviceFiles) {
		const file = path.join(deviceDir, name);
		inputs[`device:${name}`] = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
	}
	return inputs;
}

/** A build line with the work tree's copies of the device's files named as the learner's own. */
function learnerPaths(deviceDir: string): (line: string) => string {
	return line =>
		line
			.replace(/(?:[^\s:'"]*\/)?src\/hw\/virtio\/(virtio-hello(?:-pci)?\.c)\b/g, (_all, name: string) =>
				path.join(deviceDir, name),
			)
			.replace(/(?:[^\s:'"]*\/)?src\/include\/hw\/virtio\/virtio-hello\.h\b/g, path.join(deviceDir, 'virtio-hello.h'));
}

function firstCompilerError(lines: string[]): string | undefined {
	const [first, ...more] = parseCompilerErrors(lines);
	if (!first) return undefined;
	return `${formatCompilerError(first)[0]}${more.length > 0 ? ` (and ${more.length} more below)` : ''}`;
}

/**
 * Every entry of `folder` but `keep` and those another process holds now: a learner's earlier
 * builds (10 MB or more each, one per save). Their lock files stay: a flock lives on the file,
 * so unlinking one that is held or waited on would let the next process lock a new file beside
 * the holder (they are empty).
 */
function removeOtherEntries(folder: string, keep: string): void {
	for (const name of fs.readdirSync(folder)) {
		if (!/^[0-9a-f]{16}$/.test(name) || name === keep) continue;
		if (lockHeld(path.join(folder, `${name}.lock`))) continue;
		removeTree(path.join(folder, name));
	}
}
