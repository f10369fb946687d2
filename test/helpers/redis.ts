import {spawn} from 'node:child_process';
import net from 'node:net';
import type {ExecutionContext} from 'ava';
import {pingRedis} from '../../source/lab/build/shared-cache.js';
import {tempDir} from './temp.js';

/** A real redis-server of this test's own, on a free port of 127.0.0.1, gone when the test ends. */
export async function startRedis(t: ExecutionContext): Promise<string> {
	const port = await new Promise<number>(resolve => {
		const probe = net.createServer().listen(0, '127.0.0.1', () => {
			const {port} = probe.address() as net.AddressInfo;
			probe.close(() => resolve(port));
		});
	});
	const server = spawn(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tempDir(t)],
		{stdio: 'ignore'},
	);
	t.teardown(() => {
		server.kill('SIGKILL');
	});
	for (let attempt = 0; ; attempt++) {
		try {
			await pingRedis('127.0.0.1', port, 1000);
			return `redis://127.0.0.1:${port}`;
		} catch (error) {
			if (attempt >= 50 || server.exitCode !== null) throw error;
			await new Promise(resolve => setTimeout(resolve, 100));
		}
	}
}
