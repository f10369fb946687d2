import fs from 'node:fs';
import path from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/**
 * Write-then-rename (write-file-atomic: fsync, a temp name unique per process, thread and call),
 * so a reader, a crash or a second writer never sees half a file. Creates the folder first.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
	fs.mkdirSync(path.dirname(file), {recursive: true});
	writeFileAtomicLib.sync(file, typeof data === 'string' ? data : Buffer.from(data));
}
