import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {findExercise} from '../../source/expedition/exercises.js';
import {hasExitFunction} from '../../source/expedition/hello-module.js';
import {projectRoot} from '../../source/lab/paths.js';
import {guidedRun, taskAsked, type GuidedRun} from '../helpers/guided-run.js';
import {exerciseCopy, withOpen} from '../helpers/exercise-copies.js';
import {waitUntil} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

// Guided hello-module with a learner's copy that is wrong in one way: the learner types the
// commands into the guest's console, and the task the wrong code breaks must say why, at the TODO,
// instead of the same "not loaded yet" for as long as they try. Real kernel, module and VM.

const hello = findExercise('hello')!;

function guided(t: ExecutionContext, helloC: string): GuidedRun {
	const dir = exerciseCopy(hello, path.join(tempDir(t), 'hello'), {'hello.c': helloC});
	return guidedRun(t, 'hello-module', {hello: dir});
}

test.serial('guided rmmod of a module without module_exit says the kernel refuses it (EBUSY), at TODO 2', async t => {
	const run = guided(t, withOpen(hello, 'hello.c', [2]));
	await taskAsked(t, run, 'insmod');
	t.false(hasExitFunction(run.session.modules.hello), 'the built hello.ko has no cleanup_module');
	run.type('insmod /lib/modules/$(uname -r)/extra/hello.ko whom=Ada times=2');
	await taskAsked(t, run, 'sysfs');
	run.type('echo 4 > /sys/module/hello/parameters/times');
	await taskAsked(t, run, 'rmmod');
	run.type('rmmod hello');
	t.true(await waitUntil(() => /EBUSY/.test(run.missing('rmmod') ?? ''), 60_000), run.missing('rmmod'));
	const said = run.missing('rmmod')!;
	const line =
		fs
			.readFileSync(path.join(run.session.options.exerciseDirs!.hello!, 'hello.c'), 'utf8')
			.split('\n')
			.findIndex(text => text.includes('TODO 2:')) + 1;
	t.regex(said, new RegExp(`hello\\.c:${line}: TODO 2: hello\\.ko has no exit function`));
	t.false(
		run.events.some(e => e.type === 'verified' && e.step === 'rmmod'),
		'never ticks',
	);
});

test.serial(
	'guided insmod of a module whose parameter has permission 0: loaded, and the missing file named',
	async t => {
		const run = guided(
			t,
			fs
				.readFileSync(path.join(projectRoot, hello.reference, 'hello.c'), 'utf8')
				.replace('module_param(times, int, 0644)', 'module_param(times, int, 0)'),
		);
		await taskAsked(t, run, 'insmod');
		t.true(hasExitFunction(run.session.modules.hello), 'the reference exit path is there');
		run.type('insmod /lib/modules/$(uname -r)/extra/hello.ko whom=Ada times=2');
		t.true(await waitUntil(() => /permission 0/.test(run.missing('insmod') ?? ''), 60_000), run.missing('insmod'));
		t.regex(run.missing('insmod')!, /TODO 1: hello is loaded, but \/sys\/module\/hello\/parameters has no times/);
		t.notRegex(run.missing('insmod')!, /not loaded/);
	},
);
