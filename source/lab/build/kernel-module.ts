import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import {projectRoot} from '../paths.js';
import {formatCompilerError, parseCompilerErrors} from './compiler-errors.js';
import {directoryContents, hashInputs} from './content-hash.js';
import type {KernelBuild} from './kernel.js';

export interface ModuleBuild {
	/** Path of each built .ko, by module name. */
	modules: Record<string, string>;
	rebuilt: boolean;
	logPath: string;
}

export interface ModuleBuildOptions {
	/** The module's source folder (with its Kbuild file); it is built in place, like any external module. */
	srcDir: string;
	kernel: KernelBuild;
	cacheDir: string;
	/** Extra make arguments, e.g. EXTRA_CFLAGS for an include dir. */
	makeArgs?: string[];
	/** Other inputs that change the build (e.g. a shared ABI header). */
	extraInputs?: string[];
	signal?: AbortSignal;
	onLine?: (line: string) => void;
}

const isBuildOutput = (name: string) => /\.(o|ko|mod|mod\.c|cmd|order|symvers|d)$/.test(name) || name.startsWith('.') || name === 'Module.symvers' || name === 'modules.order';

/**
 * Builds an out-of-tree module against the exact kernel build that boots (so vermagic matches),
 * and skips make entirely when neither the sources nor the kernel changed.
 */
export async function buildKernelModule(options: ModuleBuildOptions): Promise<ModuleBuild> {
	const srcDir = path.resolve(options.srcDir);
	if (!fs.existsSync(path.join(srcDir, 'Kbuild')) && !fs.existsSync(path.join(srcDir, 'Makefile'))) {
		throw new LabError({what: `${srcDir} has no Kbuild or Makefile: it is not a module source folder.`, hint: 'A module folder needs a Kbuild file with a line like `obj-m := hello.o`.'});
	}
	const inputs: Record<string, string> = {kernel: options.kernel.key, make: (options.makeArgs ?? []).join(' ')};
	for (const [file, text] of Object.entries(directoryContents(srcDir, isBuildOutput))) inputs[`src:${file}`] = text;
	for (const file of options.extraInputs ?? []) inputs[`extra:${file}`] = fs.readFileSync(file, 'utf8');
	const key = hashInputs(inputs);
	const stateDir = path.join(options.cacheDir, 'modules', hashInputs({srcDir}));
	const stampPath = path.join(stateDir, 'stamp.json');
	const logPath = path.join(stateDir, 'build.log');
	const expected = moduleNames(srcDir);
	const built = () => Object.fromEntries(expected.map(name => [name, path.join(srcDir, `${name}.ko`)]));
	if (readStamp(stampPath) === key && expected.every(name => fs.existsSync(path.join(srcDir, `${name}.ko`)))) {
		return {modules: built(), rebuilt: false, logPath};
	}
	fs.mkdirSync(stateDir, {recursive: true});
	fs.writeFileSync(logPath, '');
	await runLogged('make', ['-C', options.kernel.buildDir, `M=${srcDir}`, `-j${os.availableParallelism()}`, ...(options.makeArgs ?? []), 'modules'], {
		logPath,
		what: `building the module in ${path.relative(projectRoot, srcDir) || srcDir}`,
		signal: options.signal,
		onLine: options.onLine,
		pickErrorLines: lines => {
			const errors = parseCompilerErrors(lines, projectRoot);
			return errors.length > 0 ? errors.flatMap(formatCompilerError) : lines.filter(line => /error|\*\*\*|undefined/i.test(line)).slice(-10);
		},
		hint: 'Fix the source at the line shown and save: the module is rebuilt on the next run.',
	});
	const missing = expected.filter(name => !fs.existsSync(path.join(srcDir, `${name}.ko`)));
	if (missing.length > 0) throw new LabError({what: `make finished but ${missing.map(name => `${name}.ko`).join(', ')} is missing in ${srcDir}.`, logPath});
	writeFileAtomic(stampPath, JSON.stringify(key) + '\n');
	return {modules: built(), rebuilt: true, logPath};
}

/** The modules a Kbuild file declares with obj-m. */
export function moduleNames(srcDir: string): string[] {
	const kbuild = ['Kbuild', 'Makefile'].map(name => path.join(srcDir, name)).find(file => fs.existsSync(file))!;
	const names = new Set<string>();
	for (const match of fs.readFileSync(kbuild, 'utf8').matchAll(/^obj-m\s*[:+]?=\s*(.+)$/gm)) {
		for (const object of match[1]!.trim().split(/\s+/)) names.add(object.replace(/\.o$/, ''));
	}
	return [...names];
}

function readStamp(file: string): string | undefined {
	try {
		return JSON.parse(fs.readFileSync(file, 'utf8')) as string;
	} catch {
		return undefined;
	}
}

/**
 * A modules.dep for the guest's /lib/modules/<release>/: busybox's modinfo and modprobe look
 * modules up there. Our modules depend on nothing but the kernel, so each line is "path:".
 */
export function writeModulesDep(cacheDir: string, release: string, guestPaths: string[]): string {
	const file = path.join(cacheDir, 'modules', 'deps', hashInputs({release, list: guestPaths.join('\n')}), 'modules.dep');
	if (!fs.existsSync(file)) writeFileAtomic(file, guestPaths.map(guestPath => `${guestPath.replace(`/lib/modules/${release}/`, '')}:\n`).join(''));
	return file;
}
