import fs from 'node:fs';
import path from 'node:path';
import {runLogged} from '../host/run-logged.js';
import {directoryContents, hashInputs} from './content-hash.js';

export interface DiskImageOptions {
	/** Folder whose files become the filesystem's content. */
	contentDir: string;
	cacheDir: string;
	sizeMb: number;
	/** Where the run's writable copy goes (the cached image is never written by a guest). */
	runDir: string;
	signal?: AbortSignal;
}

/**
 * An ext4 image made without root (mke2fs -d), cached by content; each run boots a copy, so the
 * milestone's write test always starts from the same known disk.
 */
export async function makeDiskImage(
	options: DiskImageOptions,
): Promise<{path: string; pristine: string; rebuilt: boolean}> {
	const key = hashInputs({format: 'disk-1', size: String(options.sizeMb), ...directoryContents(options.contentDir)});
	const pristine = path.join(options.cacheDir, 'disks', `${key}.ext4`);
	let rebuilt = false;
	if (!fs.existsSync(pristine)) {
		// A scratch name of this process's own, renamed into place whole once mke2fs has finished
		// (the image's existence is its completion stamp); a killed run's scratch is never read.
		const scratch = `${pristine}.${process.pid}.tmp`;
		fs.mkdirSync(path.dirname(pristine), {recursive: true});
		fs.rmSync(scratch, {force: true});
		await runLogged(
			'mke2fs',
			['-q', '-t', 'ext4', '-L', 'kernelcraft', '-d', options.contentDir, scratch, `${options.sizeMb}M`],
			{
				logPath: path.join(options.cacheDir, 'disks', 'mke2fs.log'),
				what: 'making the disk image (mke2fs)',
				signal: options.signal,
				hint: 'mke2fs comes with e2fsprogs: run `kernelcraft setup`.',
			},
		);
		fs.renameSync(scratch, pristine);
		rebuilt = true;
	}
	fs.mkdirSync(options.runDir, {recursive: true});
	const copy = path.join(options.runDir, 'disk.ext4');
	fs.copyFileSync(pristine, copy);
	return {path: copy, pristine, rebuilt};
}
