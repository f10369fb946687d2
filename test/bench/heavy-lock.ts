import {spawn} from 'node:child_process';

export const heavyLockPath = '/tmp/kernelcraft-heavy.lock';

/**
 * Takes the machine-wide lock that heavy jobs (kernel builds) share, with flock(1): a child holds
 * the lock until its stdin closes, so the lock is released when we release it or when we die.
 */
export async function takeHeavyLock(onWait: () => void, lockPath = heavyLockPath): Promise<() => void> {
	const child = spawn('flock', [lockPath, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
		stdio: ['pipe', 'pipe', 'inherit'],
	});
	const waiting = setTimeout(onWait, 1000);
	await new Promise<void>((resolve, reject) => {
		let seen = '';
		child.stdout!.on('data', (chunk: Buffer) => {
			seen += chunk.toString('utf8');
			if (seen.includes('locked')) resolve();
		});
		child.on('error', reject);
		child.on('exit', code => reject(new Error(`flock ${lockPath} exited (${code}) before taking the lock`)));
	});
	clearTimeout(waiting);
	return () => child.stdin!.end();
}
