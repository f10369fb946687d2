import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A short, stable hash of named inputs: the cache key of a build. */
export function hashInputs(inputs: Record<string, string>): string {
	const hash = createHash('sha256');
	for (const key of Object.keys(inputs).sort()) hash.update(`${key}\0${inputs[key]}\0`);
	return hash.digest('hex').slice(0, 16);
}

/** The files of a directory (recursively, sorted) as path -> content, for hashing. */
export function directoryContents(dir: string, skip: (name: string) => boolean = () => false): Record<string, string> {
	const contents: Record<string, string> = {};
	const walk = (current: string) => {
		for (const entry of fs.readdirSync(current, {withFileTypes: true}).sort((a, b) => a.name.localeCompare(b.name))) {
			if (skip(entry.name)) continue;
			const full = path.join(current, entry.name);
			if (entry.isDirectory()) walk(full);
			else if (entry.isFile()) contents[path.relative(dir, full)] = fs.readFileSync(full, 'utf8');
		}
	};
	walk(dir);
	return contents;
}
