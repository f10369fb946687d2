import path from 'node:path';
import {projectRoot} from '../lab/paths.js';
import {ContentError, readLessons, type LessonFile, type StepText} from './lesson-content.js';
import type {Milestone, MilestoneLogic, Step, StepLogic} from './types.js';

/** Where the lesson files live: read from the repository, never compiled into dist/. */
export const lessonsDir = path.join(projectRoot, 'source', 'expedition', 'lessons');
/** Steps several milestones share (kernel, rootfs, boot, …) are written once, here. */
export const sharedLessonsFile = path.join(lessonsDir, 'shared.md');

const loaded = new Map<string, LessonFile>();

/** A lesson file, read once per process. */
export function lessons(file: string): LessonFile {
	let parsed = loaded.get(file);
	if (!parsed) {
		parsed = readLessons(file);
		loaded.set(file, parsed);
	}
	return parsed;
}

export const lessonFileOf = (milestone: string) => path.join(lessonsDir, `${milestone}.md`);

/** The text of one step: the milestone's own section, else the shared one, `more` added. */
function textOf(id: string, own: LessonFile, shared: LessonFile): {text: StepText; file: string} {
	const mine = own.steps.get(id);
	const common = shared.steps.get(id);
	if (!mine && !common)
		throw new ContentError(
			own.file,
			1,
			`the milestone has a step "${id}" and no "# ${id}: <title>" section here or in ${path.basename(shared.file)}`,
		);
	if (!mine) return {text: common!, file: shared.file};
	if (mine.lesson !== undefined || !common) {
		if (mine.more !== undefined && mine.lesson !== undefined)
			throw new ContentError(
				own.file,
				mine.lines.more!,
				`step "${id}" has its own lesson: "## more" adds to a shared one`,
			);
		return {text: mine, file: own.file};
	}
	const lesson = [common.lesson, mine.more].filter(Boolean).join('\n');
	return {text: {...common, ...stripUndefined(mine), lesson}, file: own.file};
}

function stripUndefined<T extends object>(value: T): Partial<T> {
	return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A step's logic and its text, checked against each other: a text without code or code without text is an error. */
export function composeStep(logic: StepLogic, own: LessonFile, shared: LessonFile = lessons(sharedLessonsFile)): Step {
	const {text, file} = textOf(logic.id, own, shared);
	const fail = (line: number | undefined, message: string) => new ContentError(file, line ?? text.line, message);
	if (!text.lesson) throw fail(text.line, `step "${logic.id}" has no "## lesson"`);
	if (logic.task && !text.task)
		throw fail(text.line, `step "${logic.id}" is one the learner does: it needs a "## task"`);
	if (!logic.task && text.task)
		throw fail(text.lines.task, `step "${logic.id}" checks no task of the learner's: drop its "## task"`);
	const predictionFields = (['question', 'unit', 'why'] as const).filter(field => text[field] !== undefined);
	if (logic.predict && predictionFields.length < 3)
		throw fail(text.line, `step "${logic.id}" asks for a prediction: it needs "## question", "## unit" and "## why"`);
	if (!logic.predict && predictionFields.length > 0)
		throw fail(
			text.lines[predictionFields[0]!],
			`step "${logic.id}" asks for no prediction: drop its "## ${predictionFields[0]}"`,
		);
	if ((text.hints?.length ?? 0) > 3) throw fail(text.lines.hints, `step "${logic.id}" has more than three hints`);
	const step: Step = {...logic, title: text.title, lesson: text.lesson} as Step;
	if (text.hints) step.hints = text.hints;
	if (text.solution) step.solution = text.solution;
	if (logic.task) step.task = {...logic.task, ask: text.task!};
	if (logic.predict) step.predict = {...logic.predict, question: text.question!, unit: text.unit!, why: text.why!};
	return step;
}

/**
 * A milestone's logic with its lesson file (source/expedition/lessons/<id>.md). `extraSteps`
 * names steps written in that file that only some runs add (the --debug walk).
 */
export function composeMilestone(
	logic: MilestoneLogic,
	extraSteps: string[] = [],
	own: LessonFile = lessons(lessonFileOf(logic.id)),
	shared: LessonFile = lessons(sharedLessonsFile),
): Milestone {
	if (!own.title) throw new ContentError(own.file, 1, 'the front matter needs "title: …"');
	if (!own.summary) throw new ContentError(own.file, 1, 'the front matter needs "summary: …"');
	const ids = new Set([...logic.steps.map(step => step.id), ...extraSteps]);
	for (const section of own.steps.values())
		if (!ids.has(section.id))
			throw new ContentError(own.file, section.line, `milestone "${logic.id}" has no step "${section.id}"`);
	const steps = logic.steps.map(step => composeStep(step, own, shared));
	return {...logic, title: own.title, summary: own.summary, steps};
}
