import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import {completeStamp, ensureCacheEntry, readStamp} from './cache-entry.js';
import {describeOwner, withLock} from './cache-lock.js';
import {hashInputs} from './content-hash.js';
import {describeMismatch, findUnhonoured, kconfigDependsOn, parseConfig, type ConfigRequest} from './kernel-config.js';
import type {KernelSource} from './kernel-source.js';
import {LineProgress} from './progress-estimate.js';
import {keepCopiedObjtool} from './objtool-keep.js';
import {
	compilerCacheEnv,
	compilerCacheLogName,
	describeCompilerCache,
	readCompilerCacheStats,
} from './compiler-cache.js';

export interface KernelBuild {
	buildDir: string;
	bzImage: string;
	/** `uname -r` of the built kernel. */
	release: string;
	key: string;
	/** False when the cache already held this exact build. */
	rebuilt: boolean;
	logPath: string;
}

export interface KernelBuildOptions {
	source: KernelSource;
	/** The config fragments, merged in name order on top of tinyconfig. */
	fragments: string[];
	cacheDir: string;
	signal?: AbortSignal;
	onLine?: (line: string) => void;
	onProgress?: (fraction: number, label: string, estimated: boolean) => void;
	jobs?: number;
}

// Bumped when the way a kernel is configured or built changes, so old cache entries are not reused.
const pipelineVersion = 'kernel-pipeline-1';
/** What a finished build records about itself (also for people reading the cache). */
const stampName = 'kernelcraft-build.json';

/** The cache key: source identity + every fragment's content. */
export function kernelBuildKey(source: KernelSource, fragments: string[]): string {
	const inputs: Record<string, string> = {pipeline: pipelineVersion, source: source.id};
	for (const fragment of fragments) inputs[`fragment:${path.basename(fragment)}`] = fs.readFileSync(fragment, 'utf8');
	return hashInputs(inputs);
}

export function listFragments(dir: string): string[] {
	return fs
		.readdirSync(dir)
		.filter(name => name.endsWith('.config'))
		.sort()
		.map(name => path.join(dir, name));
}

export async function ensureKernel(options: KernelBuildOptions): Promise<KernelBuild> {
	const key = kernelBuildKey(options.source, options.fragments);
	const entryDir = path.join(options.cacheDir, 'kernel', key);
	const what = 'building this kernel';
	if (options.source.immutable) {
		// Debian's source never changes: build in a scratch folder, publish whole (see cache-entry.ts).
		const entry = await ensureCacheEntry(
			entryDir,
			{what, onLine: options.onLine, signal: options.signal},
			async scratch => {
				const seeded = await seedFromNearest(options, key, scratch);
				return buildInto(options, key, scratch, seeded);
			},
		);
		if (!entry.built)
			options.onLine?.(
				`kernel ${entry.meta.release} is already built for these inputs (cache ${key}): nothing to rebuild`,
			);
		return describeBuild(entryDir, key, entry.meta.release, entry.built);
	}
	// A learner's own tree can change under us: make runs every time, in place, and rebuilds what
	// changed; the lock keeps two processes out of the same build folder.
	const onWait = (owner: Parameters<typeof describeOwner>[0]) =>
		options.onLine?.(`waiting for ${describeOwner(owner)}`);
	return withLock(`${entryDir}.lock`, {what, onWait, signal: options.signal}, async () => {
		const {release} = await buildInto(options, key, entryDir);
		return describeBuild(entryDir, key, release, true);
	});
}

function describeBuild(buildDir: string, key: string, release: string, rebuilt: boolean): KernelBuild {
	return {
		buildDir,
		bzImage: path.join(buildDir, 'arch/x86/boot/bzImage'),
		release,
		key,
		rebuilt,
		logPath: path.join(buildDir, 'build.log'),
	};
}

/** Each fragment's content hash, by file name: what a later build compares to find its nearest. */
function fragmentDigests(fragments: string[]): Record<string, string> {
	return Object.fromEntries(
		fragments.map(fragment => [path.basename(fragment), hashInputs({text: fs.readFileSync(fragment, 'utf8')})]),
	);
}

/**
 * A new configuration of Debian's source starts from the finished build of the same source whose
 * fragments are most alike (the newest on a tie), copied into the scratch folder: Kbuild's fixdep
 * has recorded which CONFIG_ options each object depends on, so after a fragment change make
 * recompiles only the objects that use a changed option, and links. (ccache alone cannot do
 * this: autoconf.h changed, so every file must be preprocessed again to find its hit.) Without a
 * usable build, or when the copy fails, the build starts cold.
 */
