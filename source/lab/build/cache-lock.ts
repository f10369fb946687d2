import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import {LabError} from '../lab-error.js';
import {abortError} from '../host/run-logged.js';

/** Who holds a lock, as its holder wrote it beside the lock file (for "waiting for …" messages). */
export interface LockOwner {
	pid: number;
	what: string;
}

export interface LockOptions {
	/** What the holder does with the lock, e.g. "building the kernel": shown to whoever waits. */
	what: string;
	onWait?: (owner: LockOwner | undefined) => void;
	signal?: AbortSignal;
	/** Write "<lock>.owner" for waiters' messages (default true; off where no file may appear). */
	recordOwner?: boolean;
}

/**
 * An exclusive lock between processes, held by a `flock(1)` child: the kernel releases a flock
 * when the last descriptor on it closes, and the child exits as soon as its stdin pipe closes,
 * which happens when we release the lock or when this process dies, however it dies (SIGKILL
 * included). There is no staleness to judge, so there is no pid that can be reused, no
 * check-then-remove race between two waiters and no lock file left half-written.
 *
 * Why not proper-lockfile: it judges a lock stale by an mtime the holder must keep refreshing, so
 * a live holder that is stopped (Ctrl-Z in a learner's terminal) or busy for a while loses its
 * lock to a second builder. flock cannot lose a lock that its holder still has.
 */
export async function withLock<T>(lockFile: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
	const release = await acquireLock(lockFile, options);
	try {
		return await work();
	} finally {
		await release();
	}
}

export async function acquireLock(lockFile: string, options: LockOptions): Promise<() => Promise<void>> {
	if (options.signal?.aborted) throw abortError();
	fs.mkdirSync(path.dirname(lockFile), {recursive: true});
	// flock(1) locks a directory as well as a file (it opens it read-only), so a folder can be its own lock.
	// Detached: a Ctrl-C in the terminal goes to our process group, and must not free the lock
	// while we are still cleaning up under it.
	const child = spawn('flock', ['-x', lockFile, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
		stdio: ['pipe', 'pipe', 'pipe'],
		detached: true,
	});
	let stderr = '';
	child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
	const exited = new Promise<void>(resolve => child.on('exit', () => resolve()));
	const waitNotice = setTimeout(() => options.onWait?.(readOwner(lockFile)), 300);
	const onAbort = () => child.kill('SIGKILL');
	options.signal?.addEventListener('abort', onAbort, {once: true});
	try {
		await new Promise<void>((resolve, reject) => {
			let seen = '';
			child.stdout!.on('data', (chunk: Buffer) => {
				seen += chunk.toString('utf8');
				if (seen.includes('locked')) resolve();
			});
			child.on('error', error =>
				reject(
					new LabError({
						what: `Could not run flock(1) to lock ${lockFile}: ${error.message}`,
						hint: 'flock comes with util-linux, which every Debian and Ubuntu system has.',
					}),
				),
			);
			child.on('exit', (code, signal) => {
				if (options.signal?.aborted) reject(abortError());
				else
					reject(
						new LabError({
							what: `flock could not lock ${lockFile} (exit ${code ?? signal}).`,
							lastSeen: stderr.trim() ? [stderr.trim()] : undefined,
						}),
					);
			});
		});
	} finally {
		clearTimeout(waitNotice);
		options.signal?.removeEventListener('abort', onAbort);
	}
	if (options.recordOwner !== false) writeOwner(lockFile, {pid: process.pid, what: options.what});
	let released = false;
	return async () => {
		if (released) return;
		released = true;
		child.stdin!.end();
		await exited;
	};
}

function ownerFile(lockFile: string): string {
	return `${lockFile}.owner`;
}

function writeOwner(lockFile: string, owner: LockOwner): void {
	try {
		writeFileAtomic.sync(ownerFile(lockFile), JSON.stringify(owner) + '\n');
	} catch {
		// Only informative: a waiter then says "another kernelcraft process" without a pid.
	}
}

function readOwner(lockFile: string): LockOwner | undefined {
	try {
		return JSON.parse(fs.readFileSync(ownerFile(lockFile), 'utf8')) as LockOwner;
	} catch {
		return undefined;
	}
}

/** "another kernelcraft process (pid 123) that is building the kernel", for wait messages. */
export function describeOwner(owner: LockOwner | undefined): string {
	return owner ? `another kernelcraft process (pid ${owner.pid}) that is ${owner.what}` : 'another kernelcraft process';
}

/**
 * Whether another process holds `lockFile` now (flock -n). A look, not a hold: use it only to
 * leave alone what someone is using; what is removed must still be removed under withLock.
 */
export function lockHeld(lockFile: string): boolean {
	if (!fs.existsSync(lockFile)) return false;
	return spawnSync('flock', ['-n', '-x', lockFile, 'true'], {stdio: 'ignore'}).status === 1;
}
