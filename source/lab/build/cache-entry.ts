import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import {describeOwner, withLock} from './cache-lock.js';

/** Written last into a finished entry: an entry without it is never used. */
export const completeStamp = '.kernelcraft-complete';

export interface CacheEntryOptions {
	/** What building the entry means, e.g. "unpacking the kernel source": shown to waiters. */
	what: string;
	onLine?: (line: string) => void;
	signal?: AbortSignal;
}

export interface CacheEntry<Meta> {
	dir: string;
	meta: Meta;
	/** True when this call built it; false when it was already published (by us or another process). */
	built: boolean;
}

/**
 * A cache entry (a folder) that is written by one process and published whole:
 * - readers use it only once its completion stamp exists;
 * - a writer holds the entry's lock, builds in a scratch folder of its own, writes the stamp last
 *   and renames the scratch folder into place;
 * - a writer that dies (SIGKILL included) leaves only a scratch folder, which no reader uses and
 *   the next writer removes, and its lock is freed by the kernel.
 * `build` gets the scratch folder and returns what the stamp should remember.
 */
export async function ensureCacheEntry<Meta>(
	dir: string,
	options: CacheEntryOptions,
	build: (scratch: string) => Promise<Meta>,
): Promise<CacheEntry<Meta>> {
	const published = readStamp<Meta>(dir);
	if (published) return {dir, meta: published.meta, built: false};
	const onWait = (owner: Parameters<typeof describeOwner>[0]) =>
		options.onLine?.(`waiting for ${describeOwner(owner)} (${path.basename(dir)})`);
	return withLock(`${dir}.lock`, {what: options.what, onWait, signal: options.signal}, async () => {
		// Another process may have published it while we waited.
		const now = readStamp<Meta>(dir);
		if (now) return {dir, meta: now.meta, built: false};
		removeLeftovers(dir);
		const scratch = `${dir}.scratch-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
		fs.mkdirSync(scratch, {recursive: true});
		const meta = await build(scratch);
		writeFileAtomic.sync(
			path.join(scratch, completeStamp),
			JSON.stringify({meta, at: new Date().toISOString()}, null, 2) + '\n',
		);
		fs.renameSync(scratch, dir);
		return {dir, meta, built: true};
	});
}

/** The stamp of a published entry, or undefined when the entry is missing or unfinished. */
export function readStamp<Meta>(dir: string): {meta: Meta; at: string} | undefined {
	try {
		return JSON.parse(fs.readFileSync(path.join(dir, completeStamp), 'utf8')) as {meta: Meta; at: string};
	} catch {
		return undefined;
	}
}

/**
 * Called under the entry's lock: an unstamped folder at the entry's place (an older layout, or a
 * half-made entry) and the scratch folders of writers that died are not ours to keep.
 */
function removeLeftovers(dir: string): void {
	const parent = path.dirname(dir);
	const base = path.basename(dir);
	if (!fs.existsSync(parent)) return;
	for (const name of fs.readdirSync(parent)) {
		if (name === base || name.startsWith(`${base}.scratch-`)) removeTree(path.join(parent, name));
	}
}

/** rm -rf that tolerates a dying writer's last compiler still adding a file while we delete. */
export function removeTree(target: string): void {
	for (let attempt = 0; attempt < 5; attempt++) {
		try {
			fs.rmSync(target, {recursive: true, force: true, maxRetries: 3});
			return;
		} catch (error) {
			if (attempt === 4) throw error;
		}
	}
}
