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
