import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {LabError} from '../lab-error.js';

/** sun_path holds 108 bytes with its terminating NUL (unix(7)). */
export const maxSocketPath = 107;

/** Room for the longest socket name a run gives QEMU (tune-qmp.sock, gdb-99.sock, checks.sock). */
const longestSocketName = 'tune-qmp.sock';

const chosen = new Map<string, string>();

/**
 * Where the unix sockets of a run folder go. The folder itself while every socket path in it
 * fits in sun_path; else a private 0700 folder of its own under $XDG_RUNTIME_DIR (per user) or
 * the temp dir, the same one for the same folder for the rest of this process. Run folders sit
 * under ~/.cache/kernelcraft/runs/<stamp>-<milestone>/vm-<id>/: with a user name of 11 or more
 * characters a socket there no longer fits, and QEMU refuses to start.
 */
export function socketDirFor(dir: string): string {
	if (path.join(dir, longestSocketName).length <= maxSocketPath) return dir;
	const known = chosen.get(dir);
	if (known && fs.existsSync(known)) return known;
	const bases = [process.env.XDG_RUNTIME_DIR, os.tmpdir()].filter((base): base is string => Boolean(base));
	for (const base of bases) {
		if (path.join(base, 'kernelcraft-XXXXXX', longestSocketName).length > maxSocketPath) continue;
		try {
			const made = fs.mkdtempSync(path.join(base, 'kernelcraft-'));
			fs.chmodSync(made, 0o700);
			// Where the sockets went, for someone who looks in the run folder.
			fs.mkdirSync(dir, {recursive: true, mode: 0o700});
			fs.writeFileSync(path.join(dir, 'sockets-are-in.txt'), `${made}\n`);
			chosen.set(dir, made);
			return made;
		} catch {
			continue;
		}
	}
	throw new LabError({
		what: `No folder for the VM's sockets: ${dir} is too deep for a unix socket path (at most ${maxSocketPath} bytes), and neither $XDG_RUNTIME_DIR nor ${os.tmpdir()} can take one.`,
		hint: 'Set TMPDIR to a short, writable folder (for example /tmp), or KERNELCRAFT_CACHE to a shorter path.',
	});
}

/** Removes the folder socketDirFor made for `dir`, if it made one (the VM is gone). */
export function releaseSocketDir(dir: string): void {
	const made = chosen.get(dir);
	if (!made) return;
	chosen.delete(dir);
	fs.rmSync(made, {recursive: true, force: true});
}

/** A value inside a QEMU option list (path=..., unix:...): a comma there is written twice. */
export function qemuOptionValue(value: string): string {
	return value.replaceAll(',', ',,');
}
