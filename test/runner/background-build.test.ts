import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type {Milestone} from '../../source/expedition/types.js';
import {baseRequirements} from '../../source/lab/host/requirements.js';
import {Workbench} from '../../source/runner/workbench.js';
import {runLogged} from '../../source/lab/host/run-logged.js';
import {BackgroundBuild, type BackgroundWork} from '../../source/runner/background-build.js';
import type {RunEvent} from '../../source/runner/events.js';
import {procStat, until} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

type BackgroundEvent = Extract<RunEvent, {type: 'background'}>;

/** A real process that reports ninja-style progress, as the QEMU build does, `steps` times. */
function countingWork(logDir: string, steps: number, pids: number[]): BackgroundWork {
	return async ({signal, control, onProgress}) => {
		const job = runLogged('bash', ['-c', `for i in $(seq 1 ${steps}); do echo "[$i/${steps}] cc"; sleep 0.05; done`], {
			logPath: path.join(logDir, 'build.log'),
			what: 'a counting build',
			signal,
			control,
			background: true,
			onLine: line => {
				const step = /^\[(\d+)\/(\d+)\]/.exec(line);
				if (step) onProgress(Number(step[1]) / Number(step[2]), line);
			},
		});
		await until(() => control.runningGroups.length > 0 || signal.aborted, 'the build to start');
		pids.push(...control.runningGroups);
		await job;
		return 'counted';
	};
}

test('a background build reports progress, pauses for a foreground build and for the learner, and finishes', async t => {
	const events: BackgroundEvent[] = [];
	const pids: number[] = [];
	const build = new BackgroundBuild(countingWork(tempDir(t), 60, pids), event => {
		if (event.type === 'background') events.push(event);
	});
	build.start();
	await until(() => events.some(event => event.fraction > 0.1), 'progress');
	t.is(build.current, 'running');
	const [pid] = pids;
	if (pid === undefined) return t.fail('no process started');

	// A milestone's own build: the background one is stopped for exactly as long.
	let stoppedDuring = false;
	await build.whilePaused(async () => {
		await until(() => procStat(pid)?.[0] === 'T', 'the background build to stop');
		stoppedDuring = true;
		const at = events.at(-1)!.fraction;
		await new Promise(resolve => setTimeout(resolve, 300));
		t.is(events.at(-1)!.fraction, at, 'no progress while paused');
		t.like(events.at(-1), {state: 'paused', note: 'paused while the milestone builds'});
	});
	t.true(stoppedDuring);
	await until(() => procStat(pid)?.[0] !== 'T', 'the build to go on');
	t.is(build.current, 'running');

	// The learner's pause outlives a foreground build.
	build.togglePause();
	t.like(build.lastEvent, {state: 'paused', note: 'paused by you'});
	await build.whilePaused(async () => undefined);
	t.is(build.current, 'paused');
	await until(() => procStat(pid)?.[0] === 'T', 'still stopped');
	build.togglePause();

	await until(() => build.current === 'done', 'the build to finish', 20_000);
	t.like(build.lastEvent, {state: 'done', fraction: 1, label: 'counted'});
});

test('stopping a background build kills its processes, even while paused, and says why', async t => {
	const events: BackgroundEvent[] = [];
	const pids: number[] = [];
	const build = new BackgroundBuild(countingWork(tempDir(t), 1000, pids), event => {
		if (event.type === 'background') events.push(event);
	});
	build.start();
	await until(() => pids.length > 0, 'the build to start');
	build.togglePause();
	await until(() => procStat(pids[0]!)?.[0] === 'T', 'paused');
	await build.stop('moved to the milestone, which builds it now');
	t.is(procStat(pids[0]!)?.[0], undefined, 'the process is gone');
	t.like(build.lastEvent, {state: 'stopped', note: 'moved to the milestone, which builds it now'});
	// A stopped build can start again (the QEMU work tree keeps what was compiled).
	build.start();
	await until(() => pids.length > 1, 'a second start');
	t.is(build.current, 'running', 'not paused: the learner pause ended with the stop');
	await build.stop();
	t.is(procStat(pids[1]!)?.[0], undefined);
});

/**
 * The host's package database as dpkg-query reports it: a dpkg-query first on PATH that says
 * "installed" for exactly the packages listed in its folder's `installed` file.
 */
function fakePackageDatabase(dir: string, installed: string[]): {install: (pkg: string) => void} {
	const list = path.join(dir, 'installed');
	fs.writeFileSync(list, installed.map(pkg => `${pkg}\n`).join(''));
	fs.writeFileSync(
		path.join(dir, 'dpkg-query'),
		[
			'#!/bin/sh',
			'for arg; do',
			'  case "$arg" in -*) continue ;; esac',
			`  grep -qx "$arg" '${list}' && printf '%s\\tii \\t1.0\\n' "$arg"`,
			'done',
			'exit 0',
			'',
		].join('\n'),
		{mode: 0o755},
	);
	return {install: pkg => fs.appendFileSync(list, `${pkg}\n`)};
}

test('the background build waits for a host that lacks a package, and starts once setup has installed it', async t => {
	const dir = tempDir(t);
	const bin = path.join(dir, 'bin');
	fs.mkdirSync(bin);
	const packages = fakePackageDatabase(
		bin,
		baseRequirements.map(r => r.pkg),
	);
	const pathBefore = process.env.PATH;
	process.env.PATH = `${bin}:${pathBefore}`;
	t.teardown(() => {
		process.env.PATH = pathBefore;
	});
	const buildsQemu: Milestone = {
		id: 'builds-qemu',
		title: 'builds QEMU',
		summary: '',
		steps: [],
		builds: ['qemu'],
		packages: [{pkg: 'kc-qemu-build-tool', why: 'the QEMU build runs it'}],
	};
	// A folder that is no QEMU tree: the build, once started, fails at once instead of compiling.
	const qemuSrc = path.join(dir, 'qemu-src');
	fs.mkdirSync(qemuSrc);
	const workbench = new Workbench({
		milestones: [buildsQemu],
		cacheDir: path.join(dir, 'cache'),
		stateFile: path.join(dir, 'progress.json'),
		keepVm: true,
		qemuSrc,
	});
	t.teardown(() => workbench.dispose());
	const events: BackgroundEvent[] = [];
	workbench.subscribe(event => {
		if (event.type === 'background') events.push(event);
	});

	t.deepEqual(workbench.hostNeeds('builds-qemu'), ['kc-qemu-build-tool']);
	workbench.startBackgroundBuilds();
	t.deepEqual(events, [], 'not started: the host lacks a package the build needs');

	// Setup inside the app installs it and comes back.
	packages.install('kc-qemu-build-tool');
	workbench.afterSetup();
	t.deepEqual(workbench.hostNeeds('builds-qemu'), []);
	t.like(events[0], {job: 'qemu', state: 'running'});
	await until(() => events.at(-1)?.state === 'failed', 'the started build to reach the QEMU tree');
	t.regex(events.at(-1)!.note ?? '', /not a QEMU source tree/);

	// Setup again: the build that ran is not started a second time.
	const seen = events.length;
	workbench.afterSetup();
	t.is(events.length, seen);
});
