import fs from 'node:fs';
import path from 'node:path';
import {runLogged} from '../host/run-logged.js';
import {projectRoot} from '../paths.js';
import {hashInputs} from './content-hash.js';
import {formatCompilerError, parseCompilerErrors} from './compiler-errors.js';

export interface GuestProgramOptions {
	name: string;
	source: string;
	includeDirs: string[];
	/** Files whose content changes the program (headers). */
	inputs: string[];
	cacheDir: string;
	signal?: AbortSignal;
}

/**
 * A small C program for the guest, built on the host with gcc -static: the guest has no libc,
 * so everything it needs is linked in. Cached by the content of its source and headers.
 */
export async function buildGuestProgram(options: GuestProgramOptions): Promise<{path: string; rebuilt: boolean}> {
	const key = hashInputs(
		Object.fromEntries(
			[options.source, ...options.inputs].map(file => [
				path.relative(projectRoot, file),
				fs.readFileSync(file, 'utf8'),
			]),
		),
	);
	const dir = path.join(options.cacheDir, 'guest-programs', options.name, key);
	const binary = path.join(dir, options.name);
	if (fs.existsSync(binary)) return {path: binary, rebuilt: false};
	fs.mkdirSync(dir, {recursive: true});
	// A name of this process's own: two processes building the same program never share a file,
	// and the rename publishes a finished binary whole (the binary's existence is the stamp).
	const scratch = `${binary}.${process.pid}.tmp`;
	await runLogged(
		'gcc',
		[
			'-static',
			'-O2',
			'-Wall',
			'-Wextra',
			...options.includeDirs.map(include => `-I${include}`),
			'-o',
			scratch,
			options.source,
			'-lpthread',
		],
		{
			logPath: `${scratch}.log`,
			what: `building ${options.name} (gcc -static)`,
			signal: options.signal,
			pickErrorLines: lines => parseCompilerErrors(lines, projectRoot).flatMap(formatCompilerError),
			hint: 'A static build needs libc6-dev (build-essential).',
		},
	);
	fs.renameSync(scratch, binary);
	return {path: binary, rebuilt: true};
}
