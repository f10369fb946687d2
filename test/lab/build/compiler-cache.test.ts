import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {
	ccacheDir,
	compilerCacheAvailable,
	compilerCacheEnv,
	compilerCacheLogName,
	parseCompilerCacheStats,
	readCompilerCacheStats,
} from '../../../source/lab/build/compiler-cache.js';
import {ensureKernel, listFragments, type KernelBuild} from '../../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {cacheRoot, configsDir} from '../../../source/lab/paths.js';
import {startRedis} from '../../helpers/redis.js';
import {tempDir} from '../../helpers/temp.js';

test('a stats log counts hits (direct and preprocessed), misses and shared-cache hits per compilation', t => {
	const log = [
		'# a.c',
		'cache_miss',
		'direct_cache_miss',
		'preprocessed_cache_miss',
		'# b.c',
		'direct_cache_hit',
		'local_storage_hit',
		'# c.c',
		'direct_cache_miss',
		'preprocessed_cache_hit',
		'# d.c',
		'direct_cache_miss',
		'preprocessed_cache_hit',
		'remote_storage_hit',
		'# /dev/null',
		'direct_cache_hit',
		'',
	].join('\n');
	t.deepEqual(
		parseCompilerCacheStats(log),
		{hits: 3, misses: 1, remoteHits: 1},
		"Kbuild's compiler probes do not count",
	);
	t.is(readCompilerCacheStats('/nonexistent/ccache-stats.log'), undefined, 'no log: the build ran without ccache');
});

test("the build environment puts ccache's compilers first and keeps its folder in kernelcraft's cache", t => {
	t.true(compilerCacheAvailable(), 'ccache is installed (`kernelcraft setup` installs it)');
	const env = compilerCacheEnv({cacheDir: '/c', statsLog: '/c/x.log', env: {PATH: '/usr/bin:/bin'}});
	t.is(env.PATH, '/usr/lib/ccache:/usr/bin:/bin');
	t.is(env.CCACHE_DIR, ccacheDir('/c'));
	t.is(env.CCACHE_STATSLOG, '/c/x.log');
	t.is(env.CCACHE_BASEDIR, undefined, 'absolute paths in compiler messages when nothing is shared');
	t.is(env.CCACHE_REMOTE_STORAGE, undefined, 'no shared cache unless one is set');
	const shared = compilerCacheEnv({cacheDir: '/c', env: {PATH: '/bin', KERNELCRAFT_SHARED_CACHE: 'redis://h:1'}});
	t.is(shared.CCACHE_REMOTE_STORAGE, 'redis://h:1');
	t.is(shared.CCACHE_BASEDIR, '/c', 'shared: paths in the cache are hashed relative, the same in every home');
	const module = compilerCacheEnv({
		cacheDir: '/c',
		relativePaths: false,
		env: {PATH: '/bin', KERNELCRAFT_SHARED_CACHE: 'redis://h:1'},
	});
	t.is(
		module.CCACHE_BASEDIR,
		undefined,
		"a module's messages keep absolute paths, to be mapped to the learner's folder",
	);
	const qemu = compilerCacheEnv({cacheDir: '/c', workTrees: true, env: {PATH: '/bin'}});
	t.is(qemu.CCACHE_BASEDIR, '/c', "QEMU's work trees: paths hashed relative, so a second tree hits the first's");
	t.is(qemu.CCACHE_DEPEND, 'true', "QEMU's work trees: headers from meson's .d files, no second preprocessor run");
	t.is(env.CCACHE_DEPEND, undefined, 'the kernel keeps the preprocessed text (a fragment change needs it)');
	t.is(env.CCACHE_NOCPP2, undefined, "a module's compiler sees its source, for its notes about macros");
	t.is(
		compilerCacheEnv({cacheDir: '/c', preprocessOnce: true, env: {PATH: '/bin'}}).CCACHE_NOCPP2,
		'true',
		'the kernel: a miss compiles the text ccache preprocessed, not the source once more',
	);
	const off = {PATH: '/bin', KERNELCRAFT_CCACHE: '0'};
	t.is(compilerCacheEnv({cacheDir: '/c', env: off}), off, 'KERNELCRAFT_CCACHE=0 leaves the environment alone');
});

