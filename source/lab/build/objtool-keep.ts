import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A kernel build copied from the nearest one (kernel.ts, seedFromNearest) keeps its objtool when
 * make rebuilds it to the same program.
 *
 * Every object depends on the objtool binary by its time. tools/' own build system sometimes
 * rebuilds objtool in a copied tree (a recorded command that differs from today's: seen in CI, not
 * reproduced here), and then every object is compiled again for nothing. So objtool is built
 * first, alone; if the program is the same as the copy's (debug info and build id aside: they name
 * the folder it was built in), every file that pass wrote under tools/ gets the copy's objtool
 * time back, and the kernel's objects stay up to date. A different program is kept as built, and
 * the objects follow it, as they must.
 */
export async function keepCopiedObjtool(
	buildDir: string,
	make: (args: string[], what: string) => Promise<unknown>,
	onLine?: (line: string) => void,
): Promise<void> {
	const binary = path.join(buildDir, 'tools/objtool/objtool');
	let before: fs.Stats;
	try {
		before = fs.statSync(binary);
	} catch {
		return;
	}
	const saved = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kernelcraft-objtool-')), 'objtool');
	fs.copyFileSync(binary, saved);
	const passStarted = Date.now();
	try {
		await make(['tools/objtool'], 'objtool, built first in the copied tree');
		const after = fs.statSync(binary);
		if (after.mtimeMs === before.mtimeMs) return;
		if (!sameProgram(saved, binary)) {
			onLine?.('objtool was rebuilt and differs from the copied one: every object is checked against it');
			return;
		}
		const reset = backdate(path.join(buildDir, 'tools'), passStarted - 1000, before.mtime);
		onLine?.(
			`objtool was rebuilt to the same program: ${reset} files under tools/ get the copied objtool's time back, so no object is compiled again for it`,
		);
	} finally {
		fs.rmSync(path.dirname(saved), {recursive: true, force: true});
	}
}

/** The two binaries are one program: equal once debug info and the build id are stripped. */
export function sameProgram(a: string, b: string): boolean {
	const strip = (file: string) => {
		const out = `${file}.stripped-${process.pid}`;
		execFileSync('objcopy', ['--strip-debug', '--remove-section=.note.gnu.build-id', file, out], {stdio: 'ignore'});
		try {
			return fs.readFileSync(out);
		} finally {
			fs.rmSync(out, {force: true});
		}
	};
	try {
		return strip(a).equals(strip(b));
	} catch {
		return false;
	}
}

/** Every file under `dir` modified since `since` (ms) gets `time`; returns how many. */
function backdate(dir: string, since: number, time: Date): number {
	let count = 0;
	const walk = (folder: string) => {
		for (const entry of fs.readdirSync(folder, {withFileTypes: true})) {
			const file = path.join(folder, entry.name);
			if (entry.isDirectory()) walk(file);
			else if (entry.isFile() && fs.statSync(file).mtimeMs >= since) {
				fs.utimesSync(file, time, time);
				count++;
			}
		}
	};
	walk(dir);
	return count;
}
