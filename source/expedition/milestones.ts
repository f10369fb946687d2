import {bootMilestone} from './boot.js';
import {composeMilestone, composeStep, lessonFileOf, lessons} from './compose.js';
import {helloModuleMilestone} from './hello-module.js';
import {virtioBlkMilestone} from './virtio-blk.js';
import {tuneMilestone} from './tune.js';
import {virtioHelloMilestone} from './virtio-hello.js';
import {walkStep} from './walk-step.js';
import type {Milestone} from './types.js';

/**
 * The expedition, in order: each milestone builds on the ones before it. Each is its code (the
 * steps' runs and checks) and its lesson file (source/expedition/lessons/<id>.md: every text the
 * learner reads), put together here, once, when the program starts: a lesson file that does not
 * match its code stops the program with the file and line.
 */
export const milestones: Milestone[] = [
	composeMilestone(bootMilestone),
	composeMilestone(helloModuleMilestone),
	composeMilestone(virtioBlkMilestone),
	composeMilestone(virtioHelloMilestone, [walkStep.id]),
	composeMilestone(tuneMilestone),
];

/** The --debug walk, with its text from virtio-hello's lesson file. */
export const composedWalkStep = composeStep(walkStep, lessons(lessonFileOf('virtio-hello')));

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
		if (milestone.id !== virtioHelloMilestone.id) return milestone;
		const at = milestone.steps.findIndex(step => step.id === 'greet') + 1;
		return {...milestone, steps: [...milestone.steps.slice(0, at), composedWalkStep, ...milestone.steps.slice(at)]};
	});
}
