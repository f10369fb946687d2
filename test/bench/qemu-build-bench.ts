// `npm run bench -- --only-qemu-build`: QEMU built cold eight times in one run, each from its own
// fresh copy of Debian's source in a temp dir: the build before devices/qemu-devices.mak (QEMU's
// full default device set, with -g), the device list with -g, the list without -g, the list with a
// precompiled qemu/osdep.h (devices/qemu-pch.py), that plus the trace and QAPI sources batched
// (devices/qemu-7.2-unity.patch), and the build as kernelcraft makes it now (that, plus configure
// without the steps it never needs and two compiler flags that change no object), so the saving of
// each change is measured on its own. The first and the last run twice: their ratio has the target
// (at most half).
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {compilerCacheLogName, readCompilerCacheStats} from '../../source/lab/build/compiler-cache.js';
import {ensureQemu} from '../../source/lab/build/qemu-build.js';
import {ensureQemuSource} from '../../source/lab/build/qemu-source.js';
import {devicesDir} from '../../source/lab/paths.js';
import {seconds, stats, type Row} from './report.js';

export interface QemuBuildFigures {
	variant: string;
	/** Wall time: configure (with the device patch applied before it) + ninja; the median of runsMs. */
	totalMs: number;
	/** Every build's wall time, in the order they ran. */
	runsMs: number[];
	configureMs: number;
	ninjaMs: number;
	/** The "m" of ninja's last "[n/m]" line: the steps it had to run. */
	steps: number;
	/** CONFIG_ lines in the generated x86_64-softmmu-config-devices.mak. */
	devices: number;
	binaryBytes: number;
	/** Seconds ninja's steps took, summed (CPU-ish: two run at once with -j2), by area of the tree. */
	stepSeconds: Map<string, number>;
}

/**
 * ninja's own log of the build (.ninja_log: start and end ms of each step), summed by the area of
 * QEMU's tree a step's output belongs to: hw (the devices), qapi and trace (generated code),
 * target, block, util, ... A step with several outputs is logged once per output, same hash: once.
 */
