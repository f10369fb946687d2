import {lessonFileOf, lessons} from '../../source/expedition/compose.js';
import {factsOf} from '../../source/expedition/lesson-facts.js';
import {findMilestone} from '../../source/expedition/milestones.js';
import type {PciIdentity} from '../../source/expedition/pci-identity.js';

/** Every vendor:device pair a milestone's texts state (lessons, hints, predictions, named texts). */
export function lessonPciIds(milestone: string): string[] {
	const found = findMilestone(milestone)!;
	const texts = found.steps.flatMap(step => [
		step.lesson,
		step.task?.ask ?? '',
		step.predict?.question ?? '',
		step.predict?.why ?? '',
		...(step.hints ?? []),
		step.solution ?? '',
	]);
	for (const {text} of lessons(lessonFileOf(milestone)).texts.values()) texts.push(text);
	return [
		...new Set(
			texts.flatMap(text =>
				factsOf(text).flatMap(fact => (fact.kind === 'pci-id' ? [`${fact.vendor}:${fact.device}`] : [])),
			),
		),
	];
}

/** The pairs the guest's sysfs showed: the function's own IDs and its subsystem's. */
export const pciPairs = (pci: PciIdentity) => [
	`${pci.vendor}:${pci.device}`,
	`${pci.subsystemVendor}:${pci.subsystemDevice}`,
];
