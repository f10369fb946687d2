// The compiler cache's figures: a cold kernel build without ccache and with an empty one, the
// rebuild after a config fragment change with a warm one, and an empty local cache backed by a
// Redis server that another build filled (a classroom's second learner). One build each, in
// this order, all in one run on one machine; the unpacked source is shared and not timed.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {compilerCacheLogName, readCompilerCacheStats} from '../../source/lab/build/compiler-cache.js';
import {ensureKernel, listFragments} from '../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../source/lab/build/kernel-source.js';
import {pingRedis} from '../../source/lab/build/shared-cache.js';
import {cacheRoot, configsDir} from '../../source/lab/paths.js';
import {seconds, type Row} from './report.js';

async function freePort(): Promise<number> {
	return new Promise(resolve => {
		const probe = net.createServer().listen(0, '127.0.0.1', () => {
			const {port} = probe.address() as net.AddressInfo;
			probe.close(() => resolve(port));
		});
	});
}

export async function measureCompilerCache(scratch: string, log: (line: string) => void): Promise<Row[]> {
	const rows: Row[] = [];
	const source = await resolveKernelSource({cacheDir: cacheRoot(), onLine: log});
	const fragments = listFragments(path.join(configsDir, 'kernel'));
	const extra = path.join(scratch, '90-ikconfig.config');
	fs.writeFileSync(extra, 'CONFIG_IKCONFIG=y\nCONFIG_IKCONFIG_PROC=y\n');
	const port = await freePort();
	const redis = spawn(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', scratch],
		{stdio: 'ignore'},
	);
	const saved = {ccache: process.env.KERNELCRAFT_CCACHE, shared: process.env.KERNELCRAFT_SHARED_CACHE};
	try {
		for (let attempt = 0; ; attempt++) {
			try {
				await pingRedis('127.0.0.1', port, 1000);
				break;
			} catch (error) {
				if (attempt > 50) throw error;
				await new Promise(resolve => setTimeout(resolve, 100));
			}
		}
		const build = async (what: string, cacheDir: string, withFragments: string[]) => {
			log(`compiler cache: ${what}`);
			const started = Date.now();
			const kernel = await ensureKernel({source, fragments: withFragments, cacheDir});
			const ms = Date.now() - started;
			if (!kernel.rebuilt) throw new Error(`${what}: ensureKernel into ${cacheDir} reported rebuilt=false`);
			const cached = readCompilerCacheStats(path.join(kernel.buildDir, compilerCacheLogName));
			log(`compiler cache: ${what}: ${seconds(ms, 0)} ${JSON.stringify(cached)}`);
			return {ms, cached};
		};

		process.env.KERNELCRAFT_CCACHE = '0';
		const plain = await build('cold kernel, no ccache', path.join(scratch, 'no-ccache'), fragments);
		delete process.env.KERNELCRAFT_CCACHE;
		process.env.KERNELCRAFT_SHARED_CACHE = `redis://127.0.0.1:${port}`;
		const cold = await build('cold kernel, empty ccache and Redis', path.join(scratch, 'learner-a'), fragments);
		const changed = await build('fragment change, warm ccache', path.join(scratch, 'learner-a'), [...fragments, extra]);
		const shared = await build('empty ccache, Redis filled', path.join(scratch, 'learner-b'), fragments);

		const reused = (c: typeof cold.cached) =>
			c ? `${c.hits + c.misses} compilations, ${c.hits} from ccache` : 'no ccache';
		rows.push({figure: 'cold kernel build, no ccache (as before)', value: seconds(plain.ms, 0), target: ''});
		rows.push({
			figure: 'cold kernel build, empty ccache (filling it and Redis)',
			value: `${seconds(cold.ms, 0)} (${(cold.ms / plain.ms).toFixed(2)}× no ccache)`,
			target: '',
		});
		const ratio = changed.ms / plain.ms;
		rows.push({
			figure: 'rebuild after a config fragment change (CONFIG_IKCONFIG): from the nearest build, warm ccache',
			value: `${seconds(changed.ms, 0)} = ${ratio.toFixed(2)}× the cold build; ${reused(changed.cached)}`,
			target: '≤ 0.33× the cold build',
			met: ratio <= 1 / 3,
		});
		rows.push({
			figure: 'empty local ccache, objects from Redis (a second learner)',
			value: `${seconds(shared.ms, 0)} = ${(shared.ms / plain.ms).toFixed(2)}× the cold build; ${shared.cached?.remoteHits ?? 0} remote hits of ${(shared.cached?.hits ?? 0) + (shared.cached?.misses ?? 0)}`,
			target: '',
		});
		return rows;
	} finally {
		redis.kill('SIGKILL');
		if (saved.ccache === undefined) delete process.env.KERNELCRAFT_CCACHE;
		else process.env.KERNELCRAFT_CCACHE = saved.ccache;
		if (saved.shared === undefined) delete process.env.KERNELCRAFT_SHARED_CACHE;
		else process.env.KERNELCRAFT_SHARED_CACHE = saved.shared;
		for (const dir of ['no-ccache', 'learner-a', 'learner-b'])
			fs.rmSync(path.join(scratch, dir), {recursive: true, force: true});
	}
}
