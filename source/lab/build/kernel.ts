import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import {ensureCacheEntry} from './cache-entry.js';
import {describeOwner, withLock} from './cache-lock.js';
import {hashInputs} from './content-hash.js';
import {describeMismatch, findUnhonoured, kconfigDependsOn, parseConfig, type ConfigRequest} from './kernel-config.js';
import type {KernelSource} from './kernel-source.js';
import {LineProgress} from './progress-estimate.js';
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
		const entry = await ensureCacheEntry(entryDir, {what, onLine: options.onLine, signal: options.signal}, scratch =>
			buildInto(options, key, scratch),
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

/** Configures (when the folder has no .config yet) and builds the kernel in `buildDir`. */
async function buildInto(options: KernelBuildOptions, key: string, buildDir: string): Promise<{release: string}> {
	const {source} = options;
	const logPath = path.join(buildDir, 'build.log');
	const bzImage = path.join(buildDir, 'arch/x86/boot/bzImage');
	fs.mkdirSync(buildDir, {recursive: true});
	const statsLog = path.join(buildDir, compilerCacheLogName);
	const env = compilerCacheEnv({cacheDir: options.cacheDir, statsLog});
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

	if (!fs.existsSync(path.join(buildDir, '.config'))) {
		options.onProgress?.(0, 'configuring: tinyconfig + fragments', false);
		await configure(options, buildDir, logPath, make);
	}

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
	if (cached) options.onLine?.(describeCompilerCache(cached));
	writeFileAtomic(
		path.join(buildDir, stampName),
		JSON.stringify({key, release, source: source.id, builtAt: new Date().toISOString()}, null, 2) + '\n',
	);
	options.onProgress?.(1, `built ${release}`, false);
	return {release};
}

type Make = (args: string[], what: string) => Promise<string[]>;

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