test('a fragment change compiles for real only what it touches; ccache and a shared Redis serve every other build', async t => {
	// Caches of this test's own, so the first build starts from an empty ccache whatever ran
	// before; the unpacked source is shared with the suite (it is not what is measured).
	const learnerA = tempDir(t);
	const learnerB = tempDir(t);
	process.env.KERNELCRAFT_SHARED_CACHE = await startRedis(t);
	const source = await resolveKernelSource({cacheDir: cacheRoot()});
	const fragments = listFragments(path.join(configsDir, 'kernel'));
	const stats = (build: KernelBuild) => readCompilerCacheStats(path.join(build.buildDir, compilerCacheLogName));

	const first = await ensureKernel({source, fragments, cacheDir: learnerA});
	const cold = stats(first);
	if (!cold) return t.fail('the first build left no ccache stats log');
	t.is(cold.hits, 0, 'an empty compiler cache and an empty Redis have nothing to give');
	t.true(cold.misses > 300, `${cold.misses} compilations`);

	// What a learner does: turn on /proc/config.gz in a fragment of their own. The build starts
	// from the first one, and Kbuild recompiles what depends on the changed options.
	const extra = path.join(tempDir(t), '90-ikconfig.config');
	fs.writeFileSync(extra, 'CONFIG_IKCONFIG=y\nCONFIG_IKCONFIG_PROC=y\n');
	const lines: string[] = [];
	const second = await ensureKernel({
		source,
		fragments: [...fragments, extra],
		cacheDir: learnerA,
		onLine: line => lines.push(line),
	});
	t.true(second.rebuilt);
	t.not(second.key, first.key);
	t.true(lines.some(line => line.startsWith(`starting from the finished build ${first.key}`)));
	t.regex(fs.readFileSync(path.join(second.buildDir, '.config'), 'utf8'), /^CONFIG_IKCONFIG_PROC=y$/m);
	t.true(fs.existsSync(path.join(second.buildDir, 'kernel/configs.o')), 'kernel/configs.c was compiled');
	const changed = stats(second);
	if (!changed) return t.fail('the second build left no ccache stats log');
	// Kbuild recompiles only what uses the changed options: the copy's objtool is kept (when
	// tools/' make rebuilds it to the same program, objtool-keep.ts gives it its old time back),
	// so not even ccache is asked for the rest.
	const compiled = changed.hits + changed.misses;
	t.true(
		compiled <= cold.misses / 10,
		`${compiled} compilations after the change (${changed.misses} real), of ${cold.misses}`,
	);
	t.log(`after the fragment change: ${compiled} compilations went through ccache, ${changed.misses} compiled for real`);
	t.true(fs.statSync(second.bzImage).mtimeMs > fs.statSync(first.bzImage).mtimeMs, 'a new bzImage');

	// Another learner, nothing in their own cache: the objects come from Redis.
	const third = await ensureKernel({source, fragments, cacheDir: learnerB});
	t.is(third.key, first.key);
	const shared = stats(third);
	if (!shared) return t.fail('the third build left no ccache stats log');
	t.true(shared.remoteHits / (shared.hits + shared.misses) >= 0.9, JSON.stringify(shared));

	// The first learner clears their kernels (not the compiler cache) and builds again: local hits.
	fs.rmSync(path.join(learnerA, 'kernel'), {recursive: true, force: true});
	const fourth = await ensureKernel({source, fragments, cacheDir: learnerA});
	const local = stats(fourth);
	if (!local) return t.fail('the fourth build left no ccache stats log');
	t.true(local.hits / (local.hits + local.misses) >= 0.9, JSON.stringify(local));
	t.log(
		`cold: ${cold.misses} compiled; fragment change: ${changed.misses} compiled (${compiled} through ccache); empty cache + Redis: ${shared.remoteHits} of ${shared.hits + shared.misses} from Redis; again from the local cache: ${local.hits} of ${local.hits + local.misses}`,
	);
});
