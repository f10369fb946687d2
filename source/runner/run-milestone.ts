import type {Milestone} from '../expedition/types.js';
import {packageStates, requirementsFor} from '../lab/host/requirements.js';
import {toFailure} from '../lab/lab-error.js';
import type {Emit, MilestoneSummary, StepSummary} from './events.js';
import {withTodoPointer} from './exercise-failure.js';
import type {Session} from './session.js';

/**
 * Runs a milestone's steps in order and turns them into events; the first failure ends the run.
 * The TUI and `run --json` both consume this: there is no second implementation.
 */
export async function runMilestone(
	milestone: Milestone,
	session: Session,
	emit: Emit,
	signal: AbortSignal,
): Promise<MilestoneSummary> {
	emit({
		type: 'milestone-started',
		milestone: milestone.id,
		title: milestone.title,
		steps: milestone.steps.map(step => ({name: step.id, title: step.title})),
	});
	session.runDir(milestone.id);
	const figures: Record<string, unknown> = {};
	const steps: StepSummary[] = [];
	let ok = true;
	const missing = packageStates(requirementsFor(milestone.id)).filter(state => !state.installed);
	if (missing.length > 0) {
		const what = `Missing host packages for ${milestone.id}: ${missing.map(state => state.pkg).join(' ')}.`;
		emit({
			type: 'failed',
			step: milestone.steps[0]?.id ?? 'host',
			failure: {
				what,
				hint: 'Run `npx kernelcraft setup` (apt-get, asks first), then run the milestone again.',
				lastSeen: missing.map(state => `${state.pkg}: ${state.why}`),
			},
			ms: 0,
		});
		const summary: MilestoneSummary = {
			milestone: milestone.id,
			ok: false,
			accel: undefined,
			steps: [{name: 'host', title: 'Host packages', ok: false, ms: 0, detail: what}],
		};
		emit({type: 'milestone-finished', summary});
		return summary;
	}
	for (const step of milestone.steps) {
		emit({type: 'step-started', step: step.id, title: step.title});
		const started = Date.now();
		try {
			if (signal.aborted) throw Object.assign(new Error('Cancelled.'), {name: 'AbortError'});
			const detail = await step.run({emit, signal, session, step: step.id, figures});
			const ms = Date.now() - started;
			steps.push({name: step.id, title: step.title, ok: true, ms, detail});
			emit({type: 'verified', step: step.id, detail, ms});
		} catch (error) {
			const ms = Date.now() - started;
			const failure = withTodoPointer(milestone.id, step.id, toFailure(error), session.options.exerciseDirs);
			if (!(error as {failure?: unknown}).failure && error instanceof Error && error.name !== 'AbortError') {
				emit({type: 'log', step: step.id, line: error.stack ?? String(error)});
			}
			steps.push({name: step.id, title: step.title, ok: false, ms, detail: failure.what});
			emit({type: 'failed', step: step.id, failure, ms});
			ok = false;
			break;
		}
	}
	const summary: MilestoneSummary = {milestone: milestone.id, ok, accel: session.chosenAccel?.accel, steps, ...figures};
	emit({type: 'milestone-finished', summary});
	return summary;
}
