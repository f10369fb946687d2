import fs from 'node:fs';
import path from 'node:path';
import {settingsFile} from '../paths.js';

/**
 * The compiler cache under every build kernelcraft runs (kernel, modules, QEMU): Debian's ccache,
 * through its masquerade folder (/usr/lib/ccache holds gcc, cc, g++ that are ccache), so make,
 * Kbuild's host tools and meson all use it without a change to their command lines.
 *
 * Why it helps: a changed config fragment is a new kernel build in a new folder, and every object
 * whose preprocessed source did not change is a cache hit (ccache falls back from its direct mode
 * to the preprocessed text when autoconf.h changed, and a define a file does not use leaves no
 * trace in that text). The same goes for a learner's second QEMU work tree.
 *
 * Without ccache installed (setup installs it) builds simply run without it.
 */
export const ccacheWrappers = '/usr/lib/ccache';

/** Each build's own ccache results, in its folder (see readCompilerCacheStats). */
export const compilerCacheLogName = 'ccache-stats.log';

export interface CompilerCacheOptions {
	/** kernelcraft's cache root: the ccache folder lives inside it, so `cache --clear` covers it. */
	cacheDir: string;
	/** A file ccache appends this build's own results to (hits and misses of this build only). */
	statsLog?: string;
	env?: NodeJS.ProcessEnv;
	/**
	 * False where compiler messages must name files by their absolute paths (a learner's module,
	 * whose messages are mapped back to their own folder).
	 */
	relativePaths?: boolean;
	/**
	 * A build that runs in work trees differing only by their folder, whose compiler writes its
	 * own dependency files (meson's -MD): QEMU. Paths are hashed relative to kernelcraft's cache,
	 * so a second work tree (the learner's device exercise) gets the first one's objects: without
	 * that, every -iquote naming the tree's folder made all 938 of them miss. And ccache runs in
	 * its depend mode: the headers a file used come from the compiler's .d file, instead of the
	 * preprocessor run once more for each file, which made a cold QEMU build 1.4× slower than
	 * without ccache (AMD EPYC, 2 CPUs: 119 s against 87 s; 88 s in depend mode). Not for the
	 * kernel: a config fragment rewrites autoconf.h, and only the preprocessed text tells that a
	 * file does not use the option that changed.
	 */
	workTrees?: boolean;
	/**
	 * On a miss, compile the text ccache already preprocessed to hash it, instead of having the
	 * compiler preprocess the file a second time (ccache's run_second_cpp=false). The kernel: its
	 * cold build under an empty ccache took 1.37× the time without ccache, 1.22× this way (AMD
	 * EPYC, 2 CPUs, npm run bench -- --only-compiler-cache). Not for a learner's module: the
	 * compiler's notes about macros ("in expansion of macro ...") need the original source.
	 */
	preprocessOnce?: boolean;
}

export function ccacheDir(cacheDir: string): string {
	return path.join(cacheDir, 'ccache');
}

/** True when ccache can be used: installed, and not turned off with KERNELCRAFT_CCACHE=0. */
export function compilerCacheAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
	return env.KERNELCRAFT_CCACHE !== '0' && fs.existsSync(path.join(ccacheWrappers, 'gcc'));
}

/**
 * The shared cache a teacher set up for a classroom (ccache's remote_storage, e.g.
 * redis://10.0.0.5:6379): $KERNELCRAFT_SHARED_CACHE, else what `kernelcraft setup --shared-cache`
 * saved in the settings file.
 */
export function sharedCacheUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
	if (env.KERNELCRAFT_SHARED_CACHE !== undefined) return env.KERNELCRAFT_SHARED_CACHE || undefined;
	try {
		const settings = JSON.parse(fs.readFileSync(settingsFile(env), 'utf8')) as {sharedCache?: unknown};
		return typeof settings.sharedCache === 'string' && settings.sharedCache ? settings.sharedCache : undefined;
	} catch {
		return undefined;
	}
}

/** The environment a build runs in: the caller's, with ccache first on PATH and its settings. */
export function compilerCacheEnv(options: CompilerCacheOptions): NodeJS.ProcessEnv {
	const env = options.env ?? process.env;
	const sharedCache = sharedCacheUrl(env);
	if (!compilerCacheAvailable(env)) return env;
	const withCache: NodeJS.ProcessEnv = {
		...env,
		PATH: `${ccacheWrappers}:${env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
		CCACHE_DIR: ccacheDir(options.cacheDir),
		// Builds run in per-process scratch folders that are renamed when done: the folder a
		// compiler ran in must not be part of the key (it only is with -g, as in the debug kernel).
		CCACHE_NOHASHDIR: 'true',
		CCACHE_MAXSIZE: env.CCACHE_MAXSIZE ?? '4G',
	};
	if (options.statsLog) withCache.CCACHE_STATSLOG = options.statsLog;
	if (options.preprocessOnce) withCache.CCACHE_NOCPP2 = 'true';
	if (options.workTrees) {
		withCache.CCACHE_BASEDIR = options.cacheDir;
		withCache.CCACHE_DEPEND = 'true';
	}
	if (sharedCache) {
		withCache.CCACHE_REMOTE_STORAGE = sharedCache;
		// Paths inside kernelcraft's cache are then hashed relative to the build folder, so two
		// learners whose caches sit in different homes share objects. Only then: ccache also
		// hands the compiler those relative paths, and its messages name files by them.
		if (options.relativePaths !== false) withCache.CCACHE_BASEDIR = options.cacheDir;
	}
	return withCache;
}

export interface CompilerCacheStats {
	hits: number;
	misses: number;
	/** Hits served by the shared (remote) cache. */
	remoteHits: number;
}

/**
 * This build's own hits and misses, from its stats log, or undefined when the build ran without
 * ccache. The log holds a "# <source>" line per compilation followed by the counters it raised
 * (the format `ccache --show-log-stats` reads). Direct and preprocessed hits both count as hits.
 */
export function readCompilerCacheStats(statsLog: string): CompilerCacheStats | undefined {
	let text: string;
	try {
		text = fs.readFileSync(statsLog, 'utf8');
	} catch {
		return undefined;
	}
	return parseCompilerCacheStats(text);
}

export function parseCompilerCacheStats(text: string): CompilerCacheStats {
	const stats: CompilerCacheStats = {hits: 0, misses: 0, remoteHits: 0};
	// Kbuild probes the compiler over and over (cc-option compiles /dev/null with each flag it
	// considers, in every make run): those are not the build's objects, and they hit from the
	// second make on. Only real sources count.
	let probe = false;
	for (const line of text.split('\n')) {
		if (line.startsWith('# ')) probe = line === '# /dev/null';
		else if (probe) continue;
		else if (line === 'direct_cache_hit' || line === 'preprocessed_cache_hit') stats.hits++;
		else if (line === 'cache_miss') stats.misses++;
		else if (line === 'remote_storage_hit') stats.remoteHits++;
	}
	return stats;
}

/** One line for the build log and the step's detail, e.g. "compiler cache: 812 of 840 objects reused". */
export function describeCompilerCache(stats: CompilerCacheStats): string {
	const total = stats.hits + stats.misses;
	const remote = stats.remoteHits > 0 ? ` (${stats.remoteHits} from the shared cache)` : '';
	return `compiler cache: ${stats.hits} of ${total} compilations reused${remote}`;
}
