import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {LabError} from '../lab-error.js';
import {runLogged} from '../host/run-logged.js';
import {projectRoot} from '../paths.js';
import {formatCompilerError, parseCompilerErrors, type CompilerError} from './compiler-errors.js';
import {directoryContents, hashInputs} from './content-hash.js';
import type {KernelBuild} from './kernel.js';
import {ensureCacheEntry} from './cache-entry.js';
import {compilerCacheEnv, compilerCacheLogName} from './compiler-cache.js';

export interface ModuleBuild {
	/** Path of each built .ko, by module name. */
	modules: Record<string, string>;
	rebuilt: boolean;
	logPath: string;
}

export interface ModuleBuildOptions {
	/** The module's source folder (with its Kbuild file); it is copied into the cache and built there. */
	srcDir: string;
	kernel: KernelBuild;
	cacheDir: string;
	/** Extra make arguments, e.g. EXTRA_CFLAGS for an include dir. */
	makeArgs?: string[];
	/** Other inputs that change the build (e.g. a shared ABI header); those inside the repository
	 * are copied beside the module's copy at their own relative place. */
	extraInputs?: string[];
	/**
	 * Where the copy is built, relative to the repository root, for a folder outside it made from
	 * a reference there (a learner's exercise): the reference's relative includes then resolve.
	 */
	buildAs?: string;
	signal?: AbortSignal;
	onLine?: (line: string) => void;
}

const isBuildOutput = (name: string) =>
	/\.(o|ko|mod|mod\.c|cmd|order|symvers|d)$/.test(name) ||
	name.startsWith('.') ||
	name === 'Module.symvers' ||
	name === 'modules.order';

/**
 * Builds an out-of-tree module against the exact kernel build that boots (so vermagic matches).
 * The sources are copied into a cache entry keyed by their content, the kernel and the make
 * arguments, and built there: the repository's drivers/ (or a learner's folder) stays clean, two
 * processes never run make in one folder, and unchanged inputs skip make entirely.
 */
