#!/usr/bin/env node
// Compiles the TypeScript (tsc) only when a source is newer than the last compile, so `npm start`
// paints at once on a machine that has already built, and `npm install` (prepare) builds once.
// Plain JavaScript on purpose: it runs before there is any compiled output.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const stamp = path.join(root, 'dist', '.kernelcraft-compiled');
const inputs = ['source', 'test', 'tsconfig.json', 'package.json', 'package-lock.json'];

function newestMtime(target) {
	let stat;
	try {
		stat = fs.statSync(target);
	} catch {
		return 0;
	}
	if (!stat.isDirectory()) return stat.mtimeMs;
	let newest = stat.mtimeMs;
	for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
	return newest;
}

const built = fs.existsSync(stamp) ? fs.statSync(stamp).mtimeMs : 0;
const changed = Math.max(...inputs.map(input => newestMtime(path.join(root, input))));
if (!process.argv.includes('--always') && built > 0 && changed <= built) process.exit(0);

const started = Date.now();
process.stderr.write(
	built > 0
		? 'kernelcraft: sources changed since the last compile: compiling (tsc)…\n'
		: 'kernelcraft: compiling (tsc), once…\n',
);
const tsc = spawnSync(
	process.execPath,
	[path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.json')],
	{stdio: 'inherit'},
);
if (tsc.status !== 0) {
	process.stderr.write('kernelcraft: the TypeScript compile failed (messages above).\n');
	process.exit(tsc.status ?? 1);
}
fs.mkdirSync(path.dirname(stamp), {recursive: true});
fs.writeFileSync(stamp, `${new Date(started).toISOString()}\n`);
// The stamp's mtime must not be newer than a source saved while tsc ran: back-date it to the start.
fs.utimesSync(stamp, new Date(started), new Date(started));
