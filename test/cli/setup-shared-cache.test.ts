import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import {compilerCacheEnv} from '../../source/lab/build/compiler-cache.js';
import {startCli} from '../helpers/cli.js';
import {startRedis} from '../helpers/redis.js';
import {tempDir} from '../helpers/temp.js';

test('setup --shared-cache checks the Redis server answers, saves the URL, and builds hand it to ccache', async t => {
	const url = await startRedis(t);
	const settings = path.join(tempDir(t), 'settings.json');
	const env = {KERNELCRAFT_SETTINGS: settings, KERNELCRAFT_SHARED_CACHE: undefined};
	const run = startCli(['setup', '--shared-cache', url], env, t);
	t.is(await run.waitForExit(30_000), 0, run.stderr.join(''));
	t.regex(run.lines.join('\n'), new RegExp(`share compiled objects through ${url}`));
	t.deepEqual(JSON.parse(fs.readFileSync(settings, 'utf8')), {sharedCache: url});
	const buildEnv = compilerCacheEnv({cacheDir: '/c', env: {PATH: '/bin', KERNELCRAFT_SETTINGS: settings}});
	t.is(buildEnv.CCACHE_REMOTE_STORAGE, url);

	const stop = startCli(['setup', '--shared-cache', 'none'], env, t);
	t.is(await stop.waitForExit(30_000), 0);
	t.deepEqual(JSON.parse(fs.readFileSync(settings, 'utf8')), {});
});

test('setup --shared-cache refuses a URL it cannot use, and a server that does not answer, saving nothing', async t => {
	const settings = path.join(tempDir(t), 'settings.json');
	const env = {KERNELCRAFT_SETTINGS: settings};
	const typo = startCli(['setup', '--shared-cache', 'redis:/10.0.0.5'], env, t);
	t.is(await typo.waitForExit(30_000), 1);
	t.regex(typo.lines.join('\n'), /is not a Redis URL.*\n.*redis:\/\/HOST:PORT/);

	// A port nothing listens on: taken and released just before.
	const port = await new Promise<number>(resolve => {
		const probe = net.createServer().listen(0, '127.0.0.1', () => {
			const {port} = probe.address() as net.AddressInfo;
			probe.close(() => resolve(port));
		});
	});
	const closed = startCli(['setup', '--shared-cache', `redis://127.0.0.1:${port}`], env, t);
	t.is(await closed.waitForExit(30_000), 1);
	t.regex(closed.lines.join('\n'), new RegExp(`127\\.0\\.0\\.1:${port} did not answer PING: .*ECONNREFUSED`));
	t.false(fs.existsSync(settings), 'nothing saved');
});
