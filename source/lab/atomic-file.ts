import fs from 'node:fs';
import path from 'node:path';

/** Write-then-rename, so a reader (or a crash) never sees half a file. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
	fs.mkdirSync(path.dirname(file), {recursive: true});
	const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
	const fd = fs.openSync(temporary, 'w');
	try {
		fs.writeFileSync(fd, data);
		fs.fsyncSync(fd);
	} finally {
		fs.closeSync(fd);
	}
	fs.renameSync(temporary, file);
}
