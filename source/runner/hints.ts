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
