import type {StepProgress} from '../runner/progress-store.js';

/**
 * One step of a milestone's overview, with what the learner did in it: who did it, how long it
 * took, hints used, the last prediction. The same facts `kernelcraft status` prints.
 */
export function stepOverviewLine(index: number, title: string, record: StepProgress | undefined): string {
	const mark = record?.doneAt ? '✔' : '·';
	const notes: string[] = [];
	if (record?.doneAt && record.byLearner) notes.push('by you');
	if (record?.hints) notes.push(`${record.hints} hint${record.hints === 1 ? '' : 's'}`);
	const last = record?.predictions?.at(-1);
	if (last) notes.push(`predicted ${last.guess}, was ${last.actual}`);
	// The number first: the lesson pane renders "1. …" lines as a list.
	return `${index + 1}. ${mark} ${title}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
}
