import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import {ensureCacheEntry, readStamp} from './cache-entry.js';

export interface QemuSource {
	/** The unpacked tree, with Debian's patches applied. Never written to: builds copy it. */
	dir: string;
	version: string;
	/** Identifies the source in cache keys (Debian's package version). */
	id: string;
}

interface SourceMeta {
	tree: string;
	version: string;
	packageVersion: string;
}

const entryName = 'debian-source';

/** What `apt-get source qemu` would do here: ready, or what is missing, said for a person. */
export type AptSourceState = {ready: true} | {ready: false; missing: 'deb-src' | 'index'; detail: string};

/**
 * Asks apt, without downloading anything, whether `apt-get source qemu` can work: a deb-src
 * entry for the system's release, and source indexes fetched by `apt-get update`.
 */
export function aptSourceState(): AptSourceState {
	const probe = spawnSync('apt-get', ['--print-uris', '-qq', 'source', 'qemu'], {encoding: 'utf8', cwd: '/tmp'});
	if (probe.error) return {ready: false, missing: 'deb-src', detail: `apt-get could not run: ${probe.error.message}`};
	if (probe.status === 0) return {ready: true};
	const said = `${probe.stderr}`.trim();
	if (/deb-src/i.test(said)) return {ready: false, missing: 'deb-src', detail: said};
	return {ready: false, missing: 'index', detail: said};
}

/** The fetched QEMU source, if `kernelcraft setup` (or an earlier run) has fetched it. */
export function fetchedQemuSource(cacheDir: string): QemuSource | undefined {
	const dir = path.join(cacheDir, 'qemu', entryName);
	const stamp = readStamp<SourceMeta>(dir);
	return stamp ? describe(dir, stamp.meta) : undefined;
}

export interface FetchQemuSourceOptions {
	cacheDir: string;
	onLine?: (line: string) => void;
	signal?: AbortSignal;
}

/**
 * Debian's QEMU 7.2 source, fetched with `apt-get source qemu` (no root needed) into a scratch
 * folder and published only after dpkg-source has unpacked it and applied every Debian patch.
 * It changes nothing on the host: when apt has no deb-src entry, the error names
 * `kernelcraft setup`, which adds one after asking.
 */
export async function ensureQemuSource(options: FetchQemuSourceOptions): Promise<QemuSource> {
	const fetched = fetchedQemuSource(options.cacheDir);
	if (fetched) return fetched;
	const dir = path.join(options.cacheDir, 'qemu', entryName);
	const entry = await ensureCacheEntry<SourceMeta>(
		dir,
		{what: "fetching QEMU's source", onLine: options.onLine, signal: options.signal},
		async scratch => {
			const state = aptSourceState();
			if (!state.ready) {
				throw new LabError({
					what:
						state.missing === 'deb-src'
							? "QEMU's source cannot be fetched: apt has no deb-src entry for this release."
							: "QEMU's source cannot be fetched: apt has no source index yet.",
					lastSeen: state.detail ? state.detail.split('\n').slice(-3) : undefined,
					hint: 'Run `npx kernelcraft setup`: it adds the deb-src entry (after asking) and fetches the source. Or set QEMU_SRC to an unpacked QEMU 7.2 tree.',
				});
			}
			options.onLine?.('apt-get source qemu (about 24 MB, then dpkg-source unpacks and patches it)');
			await runLogged('apt-get', ['source', '-q', 'qemu'], {
				cwd: scratch,
				logPath: path.join(scratch, 'fetch.log'),
				what: "fetching QEMU's source (apt-get source qemu)",
				signal: options.signal,
				onLine: options.onLine,
				hint: "Check the network and `apt-get source qemu` by hand; `npx kernelcraft setup` fixes apt's source entries.",
			});
			const tree = fs
				.readdirSync(scratch)
				.find(name => name.startsWith('qemu-') && fs.existsSync(path.join(scratch, name, 'VERSION')));
			if (!tree)
				throw new LabError({
					what: 'apt-get source qemu finished but left no QEMU tree.',
					logPath: path.join(scratch, 'fetch.log'),
				});
			// The tarballs are only the download: the unpacked tree is what builds use.
			for (const name of fs.readdirSync(scratch)) {
				if (/\.(tar\.\w+|dsc)$/.test(name)) fs.rmSync(path.join(scratch, name));
			}
			const version = fs.readFileSync(path.join(scratch, tree, 'VERSION'), 'utf8').trim();
			return {tree, version, packageVersion: dscVersion(path.join(scratch, 'fetch.log')) ?? version};
		},
	);
	return describe(dir, entry.meta);
}

function describe(dir: string, meta: SourceMeta): QemuSource {
	return {dir: path.join(dir, meta.tree), version: meta.version, id: `debian:qemu:${meta.packageVersion}`};
}

/** The package version apt-get printed while downloading ("… qemu 1:7.2+dfsg-7+deb12u18 (dsc) …"). */
function dscVersion(logPath: string): string | undefined {
	return /qemu (\S+) \(dsc\)/.exec(fs.readFileSync(logPath, 'utf8'))?.[1];
}
