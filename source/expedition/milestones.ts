import {bootMilestone} from './boot.js';
import {helloModuleMilestone} from './hello-module.js';
import {virtioBlkMilestone} from './virtio-blk.js';
import {tuneMilestone} from './tune.js';
import {virtioHelloMilestone} from './virtio-hello.js';
import {walkStep} from './walk-step.js';
import type {Milestone} from './types.js';

/** The expedition, in order: each milestone builds on the ones before it. */
export const milestones: Milestone[] = [
	bootMilestone,
	helloModuleMilestone,
	virtioBlkMilestone,
	virtioHelloMilestone,
	tuneMilestone,
];

export function findMilestone(id: string): Milestone | undefined {
	return milestones.find(milestone => milestone.id === id);
}

/**
 * The expedition as a run sees it. With --debug the virtio-hello milestone follows one request
 * with gdb after its greeting (the gdb kernel and a QEMU with -g are what that run boots).
 */
export function expeditionFor(options: {debug?: boolean}): Milestone[] {
	if (!options.debug) return milestones;
	return milestones.map(milestone => {
		if (milestone !== virtioHelloMilestone) return milestone;
		const at = milestone.steps.findIndex(step => step.id === 'greet') + 1;
		return {...milestone, steps: [...milestone.steps.slice(0, at), walkStep, ...milestone.steps.slice(at)]};
	});
}