export function stepSecondsByArea(ninjaLog: string): Map<string, number> {
	const byArea = new Map<string, number>();
	const seen = new Set<string>();
	for (const line of ninjaLog.split('\n').slice(1)) {
		const [start, end, , output, hash] = line.split('\t');
		if (!output || !hash || seen.has(hash)) continue;
		seen.add(hash);
		const name = output.replace(/^[^/]*\.p\//, '').replace(/^meson-generated_\.\._/, '');
		const area = /^[\w-]+?(?=[_/.]|$)/.exec(name)?.[0] ?? name;
		byArea.set(area, (byArea.get(area) ?? 0) + (Number(end) - Number(start)) / 1000);
	}
	return byArea;
}

/**
 * The first is the build before devices/qemu-devices.mak; the last is the one kernelcraft makes now.
 * Each step in between adds one change, so each change's saving is measured on its own.
 */
const variants = [
	{
		name: 'before: full default devices, -g (--all-devices --debug-info --no-pch --no-unity --stock-configure --plain-cflags)',
		args: ['--all-devices', '--debug-info', '--no-pch', '--no-unity', '--stock-configure', '--plain-cflags'],
	},
	{
		name: 'the device list, -g (--debug-info --no-pch --no-unity --stock-configure --plain-cflags)',
		args: ['--debug-info', '--no-pch', '--no-unity', '--stock-configure', '--plain-cflags'],
	},
	{
		name: 'the device list, no -g (--no-pch --no-unity --stock-configure --plain-cflags)',
		args: ['--no-pch', '--no-unity', '--stock-configure', '--plain-cflags'],
	},
	{
		name: 'the device list, no -g, precompiled qemu/osdep.h (--no-unity --stock-configure --plain-cflags)',
		args: ['--no-unity', '--stock-configure', '--plain-cflags'],
	},
	{
		name: 'the device list, no -g, precompiled qemu/osdep.h, trace and QAPI sources batched (--stock-configure --plain-cflags)',
		args: ['--stock-configure', '--plain-cflags'],
	},
	{
		name: 'now: that, configure without Objective-C checks, CMake and a second meson start, -pipe -ftrack-macro-expansion=0 (no option)',
		args: [],
	},
] as const;

/**
 * The order the builds run in (indexes into variants): before and now twice each, mirrored (before,
 * now, the steps between, now, before), so a machine that speeds up or slows down while they run
 * weighs on both sides of their ratio alike.
 */
const schedule = [0, 5, 1, 2, 3, 4, 5, 0];

export async function measureQemuBuilds(
	cacheDir: string,
	scratch: string,
	log: (line: string) => void,
): Promise<QemuBuildFigures[]> {
	const source = await ensureQemuSource({cacheDir, onLine: log});
	const runs = new Map<number, QemuBuildFigures[]>();
	for (const [order, index] of schedule.entries()) {
		const figures = await buildOnce(source.dir, path.join(scratch, `qemu-${order}`), variants[index]!, log);
		runs.set(index, [...(runs.get(index) ?? []), figures]);
	}
	return variants.map((_, index) => {
		const all = runs.get(index)!;
		const median = (pick: (figures: QemuBuildFigures) => number) => stats(all.map(pick)).median;
		return {
			...all[0]!,
			totalMs: median(figures => figures.totalMs),
			configureMs: median(figures => figures.configureMs),
			ninjaMs: median(figures => figures.ninjaMs),
			runsMs: all.map(figures => figures.totalMs),
		};
	});
}

async function buildOnce(
	sourceDir: string,
	workDir: string,
	variant: (typeof variants)[number],
	log: (line: string) => void,
): Promise<QemuBuildFigures> {
	const jobs = os.availableParallelism();
	const tree = path.join(workDir, 'src');
	fs.mkdirSync(workDir, {recursive: true});
	// The script patches the tree it is given: each build gets its own pristine copy (untimed).
	copyTree(sourceDir, tree);
	log(`cold QEMU build, ${variant.name}: qemu-build.sh -j${jobs} in ${workDir}`);
	const started = performance.now();
	let ninjaAt: number | undefined;
	let steps = 0;
	let lastTenth = -1;
	await runScript(
		[path.join(devicesDir, 'qemu-build.sh'), ...variant.args, '-j', String(jobs), workDir, tree],
		path.join(workDir, 'build.log'),
		line => {
			if (ninjaAt === undefined && /^qemu-build: ninja /.test(line)) ninjaAt = performance.now();
			const step = /^\[(\d+)\/(\d+)\]/.exec(line);
			if (!step) return;
			steps = Number(step[2]);
			const tenth = Math.floor((Number(step[1]) / steps) * 10);
			if (tenth !== lastTenth) {
				lastTenth = tenth;
				log(`  ${variant.name}: [${step[1]}/${step[2]}] after ${seconds(performance.now() - started, 0)}`);
			}
		},
	);
	const done = performance.now();
	if (ninjaAt === undefined)
		throw new Error(`qemu-build.sh (${variant.name}) never reached ninja: see ${workDir}/build.log`);
	const build = path.join(workDir, 'build');
	const devices = fs
		.readFileSync(path.join(build, 'x86_64-softmmu-config-devices.mak'), 'utf8')
		.split('\n')
		.filter(line => /^CONFIG_\w+=y/.test(line)).length;
	const figures: QemuBuildFigures = {
		variant: variant.name,
		totalMs: done - started,
		configureMs: ninjaAt - started,
		ninjaMs: done - ninjaAt,
		runsMs: [done - started],
		steps,
		devices,
		binaryBytes: fs.statSync(path.join(build, 'qemu-system-x86_64')).size,
		stepSeconds: stepSecondsByArea(fs.readFileSync(path.join(build, '.ninja_log'), 'utf8')),
	};
	log(`  ${variant.name}: ${seconds(figures.totalMs, 0)} (${steps} ninja steps)`);
	fs.rmSync(workDir, {recursive: true, force: true});
	return figures;
}

export function qemuBuildRows(results: QemuBuildFigures[]): Row[] {
	const jobs = os.availableParallelism();
	const rows: Row[] = results.map(result => ({
		figure: `cold QEMU build, ${result.variant}: configure + ninja -j${jobs} qemu-system-x86_64`,
		value: `${seconds(result.totalMs, 0)}${result.runsMs.length > 1 ? ` (median of ${result.runsMs.map(ms => seconds(ms, 0)).join(', ')})` : ''} (configure ${seconds(result.configureMs, 0)}, ninja ${seconds(result.ninjaMs, 0)}; ${result.steps} ninja steps; ${result.devices} CONFIG_ symbols; binary ${(result.binaryBytes / 1024 / 1024).toFixed(1)} MB)`,
		target: '',
	}));
	const [before, ...after] = results;
	const now = results.at(-1);
	if (before && now && before !== now) {
		// Where the time went, and what the device list took out of it: the devices (hw) shrink,
		// QEMU's core (everything else) is the same in both.
		const total = (figures: QemuBuildFigures) => [...figures.stepSeconds.values()].reduce((a, b) => a + b, 0);
		const areas = [...now.stepSeconds.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
		const area = (name: string, seconds: number) =>
			`${name} ${(before.stepSeconds.get(name) ?? 0).toFixed(0)} → ${seconds.toFixed(0)}`;
		rows.push({
			figure:
				"cold QEMU build: ninja's step time summed by area of QEMU's tree (.ninja_log), before → now, s (hw: the devices)",
			value: `total ${total(before).toFixed(0)} → ${total(now).toFixed(0)}; ${areas.map(([name, seconds]) => area(name, seconds)).join(', ')}`,
			target: '',
		});
	}
	for (const result of after) {
		if (!before) break;
		const ratio = result.totalMs / before.totalMs;
		const now = result === after.at(-1);
		rows.push({
			figure: `cold QEMU build, ${result.variant} / before (wall time)`,
			// Three decimals where there is a target: 0.504 is not "0.50" against ≤ 0.50.
			value: `${ratio.toFixed(now ? 3 : 2)} (ninja steps ${(result.steps / before.steps).toFixed(2)}, binary ${(result.binaryBytes / before.binaryBytes).toFixed(2)})`,
			target: now ? '≤ 0.50' : '',
			met: now ? ratio <= 0.5 : undefined,
		});
	}
	return rows;
}

/** cp -a: a copy that keeps mtimes (ninja's view of the tree), untimed. */
function copyTree(from: string, to: string): void {
	const copy = spawnSync('cp', ['-a', from, to], {encoding: 'utf8'});
	if (copy.status !== 0) throw new Error(`cp -a ${from} ${to}: ${copy.stderr.trim()}`);
}

/** bash SCRIPT..., every output line to the log file and to onLine; rejects on a non-zero exit. */
function runScript(args: string[], logPath: string, onLine: (line: string) => void): Promise<void> {
	const logFile = fs.createWriteStream(logPath);
	return new Promise((resolve, reject) => {
		// Cold means cold: kernelcraft's own builds run under ccache (compilerCacheEnv), these never do.
		const child = spawn('bash', args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, CCACHE_DISABLE: '1'}});
		let tail: string[] = [];
		let pending = '';
		const take = (chunk: Buffer) => {
			logFile.write(chunk);
			pending += chunk.toString('utf8');
			const lines = pending.split('\n');
			pending = lines.pop()!;
			for (const line of lines) {
				tail = [...tail.slice(-9), line];
				onLine(line);
			}
		};
		child.stdout.on('data', take);
		child.stderr.on('data', take);
		child.on('error', reject);
		child.on('close', code => {
			logFile.end();
			if (code === 0) resolve();
			else reject(new Error(`qemu-build.sh exited ${code}:\n${tail.join('\n')}`));
		});
	});
}

