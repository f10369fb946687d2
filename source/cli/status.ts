import type {Milestone} from '../expedition/types.js';
import type {StepProgress} from '../runner/progress-store.js';

/**
 * The checklist as text. Under each milestone, the steps the learner has a record of: done by
 * them or by kernelcraft, hints used, predictions right or wrong, and the time the step took.
 */
export function statusText(
	list: Milestone[],
	verified: string[],
	stepsOf: (milestone: string) => Record<string, StepProgress> = () => ({}),
): string {
	const done = new Set(verified);
	const next = list.find(milestone => !done.has(milestone.id));
	const lines = list.flatMap((milestone, index) => {
		const mark = done.has(milestone.id) ? '✔' : milestone === next ? '▸' : ' ';
		const note = milestone === next ? ' ← next' : '';
		const records = stepsOf(milestone.id);
		const stepLines = milestone.steps
			.filter(step => records[step.id] && (step.task || step.predict || step.hints))
			.map(step => `      ${stepLine(step.title, records[step.id]!)}`);
		return [`${mark} ${index + 1}. ${milestone.id.padEnd(13)} ${milestone.title}${note}`, ...stepLines];
	});
	const count = list.filter(milestone => done.has(milestone.id)).length;
	return [`kernelcraft — ${count} of ${list.length} milestones verified`, '', ...lines, ''].join('\n');
}

function stepLine(title: string, record: StepProgress): string {
	const parts: string[] = [];
	if (record.doneAt) parts.push(record.byLearner ? 'done by you' : 'done by kernelcraft');
	else parts.push('not done');
	if (record.ms !== undefined) parts.push(`${(record.ms / 1000).toFixed(1)} s`);
	if (record.hints) parts.push(`${record.hints} hint${record.hints === 1 ? '' : 's'}`);
	const last = record.predictions?.at(-1);
	if (last)
		parts.push(`predicted ${last.guess}, was ${last.actual}: ${last.guess === last.actual ? 'right' : 'wrong'}`);
	return `${record.doneAt ? '✔' : '·'} ${title}: ${parts.join(', ')}`;
}
