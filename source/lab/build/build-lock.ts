import fs from 'node:fs';
import path from 'node:path';
import {abortError} from '../host/run-logged.js';

/**
 * A lock directory beside a build, so two kernelcraft processes (two terminals, or parallel test
 * workers) never run make in the same build dir at once. A lock whose owner is dead is taken over.
 */
export async function withBuildLock<T>(dir: string, onWait: (ownerPid: number) => void, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
	const lock = path.join(dir, '.kernelcraft-lock');
	fs.mkdirSync(dir, {recursive: true});
	let told = false;
	for (;;) {
		try {
			fs.mkdirSync(lock);
			fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
			break;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			const owner = readOwner(lock);
			if (owner === undefined || !alive(owner)) {
				fs.rmSync(lock, {recursive: true, force: true});
				continue;
			}
			if (!told) onWait(owner);
			told = true;
			if (signal?.aborted) throw abortError();
			await new Promise(resolve => setTimeout(resolve, 500));
		}
	}
	try {
		return await work();
	} finally {
		fs.rmSync(lock, {recursive: true, force: true});
	}
}

function readOwner(lock: string): number | undefined {
	try {
		const pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
		return Number.isInteger(pid) && pid > 0 ? pid : undefined;
	} catch {
		// Just created by its owner, pid not written yet: treat as alive for one more round.
		return process.pid;
	}
}

function alive(pid: number): boolean {
	if (pid === process.pid) return true;
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
