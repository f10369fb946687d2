import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline/promises';
import {ensureQemuSource, fetchedQemuSource, aptSourceState} from '../lab/build/qemu-source.js';
import {aptEntries, debSrcEntryText, debSrcFile, releaseCodename} from '../lab/host/apt-sources.js';
import {allRequirements, packageStates, type Requirement} from '../lab/host/requirements.js';
import {milestones} from '../expedition/milestones.js';
import {toFailure} from '../lab/lab-error.js';
import {cacheRoot} from '../lab/paths.js';
import {parseSharedCacheUrl, pingRedis, saveSharedCache} from '../lab/build/shared-cache.js';
import {compilerCacheAvailable} from '../lab/build/compiler-cache.js';

export interface SetupOptions {
	yes: boolean;
	quiet: boolean;
	/** Default: the kernelcraft cache ($KERNELCRAFT_CACHE or XDG's). */
	cacheDir?: string;
	extra?: Requirement[];
}

/**
 * Everything kernelcraft changes on the host, in one place and only after asking (or --yes):
 * the Debian packages doctor finds missing, one deb-src entry for QEMU's source package, and
 * then QEMU's source fetched into kernelcraft's own cache (which needs no root).
 */
export async function setupCommand(options: SetupOptions, out: NodeJS.WritableStream): Promise<number> {
	const cacheDir = options.cacheDir ?? cacheRoot();
	const missing = packageStates([...allRequirements(milestones), ...(options.extra ?? [])]).filter(
		state => !state.installed,
	);
	const sourceFetched = fetchedQemuSource(cacheDir) !== undefined;
	const aptSource = sourceFetched ? {ready: true as const} : aptSourceState();
	const debSrc = !aptSource.ready && aptSource.missing === 'deb-src' ? planDebSrc() : undefined;
	if (debSrc && 'error' in debSrc) {
		out.write(`${debSrc.error}\n`);
		return 1;
	}
	if (missing.length === 0 && sourceFetched) {
		if (!options.quiet) out.write("All host packages kernelcraft needs are installed, and QEMU's source is fetched.\n");
		return 0;
	}

	const changes: string[] = [];
	if (missing.length > 0) changes.push(`install these Debian packages: ${missing.map(state => state.pkg).join(' ')}`);
	if (debSrc)
		changes.push(
			`add ${debSrcFile} (a deb-src entry for ${debSrc.codename} main, so apt can fetch QEMU's source package)`,
		);
	if (!aptSource.ready) changes.push("refresh apt's package lists (apt-get update), for the source index");
	const hostChanges = changes.length > 0;
	if (hostChanges) {
		out.write(`kernelcraft setup will:\n${changes.map(change => `  - ${change}\n`).join('')}`);
		if (!options.yes && !(await confirm(out, 'Go ahead (through apt-get, with sudo when you are not root)? [y/N] '))) {
			out.write('Nothing changed.\n');
			return 1;
		}
	}
	const asRoot = process.getuid?.() === 0;
	const privileged = (command: string, args: string[], input?: string) => {
		out.write(`$ ${asRoot ? '' : 'sudo '}${[command, ...args].join(' ')}\n`);
		const [program, programArgs] = asRoot ? [command, args] : ['sudo', [command, ...args]];
		return spawnSync(program, programArgs, {
			input,
			stdio: [input === undefined ? 'ignore' : 'pipe', input === undefined ? 'inherit' : 'ignore', 'inherit'],
			env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'},
		}).status;
	};
	if (debSrc && privileged('tee', [debSrcFile], debSrc.text) !== 0) {
		out.write(`Could not write ${debSrcFile}.\n`);
		return 1;
	}
	if (missing.length > 0 || !aptSource.ready) {
		if (privileged('apt-get', ['update', '-q']) !== 0) {
			out.write('apt-get update failed: check the network and your apt sources, then run `kernelcraft setup` again.\n');
			return 1;
		}
	}
	if (missing.length > 0) {
		if (
			privileged('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing.map(state => state.pkg)]) !==
			0
		) {
			out.write(
				'apt-get install failed (see above). On a distribution other than Debian/Ubuntu, install the equivalents by hand.\n',
			);
			return 1;
		}
		const still = packageStates(missing).filter(state => !state.installed);
		if (still.length > 0) {
			out.write(`Still missing after apt-get: ${still.map(state => state.pkg).join(' ')}\n`);
			return 1;
		}
		out.write('Host packages installed.\n');
	}
	if (!sourceFetched) {
		out.write(`Fetching QEMU's source into ${cacheDir} (apt-get source qemu, about 24 MB)…\n`);
		try {
			const source = await ensureQemuSource({
				cacheDir: cacheDir,
				onLine: options.quiet ? undefined : line => out.write(`  ${line}\n`),
			});
			out.write(`QEMU ${source.version} source ready: ${source.dir}\n`);
		} catch (error) {
			const failure = toFailure(error);
			out.write(
				`${failure.what}\n${(failure.lastSeen ?? []).map(line => `  ${line}\n`).join('')}${failure.hint ? `  try: ${failure.hint}\n` : ''}`,
			);
			return 1;
		}
	}
	return 0;
}

type DebSrcPlan = {codename: string; text: string} | {error: string};

function planDebSrc(): DebSrcPlan {
	const codename = releaseCodename();
	const text = codename ? debSrcEntryText(aptEntries(), codename) : undefined;
	if (!codename || !text) {
		return {
			error:
				"QEMU's source needs a deb-src entry in apt, and kernelcraft found no `deb` entry for this release's main component to model it on. Add a deb-src line for your release by hand (see sources.list(5)), or set QEMU_SRC to an unpacked QEMU 7.2 tree.",
		};
	}
	if (fs.existsSync(debSrcFile))
		return {
			error: `${debSrcFile} exists but apt still finds no source for qemu: check it, then run \`kernelcraft setup\` again.`,
		};
	return {codename, text};
}

async function confirm(out: NodeJS.WritableStream, question: string): Promise<boolean> {
	if (!process.stdin.isTTY) {
		out.write('Not asking without a terminal: run `kernelcraft setup --yes` to go ahead.\n');
		return false;
	}
	const rl = readline.createInterface({input: process.stdin, output: process.stdout});
	const answer = await rl.question(question);
	rl.close();
	return /^y(es)?$/i.test(answer.trim());
}

/**
 * `setup --shared-cache URL`: checks that the Redis server answers, then saves the URL; every
 * later build hands it to ccache as its remote storage. `none` stops sharing.
 */
export async function sharedCacheCommand(url: string, out: NodeJS.WritableStream): Promise<number> {
	try {
		if (url === 'none' || url === '') {
			const file = saveSharedCache(undefined);
			out.write(`Builds no longer use a shared compiler cache (${file}).\n`);
			return 0;
		}
		const {host, port} = parseSharedCacheUrl(url);
		await pingRedis(host, port);
		const file = saveSharedCache(url.trim());
		out.write(`Builds now share compiled objects through ${url.trim()} (saved in ${file}).\n`);
		if (!compilerCacheAvailable())
			out.write(
				'ccache is not installed yet: run `kernelcraft setup` to install it, or builds will not use the cache.\n',
			);
		if (process.env.KERNELCRAFT_SHARED_CACHE !== undefined)
			out.write('Note: KERNELCRAFT_SHARED_CACHE is set in this shell, and it wins over the saved setting.\n');
		return 0;
	} catch (error) {
		const failure = toFailure(error);
		out.write(`${failure.what}\n${failure.hint ? `${failure.hint}\n` : ''}`);
		return 1;
	}
}
