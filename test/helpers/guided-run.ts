import type {ExecutionContext} from 'ava';
import {findMilestone} from '../../source/expedition/milestones.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {Session} from '../../source/lab/session.js';
import type {RunEvent} from '../../source/runner/events.js';
import {Guide} from '../../source/runner/guide.js';
import {runMilestone} from '../../source/runner/run-milestone.js';

// A guided run driven as a learner drives it: the runner waits on each task's check while the
// test types into the guest's serial console. Real kernel, builds and VM, through the cache.

export interface GuidedRun {
	events: RunEvent[];
	session: Session;
	/** Types a line into the guest's console, as the learner does. */
	type(line: string): void;
	/** The last "still missing" the task `step` said. */
	missing(step: string): string | undefined;
	/** The step's failure, if it failed. */
	failure(step: string): Extract<RunEvent, {type: 'failed'}> | undefined;
}

export function guidedRun(t: ExecutionContext, milestone: string, exerciseDirs: Record<string, string>): GuidedRun {
	const events: RunEvent[] = [];
	const session = new Session({cacheDir: cacheRoot(), exerciseDirs, panel: milestone !== 'hello-module'}, event =>
		events.push(event as RunEvent),
	);
	const abort = new AbortController();
	const run = runMilestone(
		findMilestone(milestone)!,
		session,
		event => events.push(event),
		abort.signal,
		new Guide('guided'),
	);
	t.teardown(async () => {
		abort.abort();
		await run.catch(() => undefined);
		await session.dispose();
	});
	return {
		events,
		session,
		type: line => session.vm!.console.type(`${line}\r`),
		missing: step =>
			(events.filter(e => e.type === 'task' && e.step === step).at(-1) as {missing?: string} | undefined)?.missing,
		failure: step =>
			events.find(e => e.type === 'failed' && e.step === step) as Extract<RunEvent, {type: 'failed'}> | undefined,
	};
}

/**
 * Waits for the guided task `step` to be asked (every step before it ran and passed). The wait
 * follows the run: it gives up only after two minutes without a new event (a build logs each
 * file, a boot each line), never at a fixed total.
 */
export async function taskAsked(t: ExecutionContext, run: GuidedRun, step: string): Promise<void> {
	let seen = run.events.length;
	let quietSince = Date.now();
	const asked = () => run.events.some(e => e.type === 'task' && e.step === step);
	while (!asked() && !run.events.some(e => e.type === 'failed') && Date.now() - quietSince < 120_000) {
		await new Promise(resolve => setTimeout(resolve, 250));
		if (run.events.length !== seen) [seen, quietSince] = [run.events.length, Date.now()];
	}
	const failed = run.events.find(e => e.type === 'failed');
	t.true(asked(), `task ${step} asked; ${failed ? JSON.stringify(failed) : 'no event for 2 minutes'}`);
}

/** Waits, as taskAsked does, until `step` is verified or the run fails; says which. */
export async function stepEnds(run: GuidedRun, step: string): Promise<'verified' | 'failed' | 'quiet'> {
	let seen = run.events.length;
	let quietSince = Date.now();
	for (;;) {
		if (run.events.some(e => e.type === 'verified' && e.step === step)) return 'verified';
		if (run.events.some(e => e.type === 'failed')) return 'failed';
		if (Date.now() - quietSince > 120_000) return 'quiet';
		await new Promise(resolve => setTimeout(resolve, 250));
		if (run.events.length !== seen) [seen, quietSince] = [run.events.length, Date.now()];
	}
}