async function seedFromNearest(options: KernelBuildOptions, key: string, scratch: string): Promise<boolean> {
	const kernels = path.join(options.cacheDir, 'kernel');
	const wanted = fragmentDigests(options.fragments);
	let best: {dir: string; alike: number; builtAt: string} | undefined;
	for (const name of fs.existsSync(kernels) ? fs.readdirSync(kernels) : []) {
		if (name === key || !/^[0-9a-f]{16}$/.test(name)) continue;
		const dir = path.join(kernels, name);
		if (!readStamp(dir)) continue;
		let meta: {source?: string; fragments?: Record<string, string>; builtAt?: string};
		try {
			meta = JSON.parse(fs.readFileSync(path.join(dir, stampName), 'utf8'));
		} catch {
			continue;
		}
		if (meta.source !== options.source.id) continue;
		const alike = Object.entries(wanted).filter(([file, digest]) => meta.fragments?.[file] === digest).length;
		const builtAt = meta.builtAt ?? '';
		if (!best || alike > best.alike || (alike === best.alike && builtAt > best.builtAt)) best = {dir, alike, builtAt};
	}
	if (!best) return false;
	options.onProgress?.(0, `starting from the nearest build (${path.basename(best.dir)})`, false);
	options.onLine?.(
		`starting from the finished build ${path.basename(best.dir)} (${best.alike} of ${Object.keys(wanted).length} fragments alike): make recompiles only what the change touches`,
	);
	try {
		await runLogged('cp', ['-a', '--reflink=auto', `${best.dir}/.`, scratch], {
			logPath: path.join(scratch, 'seed.log'),
			what: 'copying the nearest kernel build',
			signal: options.signal,
		});
		// Its own records go: this build writes new ones, and .config is made anew from the fragments.
		for (const name of [
			stampName,
			'build.log',
			compilerCacheLogName,
			'.config',
			configuredStamp,
			'seed.log',
			completeStamp,
		])
			fs.rmSync(path.join(scratch, name), {force: true});
		retargetToolCommands(scratch);
		return true;
	} catch (error) {
		if (options.signal?.aborted) throw error;
		options.onLine?.(`could not copy the nearest build (${(error as Error).message}): building from nothing`);
		for (const name of fs.readdirSync(scratch)) fs.rmSync(path.join(scratch, name), {recursive: true, force: true});
		return false;
	}
}

/**
 * objtool is built by tools/' own build system, which records absolute paths (the folder the
 * build ran in) in its .cmd files. In a copied build those commands differ from the ones make
 * would run now, so objtool would be rebuilt, and every object, which depends on the objtool
 * binary, after it. Rewriting the recorded folder to this one keeps objtool, and so the objects,
 * as they are.
 */
function retargetToolCommands(buildDir: string): void {
	const tools = path.join(buildDir, 'tools');
	if (!fs.existsSync(tools)) return;
	const commandFiles: string[] = [];
	const walk = (dir: string) => {
		for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
			const file = path.join(dir, entry.name);
			if (entry.isDirectory()) walk(file);
			else if (entry.name.startsWith('.') && entry.name.endsWith('.cmd')) commandFiles.push(file);
		}
	};
	walk(tools);
	let recorded: string | undefined;
	for (const file of commandFiles) {
		// The folder a published build ran in is its scratch folder (see cache-entry.ts).
		recorded = /\/\S*?\.scratch-\d+-[0-9a-f]+(?=\/tools\/)/.exec(fs.readFileSync(file, 'utf8'))?.[0];
		if (recorded) break;
	}
	if (!recorded || recorded === buildDir) return;
	for (const file of commandFiles) {
		const text = fs.readFileSync(file, 'utf8');
		if (text.includes(recorded)) fs.writeFileSync(file, text.split(recorded).join(buildDir));
	}
}

