import type {ProgressStore} from '../runner/progress-store.js';
import {milestoneOrUsage} from './hint.js';

/** `kernelcraft reset <milestone>`: the milestone starts over (the cache and the builds stay). */
export async function resetCommand(store: ProgressStore, id: string, out: NodeJS.WritableStream): Promise<number> {
	const milestone = milestoneOrUsage(id, 'reset');
	await store.reset(milestone.id);
	out.write(`${milestone.id}: started over (its tick, steps, hints and predictions are gone).\n`);
	return 0;
}
