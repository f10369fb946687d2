import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface FolderWatch {
	close(): void;
}

export interface WatchOptions {
	dir: string;
	/** The files that matter; editors' swap, backup and temporary files around them do not. */
	files: string[];
	/** Called once per burst of writes that left some file with new contents. */
	onChange: (changed: string[]) => void;
	/** Quiet time after the last event before looking (an editor's save is several events). */
	debounceMs?: number;
}

const digest = (file: string): string | undefined => {
	try {
		return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
	} catch {
		return undefined;
	}
};

/**
 * Watches a folder, not the files in it: vim and many editors save by writing a new file and
 * renaming it over the old one, which ends a watch on the old file's inode; the folder's watch sees
 * the rename and keeps going. Nano writes in place, which the folder sees as a change. A save
 * counts when a file's contents differ from what was last seen, so an editor's extra events, a
 * save without changes and a touch trigger nothing.
 */
export function watchFolder(options: WatchOptions): FolderWatch {
	const seen = new Map(options.files.map(name => [name, digest(path.join(options.dir, name))]));
	let timer: NodeJS.Timeout | undefined;
	const look = () => {
		timer = undefined;
		const changed: string[] = [];
		for (const name of options.files) {
			const now = digest(path.join(options.dir, name));
			// A file missing for a moment (between an editor's unlink and rename) is not a change.
			if (now === undefined || now === seen.get(name)) continue;
			seen.set(name, now);
			changed.push(name);
		}
		if (changed.length > 0) options.onChange(changed);
	};
	const watcher = fs.watch(options.dir, {persistent: false}, (_event, name) => {
		if (name !== null && !options.files.includes(String(name))) return;
		clearTimeout(timer);
		timer = setTimeout(look, options.debounceMs ?? 120);
	});
	// The folder removed or unreadable: watching ends; the next run recreates it.
	watcher.on('error', () => watcher.close());
	return {
		close() {
			clearTimeout(timer);
			watcher.close();
		},
	};
}
