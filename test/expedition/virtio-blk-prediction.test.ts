import test from 'ava';
import {findMilestone} from '../../source/expedition/milestones.js';
import type {Milestone} from '../../source/expedition/types.js';
import type {Session} from '../../source/lab/session.js';
import type {RunEvent} from '../../source/runner/events.js';
import {Guide} from '../../source/runner/guide.js';
import {runMilestone} from '../../source/runner/run-milestone.js';

/**
 * A session standing in for the booted guest and QEMU's virtqueue panel: the guest's dd succeeds,
 * and the panel's samples move virtio-blk's used index by `requests` between the first and the
 * second.
 */
function stubSession(requests: number): Session {
	let samples = 0;
	const queue = (usedIdx: number, kicks: number) => ({usedIdx, totals: {requests: usedIdx, kicks, interrupts: kicks}});
	return {
		options: {},
		startRun: () => '',
		panel: {
			countKicks: <T>(work: () => Promise<T>) => work(),
			sampleNow: async () => [
				{name: 'virtio-blk', queues: [samples++ === 0 ? queue(100, 10) : queue(100 + requests, 10 + requests)]},
			],
		},
		vm: {running: true, pause: {paused: false}, checks: {run: async () => ({output: '', status: 0})}},
	} as unknown as Session;
}

test("a virtio-blk prediction step's log line does not name the read count as the learner's prediction", async t => {
	const step = findMilestone('virtio-blk')!.steps.find(s => s.id === 'predict-small')!;
	t.truthy(step.predict, 'the step asks for a prediction');
	const milestone: Milestone = {id: 'virtio-blk', title: 'virtio-blk', summary: '', steps: [step]};
	const guide = new Guide('guided');
	const events: RunEvent[] = [];
	const summary = await runMilestone(
		milestone,
		stubSession(32),
		event => {
			events.push(event);
			// The learner answers 1 (one request for the whole dd), once the question is up.
			if (event.type === 'prediction-asked') setImmediate(() => guide.answer(1));
		},
		new AbortController().signal,
		guide,
	);
	t.true(summary.ok, JSON.stringify(events.filter(event => event.type === 'failed')));
	t.like(
		events.find(event => event.type === 'prediction-result'),
		{guess: 1, actual: 32},
	);
	const verified = events.find(event => event.type === 'verified');
	if (verified?.type !== 'verified') return t.fail('the step was not verified');
	t.regex(verified.detail, /used index \+32/);
	// The learner said 1; the step log must not say they predicted 32.
	t.notRegex(verified.detail, /predicted 32/);
});
