import fs from 'node:fs';

/** PIDs of live processes whose command line contains `needle` (read from /proc, no ps needed). */
export function processesMatching(needle: string): number[] {
	const pids: number[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
			const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
			if (cmdline.includes(needle) && state !== 'Z') pids.push(Number(entry));
		} catch {}
	}
	return pids;
}

export function isAlive(pid: number): boolean {
	try {
		const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
		return state !== undefined && state !== 'Z';
	} catch {
		return false;
	}
}

export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (condition()) return true;
		await new Promise(resolve => setTimeout(resolve, 100));
	}
	return condition();
}

/** Polls until the condition holds; rejects past the deadline, naming what it waited for. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

/**
 * The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1], pgrp [2],
 * session [3], nice [16]), or undefined once the process is gone.
 */
export function procStat(pid: number): string[] | undefined {
	try {
		const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return text.slice(text.lastIndexOf(')') + 2).split(' ');
	} catch {
		return undefined;
	}
}