/**
 * QEMU built the way kernelcraft builds it (ensureQemu: under ccache), in a kernelcraft cache of
 * its own: first with an empty ccache, which it fills (a learner's first QEMU), then the learner's
 * device-exercise QEMU, a second work tree at another path, from that warm ccache (what the
 * background build does next). Debian's source is copied in, untimed; no shared cache.
 */
export async function measureQemuCcache(
	cacheDir: string,
	scratch: string,
	log: (line: string) => void,
): Promise<Row[]> {
	const source = await ensureQemuSource({cacheDir, onLine: log});
	const ownCache = path.join(scratch, 'qemu-ccache');
	const qemuDir = path.join(ownCache, 'qemu');
	fs.mkdirSync(qemuDir, {recursive: true});
	copyTree(path.dirname(source.dir), path.join(qemuDir, path.basename(path.dirname(source.dir))));
	const deviceCopy = path.join(scratch, 'device-exercise');
	fs.cpSync(path.join(devicesDir, 'virtio-hello'), deviceCopy, {recursive: true});
	const saved = process.env.KERNELCRAFT_SHARED_CACHE;
	process.env.KERNELCRAFT_SHARED_CACHE = '';
	const rows: Row[] = [];
	try {
		let coldMs = 0;
		for (const build of [
			{name: "kernelcraft's QEMU, an empty ccache (filling it)", deviceDir: undefined},
			{name: "the learner's device-exercise QEMU, a new work tree, that ccache warm", deviceDir: deviceCopy},
		]) {
			log(`QEMU through ensureQemu: ${build.name}`);
			const started = performance.now();
			const built = await ensureQemu({cacheDir: ownCache, deviceDir: build.deviceDir, onLine: () => {}});
			const ms = performance.now() - started;
			if (!built.rebuilt) throw new Error(`${build.name}: ensureQemu found it built already`);
			const cached = readCompilerCacheStats(path.join(path.dirname(built.logPath), compilerCacheLogName));
			const hits = cached ? `; ccache ${cached.hits} hits, ${cached.misses} misses` : '';
			log(`  ${build.name}: ${seconds(ms, 0)}${hits}`);
			if (!build.deviceDir) coldMs = ms;
			rows.push({
				figure: `QEMU build, ${build.name}: qemu-build.sh + ninja -j${os.availableParallelism()} (ensureQemu)`,
				value: build.deviceDir
					? `${seconds(ms, 0)} = ${(ms / coldMs).toFixed(2)}× the first${hits}`
					: `${seconds(ms, 0)}${hits}`,
				target: '',
			});
		}
	} finally {
		if (saved === undefined) delete process.env.KERNELCRAFT_SHARED_CACHE;
		else process.env.KERNELCRAFT_SHARED_CACHE = saved;
		fs.rmSync(ownCache, {recursive: true, force: true});
	}
	return rows;
}
