import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {todoSolution} from '../../source/expedition/exercise-solution.js';
import {exercises, findExercise} from '../../source/expedition/exercises.js';
import {milestones} from '../../source/expedition/milestones.js';
import type {Milestone} from '../../source/expedition/types.js';
import {LabError} from '../../source/lab/lab-error.js';
import {Workbench} from '../../source/runner/workbench.js';
import {nextHint, stepForHint} from '../../source/runner/hints.js';
import {ProgressStore} from '../../source/runner/progress-store.js';
import {startCli} from '../helpers/cli.js';
import {tempDir} from '../helpers/temp.js';

const hello = milestones.find(m => m.id === 'hello-module')!;

test('every step with hints has one to three of them and a solution; every task and prediction has hints', t => {
	for (const milestone of milestones)
		for (const step of milestone.steps) {
			const where = `${milestone.id} › ${step.id}`;
			if (step.hints) {
				t.true(step.hints.length >= 1 && step.hints.length <= 3, `${where}: ${step.hints.length} hints`);
				t.truthy(step.solution, `${where} has a solution`);
			}
			if (step.task || step.predict) t.truthy(step.hints?.length, `${where} has hints`);
		}
});

test('hints come one per call, then the solution, which repeats; the count is kept on disk', async t => {
	const file = path.join(tempDir(t), 'progress.json');
	const store = new ProgressStore(file);
	const step = stepForHint(hello, store)!;
	t.is(step.id, 'insmod', "the milestone's first step with hints");
	const shown = [];
	for (let i = 0; i < 5; i++) shown.push((await nextHint(store, hello, step))!);
	t.deepEqual(
		shown.map(({index, solution}) => [index, solution]),
		[
			[1, false],
			[2, false],
			[3, false],
			[4, true],
			[4, true],
		],
	);
	t.is(shown[0]!.text, step.hints![0]!);
	t.is(shown[4]!.text, step.solution!);
	t.is(new ProgressStore(file).steps('hello-module').insmod?.hints, 4);
});

test('kernelcraft hint, status and reset work on the same progress file', async t => {
	const file = path.join(tempDir(t), 'progress.json');
	const env = {KERNELCRAFT_STATE: file};
	const first = startCli(['hint', 'hello-module'], env, t);
	t.is(await first.waitForExit(20_000), 0);
	t.regex(first.lines.join('\n'), /hello-module › Load it with a parameter — hint 1 of 3:\n {2}insmod takes/);
	const second = startCli(['hint', 'hello-module'], env, t);
	await second.waitForExit(20_000);
	t.regex(second.lines.join('\n'), /hint 2 of 3/);

	const status = startCli(['status'], env, t);
	await status.waitForExit(20_000);
	t.regex(status.lines.join('\n'), /· Load it with a parameter: not done, 2 hints/);

	const reset = startCli(['reset', 'hello-module'], env, t);
	t.is(await reset.waitForExit(20_000), 0);
	t.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).steps, {});

	const unknown = startCli(['hint', 'no-such'], env, t);
	t.is(await unknown.waitForExit(20_000), 2);
	t.regex(unknown.stderr.join(''), /There is no milestone "no-such"\. The milestones: boot, hello-module/);
});

test('after a run fails at an exercise TODO, h and `kernelcraft hint` give that TODO hints, each more direct, then the reference code', async t => {
	const dir = tempDir(t);
	const stateFile = path.join(dir, 'progress.json');
	// hello-module's modinfo step as the skeleton fails it: TODO 1 (module_param) still open.
	const failsAtModinfo: Milestone = {
		id: 'hello-module',
		title: 'Your first kernel module',
		summary: '',
		steps: [
			{
				id: 'modinfo',
				title: "Read the module's label",
				lesson: '',
				async run() {
					throw new LabError({what: 'modinfo lists no parameter times.'});
				},
			},
		],
	};
	const workbench = new Workbench({
		milestones: [failsAtModinfo],
		cacheDir: path.join(dir, 'cache'),
		stateFile,
		keepVm: false,
		exerciseWorkspace: path.join(dir, 'ws'),
	});
	const summary = await workbench.run('hello-module');
	t.false(summary.ok);
	t.regex(summary.steps[0]!.detail!, /hello\.c:\d+: TODO 1: modinfo lists no parameter times/);
	const todo = findExercise('hello')!.todos[0]!;
	const first = await workbench.hint('hello-module');
	t.is(first?.text, todo.hints[0]);
	t.is(first?.stepTitle, 'hello.c: a module parameter and the exit path, TODO 1');
	await workbench.dispose();
	// The same count in another process, as a learner in a second terminal would ask.
	const texts: string[] = [];
	for (let i = 0; i < 3; i++) {
		const cli = startCli(['hint', 'hello-module'], {KERNELCRAFT_STATE: stateFile}, t);
		t.is(await cli.waitForExit(20_000), 0);
		texts.push(cli.lines.join('\n'));
	}
	t.regex(texts[0]!, /TODO 1 — hint 2 of 3:\n {2}module_param\(name, type, perm\)/);
	t.regex(texts[1]!, /TODO 1 — hint 3 of 3:\n {2}declare `times` as a module parameter/);
	t.regex(
		texts[2]!,
		/TODO 1 — solution:\n {2}the reference's code \(drivers\/hello\/hello\.c\):\n(.|\n)*module_param\(times, int, 0644\);/,
	);
});

test('every exercise TODO has hints before its own text, and its solution is the reference code', t => {
	for (const exercise of exercises)
		for (const todo of exercise.todos) {
			const where = `${exercise.id} TODO ${todo.n}`;
			t.true(todo.hints.length >= 2, `${where}: ${todo.hints.length} hints`);
			t.is(todo.hints.at(-1), todo.text, `${where}: the last hint is the TODO's own text`);
			t.true(todoSolution(exercise, todo.n).code.trim().length > 0, `${where}: a solution`);
		}
});
