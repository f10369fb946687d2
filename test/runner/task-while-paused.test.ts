import test from 'ava';
import type {Milestone} from '../../source/expedition/types.js';
import {GuestPause} from '../../source/lab/vm/guest-pause.js';
import {Guide} from '../../source/runner/guide.js';
import {runMilestone} from '../../source/runner/run-milestone.js';
import type {Session} from '../../source/lab/session.js';
import {tempDir} from '../helpers/temp.js';

test('a task check does not look at a guest gdb holds stopped, and the step ends once it runs', async t => {
	const pause = new GuestPause();
	const dir = tempDir(t);
	// Only what runMilestone touches of a session: its run folder and its VM's pause.
	const session = {
		vm: {pause},
		options: {},
		startRun: () => dir,
		chosenAccel: undefined,
	} as unknown as Session;
	let checks = 0;
	let checksWhilePaused = 0;
	const milestone: Milestone = {
		id: 'paused-task',
		title: 'A task watched while paused',
		summary: '',
		steps: [
			{
				id: 'greet',
				title: 'greet',
				lesson: '',
				run: async () => 'demo',
				task: {
					ask: 'greet the device',
					async check() {
						checks++;
						if (pause.paused) checksWhilePaused++;
						return checks >= 2 ? {done: true, detail: 'greeted'} : {done: false, missing: 'not yet'};
					},
				},
			},
		],
	};
	pause.set(true);
	const run = runMilestone(milestone, session, () => {}, new AbortController().signal, new Guide('guided'));
	await new Promise(resolve => setTimeout(resolve, 2000));
	t.is(checks, 0, 'no check while gdb holds the guest');
	pause.set(false);
	const summary = await run;
	t.true(summary.ok);
	t.is(checksWhilePaused, 0);
	t.is(summary.steps[0]?.detail, 'greeted');
});