export async function buildKernelModule(options: ModuleBuildOptions): Promise<ModuleBuild> {
	const srcDir = path.resolve(options.srcDir);
	if (!fs.existsSync(path.join(srcDir, 'Kbuild')) && !fs.existsSync(path.join(srcDir, 'Makefile'))) {
		throw new LabError({
			what: `${srcDir} has no Kbuild or Makefile: it is not a module source folder.`,
			hint: 'A module folder needs a Kbuild file with a line like `obj-m := hello.o`.',
		});
	}
	const sources = directoryContents(srcDir, isBuildOutput);
	const inputs: Record<string, string> = {kernel: options.kernel.key, make: (options.makeArgs ?? []).join(' ')};
	if (options.buildAs) inputs.buildAs = options.buildAs;
	for (const [file, text] of Object.entries(sources)) inputs[`src:${file}`] = text;
	for (const file of options.extraInputs ?? []) inputs[`extra:${file}`] = fs.readFileSync(file, 'utf8');
	const key = hashInputs(inputs);
	const entryDir = path.join(options.cacheDir, 'modules', key);
	const expected = moduleNames(srcDir);
	// Inside the repository the copy keeps its place relative to the root, so a Kbuild's relative
	// include (drivers/virtio-hello -> devices/virtio-hello/include) finds the copied extra inputs.
	const insideRepo = !path.relative(projectRoot, srcDir).startsWith('..');
	const relative = options.buildAs ?? (insideRepo ? path.relative(projectRoot, srcDir) : path.basename(srcDir));
	const entry = await ensureCacheEntry(
		entryDir,
		{what: `building the module in ${path.basename(srcDir)}`, onLine: options.onLine, signal: options.signal},
		async scratch => {
			const buildDir = path.join(scratch, relative);
			const copy = (from: string, to: string) => {
				fs.mkdirSync(path.dirname(to), {recursive: true});
				fs.copyFileSync(from, to);
			};
			for (const file of Object.keys(sources)) copy(path.join(srcDir, file), path.join(buildDir, file));
			for (const file of options.extraInputs ?? []) {
				if (!path.relative(projectRoot, file).startsWith('..'))
					copy(file, path.join(scratch, path.relative(projectRoot, file)));
			}
			const toSource = (line: string) => toSourcePath(line, {buildDir, srcDir, scratch});
			let firstError: string | undefined;
			let errorCount = 0;
			const build = runLogged(
				'make',
				[
					'-C',
					options.kernel.buildDir,
					`M=${buildDir}`,
					`-j${os.availableParallelism()}`,
					...(options.makeArgs ?? []),
					'modules',
				],
				{
					logPath: path.join(scratch, 'build.log'),
					env: compilerCacheEnv({
						cacheDir: options.cacheDir,
						statsLog: path.join(scratch, compilerCacheLogName),
						relativePaths: false,
					}),
					what: `building the module in ${insideRepo ? path.relative(projectRoot, srcDir) : srcDir}`,
					signal: options.signal,
					onLine: line => options.onLine?.(toSource(line)),
					pickErrorLines: lines => {
						// Each error at the line of the module's own source that leads to it, not in the
						// kernel header or macro where gcc found it.
						const errors = moduleCompilerErrors(lines, {buildDir, srcDir, scratch});
						firstError = errors[0] && formatCompilerError(errors[0])[0];
						errorCount = errors.length;
						return errors.length > 0
							? errors.flatMap(formatCompilerError)
							: lines
									.map(toSource)
									.filter(line => /error|\*\*\*|undefined/i.test(line))
									.slice(-10);
					},
					hint: 'Fix the source at the line shown and save: the module is rebuilt on the next run.',
				},
			);
			try {
				// Warnings too are shown at the module's own lines, after make's output.
				const warnings = moduleCompilerErrors(await build, {buildDir, srcDir, scratch}, {warnings: true}).filter(
					warning => !path.relative(srcDir, path.resolve(projectRoot, warning.file)).startsWith('..'),
				);
				for (const line of warnings.flatMap(formatCompilerError)) options.onLine?.(line);
			} catch (error) {
				// The first compile error is the one to fix (the others often follow from it): it
				// heads the failure as file:line: message, where a short step log still shows it.
				if (!(error instanceof LabError) || !firstError) throw error;
				const more = errorCount > 1 ? ` (and ${errorCount - 1} more below)` : '';
				throw new LabError({...error.failure, what: `${firstError}${more}`});
			}
			const missing = expected.filter(name => !fs.existsSync(path.join(buildDir, `${name}.ko`)));
			if (missing.length > 0)
				throw new LabError({
					what: `make finished but ${missing.map(name => `${name}.ko`).join(', ')} is missing.`,
					logPath: path.join(scratch, 'build.log'),
				});
			return {modules: expected, relative};
		},
	);
	return {
		modules: Object.fromEntries(
			entry.meta.modules.map(name => [name, path.join(entryDir, entry.meta.relative, `${name}.ko`)]),
		),
		rebuilt: entry.built,
		logPath: path.join(entryDir, 'build.log'),
	};
}

/** Where make compiled a module's copy (`buildDir`, inside the cache entry's `scratch`), and whence. */
export interface ModuleCopy {
	buildDir: string;
	srcDir: string;
	scratch: string;
}

/** A line of make's output with the copies' paths turned back into the files they were copied from. */
export function toSourcePath(line: string, copy: ModuleCopy): string {
	return line.split(copy.buildDir).join(copy.srcDir).split(`${copy.scratch}/`).join(`${projectRoot}/`);
}

/**
 * gcc's diagnostics in make's output, each named by the module's own file and line (the source
 * folder's, not the copy's): an error gcc finds in a kernel header or inside a macro's definition
 * is shown at the line of the module that uses the macro or includes the header.
 */
export function moduleCompilerErrors(
	lines: string[],
	copy: ModuleCopy,
	options: {warnings?: boolean} = {},
): CompilerError[] {
	return parseCompilerErrors(
		lines.map(line => toSourcePath(line, copy)),
		projectRoot,
		{ownDir: copy.srcDir, ...options},
	);
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

/**
 * A modules.dep for the guest's /lib/modules/<release>/: busybox's modinfo and modprobe look
 * modules up there. Our modules depend on nothing but the kernel, so each line is "path:".
 */
export function writeModulesDep(cacheDir: string, release: string, guestPaths: string[]): string {
	const file = path.join(
		cacheDir,
		'modules',
		'deps',
		hashInputs({release, list: guestPaths.join('\n')}),
		'modules.dep',
	);
	if (!fs.existsSync(file))
		writeFileAtomic(
			file,
			guestPaths.map(guestPath => `${guestPath.replace(`/lib/modules/${release}/`, '')}:\n`).join(''),
		);
	return file;
}
