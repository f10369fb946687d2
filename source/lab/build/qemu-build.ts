import fs from 'node:fs';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import {devicesDir} from '../paths.js';
import {withBuildLock} from './build-lock.js';
import {compilerErrorLines} from './kernel.js';
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
}

const script = () => path.join(devicesDir, 'qemu-build.sh');

/**
 * QEMU with the devices of devices/ compiled in. devices/qemu-build.sh does the work (fetch,
 * apply, configure, ninja); this keys its result by the source's identity and the content of
 * devices/, skips it when both are unchanged, and turns ninja's "[n/m]" into progress.
 */
export async function ensureQemu(options: QemuBuildOptions): Promise<QemuBuild> {
	const qemuCache = path.join(options.cacheDir, 'qemu');
	const fetchLog = path.join(qemuCache, 'fetch.log');
	const run = (args: string[], what: string, logPath: string, onLine?: (line: string) => void) => runLogged('bash', [script(), ...args], {
		logPath,
		what,
		signal: options.signal,
		onLine: line => {
			options.onLine?.(line);
			onLine?.(line);
		},
		pickErrorLines: lines => {
			const errors = compilerErrorLines(lines);
			return errors.length > 0 ? errors : lines.filter(line => /error|not supported|missing/i.test(line)).slice(-10);
		},
		hint: 'The build log has every line; `kernelcraft setup` installs what QEMU\'s build needs.',
	});

	let sourceDir: string;
	if (options.given) {
		sourceDir = path.resolve(options.given);
		if (!fs.existsSync(path.join(sourceDir, 'VERSION')) || !fs.existsSync(path.join(sourceDir, 'hw', 'virtio'))) {
			throw new LabError({what: `QEMU_SRC is ${sourceDir}, which is not a QEMU source tree (no VERSION or hw/virtio).`, hint: 'Point it at an unpacked QEMU 7.2.x tree (`dpkg-source -x` of Debian\'s package works).'});
		}
	} else {
		sourceDir = findFetchedSource(qemuCache) ?? '';
		if (!sourceDir) {
			options.onProgress?.(0, 'fetching QEMU\'s source (apt-get source qemu, ~24 MB)', false);
			await withBuildLock(qemuCache, owner => options.onLine?.(`waiting for another kernelcraft process (pid ${owner}) fetching QEMU`), options.signal,
				() => run(['--fetch-only', qemuCache], 'fetching QEMU\'s source', fetchLog));
			sourceDir = findFetchedSource(qemuCache) ?? '';
			if (!sourceDir) throw new LabError({what: 'apt-get source qemu finished but left no QEMU tree.', logPath: fetchLog});
		}
	}
	const version = fs.readFileSync(path.join(sourceDir, 'VERSION'), 'utf8').trim();
	if (!version.startsWith('7.2.')) {
		throw new LabError({what: `QEMU ${version} in ${sourceDir} is not supported: the virtio-hello device targets QEMU 7.2.x (Debian bookworm's).`, hint: 'Unset QEMU_SRC to use Debian\'s QEMU 7.2 source.'});
	}
	const sourceKey = hashInputs({source: options.given ? `given:${sourceDir}` : `debian:${path.basename(sourceDir)}`, version});
	const buildRoot = path.join(qemuCache, sourceKey);
	const binary = path.join(buildRoot, 'build', 'qemu-system-x86_64');
	const logPath = path.join(buildRoot, 'build.log');
	const inputs = hashInputs({sourceKey, script: fs.readFileSync(script(), 'utf8'), ...directoryContents(path.join(devicesDir, 'virtio-hello'))});
	const stampPath = path.join(buildRoot, 'kernelcraft-build.json');

	return withBuildLock(buildRoot, owner => options.onLine?.(`waiting for another kernelcraft process (pid ${owner}) building QEMU`), options.signal, async () => {
		if (readStamp(stampPath) === inputs && fs.existsSync(binary)) {
			options.onLine?.(`QEMU ${version} with virtio-hello is already built for these inputs: nothing to rebuild`);
			return {binary, version, rebuilt: false, logPath};
		}
		fs.mkdirSync(buildRoot, {recursive: true});
		options.onProgress?.(0, 'configuring QEMU (x86_64-softmmu only)', false);
		await run([buildRoot, sourceDir], 'the QEMU build', logPath, line => {
			const step = /^\[(\d+)\/(\d+)\]\s*(.*)$/.exec(line);
			if (step) options.onProgress?.(Number(step[1]) / Number(step[2]), step[3]!.slice(0, 80), false);
		});
		if (!fs.existsSync(binary)) throw new LabError({what: `The QEMU build finished but ${binary} is missing.`, logPath});
		writeFileAtomic(stampPath, JSON.stringify(inputs) + '\n');
		options.onProgress?.(1, `built QEMU ${version} with virtio-hello`, false);
		return {binary, version, rebuilt: true, logPath};
	});
}

function findFetchedSource(qemuCache: string): string | undefined {
	const src = path.join(qemuCache, 'src');
	if (!fs.existsSync(src)) return undefined;
	const tree = fs.readdirSync(src).find(name => name.startsWith('qemu-') && fs.existsSync(path.join(src, name, 'VERSION')));
	return tree ? path.join(src, tree) : undefined;
}

function readStamp(file: string): string | undefined {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8')) as string;
	} catch {
		return undefined;
	}
}
