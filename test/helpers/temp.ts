import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {ExecutionContext} from 'ava';

/** A scratch directory removed when the test ends. */
export function tempDir(t: ExecutionContext, prefix = 'kernelcraft-test-'): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	t.teardown(() => fs.rmSync(dir, {recursive: true, force: true}));
	return dir;
}
