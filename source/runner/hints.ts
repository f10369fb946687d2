import {todoSolution} from '../expedition/exercise-solution.js';
import {findExercise, type Exercise, type ExerciseTodo} from '../expedition/exercises.js';
import type {Milestone, Step} from '../expedition/types.js';
import type {ProgressStore} from './progress-store.js';

export interface HintShown {
	milestone: string;
	step: string;
	stepTitle: string;
	/** 1-based; `of` counts the hints and the solution. */
	index: number;
	of: number;
	text: string;
	solution: boolean;
}

/** How many hints a step can give, its solution included. */
export function hintCount(step: Step): number {
	return (step.hints?.length ?? 0) + (step.solution ? 1 : 0);
}

/**
 * The step a hint is for: the one running (the TUI knows it), else the first step of the
 * milestone that has hints and that the learner has not done with their own hands yet.
 */
export function stepForHint(milestone: Milestone, store: ProgressStore, running?: string): Step | undefined {
	if (running) return milestone.steps.find(step => step.id === running);
	const records = store.steps(milestone.id);
	return milestone.steps.find(step => hintCount(step) > 0 && !records[step.id]?.byLearner);
}

/**
 * The step's next hint, each press one more (hints first, then the solution, which repeats), and
 * the count kept in the progress file. Undefined when the step has no hints at all.
 */
export async function nextHint(store: ProgressStore, milestone: Milestone, step: Step): Promise<HintShown | undefined> {
	const of = hintCount(step);
	if (of === 0) return undefined;
	const record = await store.updateStep(milestone.id, step.id, record => ({
		...record,
		hints: Math.min((record.hints ?? 0) + 1, of),
	}));
	const index = record.hints!;
	const hints = step.hints ?? [];
	const solution = index > hints.length;
	return {
		milestone: milestone.id,
		step: step.id,
		stepTitle: step.title,
		index,
		of,
		text: solution ? step.solution! : hints[index - 1]!,
		solution,
	};
}

/**
 * The next hint the learner asked for, in the TUI (`h`) or with `kernelcraft hint`: a task that is
 * running gives its own; else, after a run that failed at an exercise TODO, that TODO's hints
 * (the lesson's, then its text, then the reference's code); else the step's (stepForHint).
 */
export async function hintFor(
	store: ProgressStore,
	milestone: Milestone,
	running?: string,
): Promise<HintShown | undefined> {
	const step = stepForHint(milestone, store, running);
	const taskWithHints = running !== undefined && step !== undefined && hintCount(step) > 0;
	const [failedStep, failed] = Object.entries(store.steps(milestone.id)).find(([, record]) => record.todo) ?? [];
	const exercise = failed?.todo && findExercise(failed.todo.exercise);
	const todo = exercise?.todos.find(candidate => candidate.n === failed!.todo!.n);
	if (!taskWithHints && exercise && todo) return nextTodoHint(store, milestone, failedStep!, exercise, todo);
	return step ? nextHint(store, milestone, step) : undefined;
}

/**
 * A TODO's next hint, counted in the progress file under the TODO's own name; shown as the hint of
 * `failedStep`, the step that failed at it.
 */
async function nextTodoHint(
	store: ProgressStore,
	milestone: Milestone,
	failedStep: string,
	exercise: Exercise,
	todo: ExerciseTodo,
): Promise<HintShown> {
	const key = `exercise-${exercise.id}-todo-${todo.n}`;
	const of = todo.hints.length + 1;
	const record = await store.updateStep(milestone.id, key, record => ({
		...record,
		hints: Math.min((record.hints ?? 0) + 1, of),
	}));
	const index = record.hints!;
	const solution = index > todo.hints.length;
	const answer = solution ? todoSolution(exercise, todo.n) : undefined;
	return {
		milestone: milestone.id,
		step: failedStep,
		stepTitle: `${exercise.title}, TODO ${todo.n}`,
		index,
		of,
		text: answer ? `the reference's code (${answer.file}):\n${answer.code}` : todo.hints[index - 1]!,
		solution,
	};
}
