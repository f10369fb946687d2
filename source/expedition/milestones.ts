import {bootMilestone} from './boot.js';
import {helloModuleMilestone} from './hello-module.js';
import {virtioBlkMilestone} from './virtio-blk.js';
import {tuneMilestone} from './tune.js';
import {virtioHelloMilestone} from './virtio-hello.js';
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
