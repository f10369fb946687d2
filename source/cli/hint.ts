import {findMilestone, milestones} from '../expedition/milestones.js';
import {hintFor} from '../runner/hints.js';
import type {ProgressStore} from '../runner/progress-store.js';
import {UsageError} from './args.js';

/** The milestone named on the command line, or a usage error that lists them. */
export function milestoneOrUsage(id: string, command: string) {
	const milestone = findMilestone(id);
	if (!milestone)
		throw new UsageError(
			`There is no milestone "${id}". The milestones: ${milestones.map(m => m.id).join(', ')}.`,
			command,
		);
	return milestone;
}

/** `kernelcraft hint [milestone]`: the same hints as `h` in the screen, counted the same way. */
export async function hintCommand(
	store: ProgressStore,
	id: string | undefined,
	out: NodeJS.WritableStream,
): Promise<number> {
	const verified = new Set(store.verified());
	const milestone = id
		? milestoneOrUsage(id, 'hint')
		: (milestones.find(m => !verified.has(m.id)) ?? milestones.at(-1)!);
	const shown = await hintFor(store, milestone);
	if (!shown) {
		out.write(
			`${milestone.id}: you have done every step that has hints. \`kernelcraft reset ${milestone.id}\` starts it over.\n`,
		);
		return 0;
	}
	const label = shown.solution ? 'solution' : `hint ${shown.index} of ${shown.of - 1}`;
	out.write(`${milestone.id} › ${shown.stepTitle} — ${label}:\n  ${shown.text.split('\n').join('\n  ')}\n`);
	return 0;
}
