import type {Milestone} from '../expedition/types.js';

export function statusText(list: Milestone[], verified: string[]): string {
	const done = new Set(verified);
	const next = list.find(milestone => !done.has(milestone.id));
	const lines = list.map((milestone, index) => {
		const mark = done.has(milestone.id) ? '✔' : milestone === next ? '▸' : ' ';
		const note = milestone === next ? ' ← next' : '';
		return `${mark} ${index + 1}. ${milestone.id.padEnd(13)} ${milestone.title}${note}`;
	});
	const count = list.filter(milestone => done.has(milestone.id)).length;
	return [`kernelcraft — ${count} of ${list.length} milestones verified`, '', ...lines, ''].join('\n');
}
