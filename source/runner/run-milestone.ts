import {withTodoPointer} from '../expedition/exercise-failure.js';
import type {Milestone, Step, StepContext} from '../expedition/types.js';
import type {GuestDebugger} from '../lab/debug/guest-debugger.js';
import {packageStates, requirementsFor} from '../lab/host/requirements.js';
import {toFailure, type Failure} from '../lab/lab-error.js';
import type {Session} from '../lab/session.js';
import type {Emit, MilestoneSummary, StepSummary} from './events.js';
import type {Guide} from './guide.js';

/** How often a guided step's check looks at the system while the learner works. */
const taskCheckEveryMs = 700;

/** A step's context as the runner holds it: its emit also takes the runner's own events. */
interface RunContext extends StepContext {
	emit: Emit;
}

/**
 * One step. With a guide in guided mode, the learner first predicts (if the step asks), then does
 * the step themselves (if it is a task) while its check watches the system; `d` hands the step,
 * and the rest, back to `run`. Without a guide every step runs itself, as in `kernelcraft run`.
 */
async function runStep(step: Step, ctx: RunContext, guide?: Guide): Promise<{detail: string; byLearner: boolean}> {
	const guided = ctx.guided ?? (() => false);
	let guess: number | undefined;
	if (step.predict && guided()) {
		ctx.emit({type: 'prediction-asked', step: step.id, question: step.predict.question, unit: step.predict.unit});
		guess = await guide!.prediction(step.id, ctx.signal);
	}
	let detail: string | undefined;
	let byLearner = false;
	if (step.task && guided()) {
		await step.task.prepare?.(ctx);
		detail = await waitForTask(step, ctx, guide!);
		byLearner = detail !== undefined;
		if (detail !== undefined && step.task.then) detail = await step.task.then(ctx, detail);
	}
	detail ??= await step.run(ctx);
	if (step.predict && guess !== undefined) {
		const actual = step.predict.actual(ctx.figures);
		if (actual !== undefined)
			ctx.emit({
				type: 'prediction-result',
				step: step.id,
				guess,
				actual,
				unit: step.predict.unit,
				why: step.predict.why,
			});
	}
	return {detail, byLearner};
}

/**
 * Watches the system until the task's check says done; undefined when the learner hands the step
 * over (demo). Says what is still missing each time that changes.
 */
async function waitForTask(step: Step, ctx: RunContext, guide: Guide): Promise<string | undefined> {
	const task = step.task!;
	let said: string | undefined;
	ctx.emit({type: 'task', step: step.id, ask: task.ask});
	for (;;) {
		// A guest held stopped by gdb cannot be checked (a check would wait on it, or on a stopped
		// QEMU): look again once it runs. The learner is debugging, not failing the task.
		if (ctx.session.vm?.pause.paused && !task.hostOnly) {
			if (await guide.pause(taskCheckEveryMs, ctx.signal)) return undefined;
			continue;
		}
		const state = await task.check({...ctx, quietChecks: true});
		if (state.done) return state.detail;
		if (state.missing !== said) {
			said = state.missing;
			ctx.emit({type: 'task', step: step.id, ask: task.ask, missing: state.missing});
		}
		if (await guide.pause(taskCheckEveryMs, ctx.signal)) return undefined;
	}
}

/**
 * Runs a milestone's steps in order and turns them into events; the first failure ends the run.
 * The TUI and `run --json` both consume this: there is no second implementation. `debuggerPane`:
 * the TUI's gdb pane, handed to the steps that use gdb (headless runs have none).
 */
export async function runMilestone(
	milestone: Milestone,
	session: Session,
	emit: Emit,
	signal: AbortSignal,
	guide?: Guide,
	debuggerPane?: GuestDebugger,
): Promise<MilestoneSummary> {
	emit({
		type: 'milestone-started',
		milestone: milestone.id,
		title: milestone.title,
		steps: milestone.steps.map(step => ({name: step.id, title: step.title})),
	});
	const figures: Record<string, unknown> = {};
	const steps: StepSummary[] = [];
	let ok = true;
	let missing: ReturnType<typeof packageStates>;
	try {
		session.startRun(milestone.id);
		missing = packageStates(requirementsFor(milestone)).filter(state => !state.installed);
	} catch (error) {
		// The run folder could not be made (a full disk, a cache not ours): the milestone that was
		// said to start is said to end, with why.
		return endedBeforeSteps(milestone, emit, {name: 'set-up', title: 'Set up the run'}, toFailure(error));
	}
	if (missing.length > 0) {
		const what = `Missing host packages for ${milestone.id}: ${missing.map(state => state.pkg).join(' ')}.`;
		return endedBeforeSteps(
			milestone,
			emit,
			{name: 'host', title: 'Host packages'},
			{
				what,
				hint: 'Run `npx kernelcraft setup` (apt-get, asks first), then run the milestone again.',
				lastSeen: missing.map(state => `${state.pkg}: ${state.why}`),
			},
		);
	}
	for (const step of milestone.steps) {
		emit({type: 'step-started', step: step.id, title: step.title});
		const started = Date.now();
		try {
			if (signal.aborted) throw Object.assign(new Error('Cancelled.'), {name: 'AbortError'});
			// The learner does the step unless the run was handed over (d), or they did it before the
			// save that started this run: asked anew at each use.
			const guided = () => guide?.learnerDoes(step.id) ?? false;
			const ctx: RunContext = {emit, signal, session, step: step.id, figures, guided, debugger: debuggerPane};
			const {detail: proof, byLearner} = await runStep(step, ctx, guide);
			// A step done again for the learner stays theirs: they did it, before the save.
			const replayed = guide?.replays(step.id) ?? false;
			const detail = replayed ? `done again for you (you did it before your save): ${proof}` : proof;
			const ms = Date.now() - started;
			steps.push({name: step.id, title: step.title, ok: true, ms, detail});
			emit({type: 'verified', step: step.id, detail, ms, ...(byLearner || replayed ? {byLearner: true} : {})});
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

/** A run that ended before its first step: the failure, then the milestone's end, as events. */
function endedBeforeSteps(
	milestone: Milestone,
	emit: Emit,
	what: {name: string; title: string},
	failure: Failure,
): MilestoneSummary {
	emit({type: 'failed', step: milestone.steps[0]?.id ?? what.name, failure, ms: 0});
	const summary: MilestoneSummary = {
		milestone: milestone.id,
		ok: false,
		accel: undefined,
		steps: [{name: what.name, title: what.title, ok: false, ms: 0, detail: failure.what}],
	};
	emit({type: 'milestone-finished', summary});
	return summary;
}
