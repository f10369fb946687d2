import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {findExercise} from '../../source/expedition/exercises.js';
import {milestones} from '../../source/expedition/milestones.js';
import {cacheRoot, projectRoot} from '../../source/lab/paths.js';
import type {RunEvent} from '../../source/runner/events.js';
import {Workbench} from '../../source/runner/workbench.js';
import {withOpen} from '../helpers/exercise-copies.js';
import {tempDir} from '../helpers/temp.js';

// A save re-runs the milestone; what the learner had done before it is done for them again, and
// guided mode resumes at the step the save was for. Real workbench, builds, VM and file watcher:
// the learner types into the guest's console and saves their hello.c.

const hello = findExercise('hello')!;

/** Waits until `found` holds, giving up after two minutes without a new event (the run is stuck). */
async function until(events: RunEvent[], found: () => boolean, what: string): Promise<void> {
	let seen = events.length;
	let quietSince = Date.now();
	while (!found()) {
		if (Date.now() - quietSince > 120_000) throw new Error(`no event for 2 minutes while waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, 250));
		if (events.length !== seen) [seen, quietSince] = [events.length, Date.now()];
	}
}

test.serial(
	'after a save, the steps the learner did are done for them, and the run waits at the one the save fixes',
	async t => {
		const dir = tempDir(t);
		const workspace = path.join(dir, 'exercises');
		// The learner's copy: TODO 1 done, TODO 2 (the exit path) still open.
		fs.mkdirSync(path.join(workspace, 'hello'), {recursive: true});
		const copy = path.join(workspace, 'hello', 'hello.c');
		fs.writeFileSync(copy, withOpen(hello, 'hello.c', [2]));
		const workbench = new Workbench({
			milestones,
			cacheDir: cacheRoot(),
			stateFile: path.join(dir, 'progress.json'),
			keepVm: true,
			guided: true,
			exerciseWorkspace: workspace,
			watchExercises: true,
			panel: false,
		});
		t.teardown(() => workbench.dispose());
		const events: RunEvent[] = [];
		workbench.subscribe(event => events.push(event));
		const since = (from: number) => events.slice(from);
		const taskFor =
			(step: string, from = 0) =>
			() =>
				since(from).some(e => e.type === 'task' && e.step === step);

		void workbench.run('hello-module').catch(() => undefined);
		await until(events, taskFor('insmod'), 'the insmod task');
		workbench.sendToConsole('insmod /lib/modules/$(uname -r)/extra/hello.ko whom=Ada times=2\r');
		await until(events, taskFor('sysfs'), 'the sysfs task');
		workbench.sendToConsole('echo 4 > /sys/module/hello/parameters/times\r');
		await until(events, taskFor('rmmod'), 'the rmmod task');
		workbench.sendToConsole('rmmod hello\r');
		await until(
			events,
			() => since(0).some(e => e.type === 'task' && e.step === 'rmmod' && /EBUSY/.test(e.missing ?? '')),
			'rmmod refused',
		);

		// The learner writes the exit path and saves: the milestone runs again.
		const second = events.length;
		fs.copyFileSync(path.join(projectRoot, hello.reference, 'hello.c'), copy);
		await until(events, () => since(second).some(e => e.type === 'milestone-started'), 'the run a save starts');
		const rerun = events.length;
		await until(events, taskFor('rmmod', rerun), 'the rmmod task, after the save');
		const after = since(rerun);
		for (const step of ['insmod', 'sysfs']) {
			t.false(
				after.some(e => e.type === 'task' && e.step === step),
				`${step}: not asked of the learner again`,
			);
			const verified = after.find(e => e.type === 'verified' && e.step === step) as Extract<
				RunEvent,
				{type: 'verified'}
			>;
			t.regex(verified?.detail ?? '', /^done again for you \(you did it before your save\): /, step);
			t.true(verified?.byLearner, `${step} stays the learner's`);
		}
		t.true(
			// "unchanged" when the cache already holds a build of this very text (another test built the
			// reference): the module step still ran on the saved copy.
			// Counted from the save: the module step may be over before the wait for the run's start returns.
			since(second).some(
				e => e.type === 'verified' && e.step === 'module' && /hello\.ko (built|unchanged)/.test(e.detail),
			),
			'the saved copy was built',
		);
		// The step the save was for is the learner's again, and now it passes.
		workbench.sendToConsole('rmmod hello\r');
		await until(events, () => since(rerun).some(e => e.type === 'milestone-finished'), 'the run to end');
		const finished = since(rerun).find(e => e.type === 'milestone-finished') as Extract<
			RunEvent,
			{type: 'milestone-finished'}
		>;
		t.true(finished.summary.ok, JSON.stringify(since(rerun).filter(e => e.type === 'failed')));
		t.true(
			since(rerun).some(
				e => e.type === 'verified' && e.step === 'rmmod' && e.byLearner && !/done again/.test(e.detail),
			),
			'rmmod done by the learner this time',
		);
	},
);