/** Configures (when the folder has no .config yet) and builds the kernel in `buildDir`. */
async function buildInto(
	options: KernelBuildOptions,
	key: string,
	buildDir: string,
	seeded = false,
): Promise<{release: string}> {
	const {source} = options;
	const logPath = path.join(buildDir, 'build.log');
	const bzImage = path.join(buildDir, 'arch/x86/boot/bzImage');
	fs.mkdirSync(buildDir, {recursive: true});
	const statsLog = path.join(buildDir, compilerCacheLogName);
	const env = compilerCacheEnv({cacheDir: options.cacheDir, statsLog, preprocessOnce: true});
	const make = (args: string[], what: string, onLine?: (line: string) => void) =>
		runLogged('make', ['-C', source.dir, `O=${buildDir}`, ...args], {
			logPath,
			env,
			what,
			signal: options.signal,
			onLine: line => {
				options.onLine?.(line);
				onLine?.(line);
			},
			pickErrorLines: compilerErrorLines,
			hint: "The compiler's messages are above; the whole log is at the path shown.",
		});

	// A .config alone proves nothing: a configure cut short (Ctrl-C, a crash) leaves tinyconfig's,
	// without the fragments and without the check that they were honoured.
	if (!fs.existsSync(path.join(buildDir, configuredStamp))) {
		options.onProgress?.(0, 'configuring: tinyconfig + fragments', false);
		fs.rmSync(path.join(buildDir, '.config'), {force: true});
		await configure(options, buildDir, logPath, make);
		fs.writeFileSync(path.join(buildDir, configuredStamp), `${new Date().toISOString()}\n`);
	}

	if (seeded) await keepCopiedObjtool(buildDir, make, options.onLine);

	const progress = new LineProgress(
		path.join(options.cacheDir, 'kernel', 'last-build-lines.json'),
		1100,
		/^\s+[A-Z][A-Z0-9_]*\s+\S/,
	);
	const jobs = options.jobs ?? os.availableParallelism();
	options.onProgress?.(0, `compiling with make -j${jobs}`, progress.estimated);
	await make([`-j${jobs}`], 'the kernel build', line => {
		const fraction = progress.take(line);
		if (fraction !== undefined) options.onProgress?.(fraction, line.trim(), progress.estimated);
	});
	if (progress.count > 200) progress.remember();
	if (!fs.existsSync(bzImage))
		throw new LabError({what: `The kernel build finished but ${bzImage} is missing.`, logPath});
	const release = fs.readFileSync(path.join(buildDir, 'include/config/kernel.release'), 'utf8').trim();
	const cached = readCompilerCacheStats(statsLog);
	if (cached && cached.hits + cached.misses > 0) options.onLine?.(describeCompilerCache(cached));
	writeFileAtomic(
		path.join(buildDir, stampName),
		JSON.stringify(
			{
				key,
				release,
				source: source.id,
				fragments: fragmentDigests(options.fragments),
				builtAt: new Date().toISOString(),
			},
			null,
			2,
		) + '\n',
	);
	options.onProgress?.(1, `built ${release}`, false);
	return {release};
}

type Make = (args: string[], what: string) => Promise<string[]>;

/**
 * Written once configure has finished and its result passed the check: the build folder's .config
 * is the fragments' (the folder's key is their hash), so later runs build it without configuring.
 */
const configuredStamp = '.kernelcraft-configured';

async function configure(options: KernelBuildOptions, buildDir: string, logPath: string, make: Make): Promise<void> {
	const requests: ConfigRequest[] = [];
	for (const fragment of options.fragments) {
		if (!fs.existsSync(fragment)) throw new LabError({what: `Config fragment ${fragment} does not exist.`});
		requests.push(
			...parseConfig(fs.readFileSync(fragment, 'utf8'), path.relative(process.cwd(), fragment) || fragment),
		);
	}
	await make(['tinyconfig'], 'make tinyconfig');
	await runLogged(
		path.join(options.source.dir, 'scripts/kconfig/merge_config.sh'),
		['-m', '-O', buildDir, path.join(buildDir, '.config'), ...options.fragments],
		{
			cwd: options.source.dir,
			logPath,
			what: 'merging the config fragments',
			signal: options.signal,
			onLine: options.onLine,
		},
	);
	await make(['olddefconfig'], 'make olddefconfig');
	const finalConfig = fs.readFileSync(path.join(buildDir, '.config'), 'utf8');
	const mismatches = findUnhonoured(requests, finalConfig);
	if (mismatches.length > 0) {
		// Move the bad .config away so the next run configures again instead of building it.
		fs.renameSync(path.join(buildDir, '.config'), path.join(buildDir, '.config.rejected'));
		throw new LabError({
			what: `${mismatches.length} kernel config option${mismatches.length === 1 ? ' was' : 's were'} asked for but not set after olddefconfig.`,
			lastSeen: mismatches.map(mismatch =>
				describeMismatch(mismatch, kconfigDependsOn(options.source.dir, mismatch.request.symbol)),
			),
			hint: 'Fix the fragment in configs/kernel/ (check the name, and enable what the option depends on), then run again.',
			logPath,
		});
	}
}

/** gcc's and make's own error lines, with the line after each (gcc shows the source line there). */
export function compilerErrorLines(lines: string[]): string[] {
	const picked: string[] = [];
	lines.forEach((line, index) => {
		if (/(error|Error \d+|undefined reference|\*\*\*)/.test(line)) {
			picked.push(line);
			const next = lines[index + 1];
			if (next && /^\s+\d*\s*\|/.test(next)) picked.push(next);
		}
	});
	return picked.slice(-20);
}
