import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {settingsFile} from '../paths.js';

/**
 * A classroom's shared compiler cache: ccache's remote_storage pointed at one Redis server, so
 * the first learner to build a kernel or QEMU fills it and the other 29 fetch objects instead of
 * compiling them. Only the URL is kernelcraft's; the protocol and the storage are ccache's and
 * Redis's own.
 */

/** The URL forms ccache 4.7 reads for Redis (see ccache's manual, "Remote storage backends"). */
const redisUrl = /^redis:\/\/(?:[^@/\s]*@)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\/\d+)?$/;

export function parseSharedCacheUrl(url: string): {host: string; port: number} {
	const match = redisUrl.exec(url.trim());
	const port = match ? Number(match[2] ?? 6379) : 0;
	if (!match || port < 1 || port > 65_535)
		throw new LabError({
			what: `"${url}" is not a Redis URL kernelcraft can share a compiler cache through.`,
			hint: 'Give it as redis://HOST:PORT, e.g. redis://10.0.0.5:6379 (the teacher machine running redis-server).',
		});
	return {host: match[1]!.replace(/^\[|\]$/g, ''), port};
}

/**
 * Asks the server for PONG, so a typo or a firewall shows up at setup, not as a silent miss in
 * every build (ccache treats an unreachable remote as a miss and goes on).
 */
export async function pingRedis(host: string, port: number, timeoutMs = 3000): Promise<void> {
	await new Promise<void>((resolve, reject) => {
		const socket = net.connect({host, port});
		let answer = '';
		const fail = (why: string) => {
			socket.destroy();
			reject(
				new LabError({
					what: `The shared cache at ${host}:${port} did not answer PING: ${why}.`,
					hint: 'Check that redis-server runs there and listens on that address (its "bind" setting), and that no firewall is in the way.',
				}),
			);
		};
		socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs / 1000} s`));
		socket.on('error', error => fail(error.message));
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', data => {
			answer += data.toString('latin1');
			if (!answer.includes('\r\n')) return;
			socket.destroy();
			if (answer.startsWith('+PONG')) resolve();
			else fail(`it said "${answer.trim()}"`);
		});
	});
}

/** Saves the URL (or removes it, for undefined) in the settings file, keeping other settings. */
export function saveSharedCache(url: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
	const file = settingsFile(env);
	let settings: Record<string, unknown> = {};
	try {
		settings = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
	} catch {}
	if (url === undefined) delete settings.sharedCache;
	else settings.sharedCache = url;
	fs.mkdirSync(path.dirname(file), {recursive: true});
	writeFileAtomic(file, JSON.stringify(settings, null, 2) + '\n');
	return file;
}
