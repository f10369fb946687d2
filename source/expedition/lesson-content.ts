/**
 * The learner's text, kept apart from the code that runs the steps: one Markdown file per
 * milestone in source/expedition/lessons/ (rustlings' info.toml is the model: its runner only
 * reads it). Markdown because a teacher writes prose in it without learning a format, and a
 * lesson's line breaks and backticks show as they will on screen. The shape, in full:
 *
 *   ---
 *   title: Boot a kernel you built      (front matter: the milestone's title and summary)
 *   summary: Build Linux from source…
 *   ---
 *   # uname: Talk to the guest          (a step: its id, then its title)
 *   ## lesson                           (kept line by line: the lesson pane shows these lines)
 *   ## more                             (lines added to a shared step's lesson, see below)
 *   ## task | solution | question | unit | why   (folded: wrapped lines join with a space)
 *   ## hints                            (a list: "- " starts a hint, indented lines continue it)
 *   # texts                             (named texts the code fills in: "## name", {placeholders})
 *
 * Steps several milestones share (the kernel build, the boot) are written once, in shared.md; a
 * milestone's own file may add lines to their lesson with `## more`.
 */
import fs from 'node:fs';

export class ContentError extends Error {
	constructor(
		readonly file: string,
		readonly line: number,
		message: string,
	) {
		super(`${file}:${line}: ${message}`);
		this.name = 'ContentError';
	}
}

/** The text fields of one step, each with the line it starts on (for errors and the facts test). */
export interface StepText {
	id: string;
	title: string;
	line: number;
	lesson?: string;
	more?: string;
	task?: string;
	hints?: string[];
	solution?: string;
	question?: string;
	unit?: string;
	why?: string;
	/** The line each field's text starts on. */
	lines: Partial<Record<StepField, number>>;
}

export type StepField = 'lesson' | 'more' | 'task' | 'hints' | 'solution' | 'question' | 'unit' | 'why';
const stepFields: readonly StepField[] = ['lesson', 'more', 'task', 'hints', 'solution', 'question', 'unit', 'why'];
/** Fields whose line breaks are the author's layout (the lesson pane shows them as lines). */
const keptLines: ReadonlySet<StepField> = new Set(['lesson', 'more']);

export interface LessonFile {
	file: string;
	title?: string;
	summary?: string;
	steps: Map<string, StepText>;
	texts: Map<string, {text: string; line: number}>;
}

const fold = (lines: string[]) =>
	lines
		.map(line => line.trim())
		.filter(Boolean)
		.join(' ');

function trimBlank(lines: string[]): string[] {
	let start = 0;
	let end = lines.length;
	while (start < end && lines[start]!.trim() === '') start++;
	while (end > start && lines[end - 1]!.trim() === '') end--;
	return lines.slice(start, end);
}

function parseHints(file: string, firstLine: number, lines: string[]): string[] {
	const hints: string[][] = [];
	lines.forEach((line, i) => {
		if (line.trim() === '') return;
		if (line.startsWith('- ')) hints.push([line.slice(2)]);
		else if (/^\s+\S/.test(line) && hints.length > 0) hints.at(-1)!.push(line);
		else throw new ContentError(file, firstLine + i, 'a hint starts with "- " (indent a line to continue one)');
	});
	return hints.map(fold);
}

/** Parses one lesson file's text; `file` names it in errors. */
export function parseLessons(file: string, source: string): LessonFile {
	const all = source.split('\n');
	const result: LessonFile = {file, steps: new Map(), texts: new Map()};
	let at = 0;
	if (all[0] === '---') {
		const end = all.indexOf('---', 1);
		if (end < 0) throw new ContentError(file, 1, 'the front matter has no closing "---"');
		for (let i = 1; i < end; i++) {
			const line = all[i]!;
			if (line.trim() === '') continue;
			const match = /^(title|summary):\s*(.+)$/.exec(line);
			if (!match) throw new ContentError(file, i + 1, 'front matter holds only "title: …" and "summary: …"');
			result[match[1] as 'title' | 'summary'] = match[2]!.trim();
		}
		at = end + 1;
	}

	type Section = {kind: 'step'; step: StepText} | {kind: 'texts'};
	let section: Section | undefined;
	let field: {name: string; line: number; lines: string[]} | undefined;
	const closeField = () => {
		if (!field || !section) return;
		const lines = trimBlank(field.lines);
		if (lines.length === 0) throw new ContentError(file, field.line, `"## ${field.name}" is empty`);
		const firstLine = field.line + 1 + field.lines.findIndex(line => line.trim() !== '');
		if (section.kind === 'texts') {
			result.texts.set(field.name, {text: fold(lines), line: firstLine});
		} else {
			const name = field.name as StepField;
			const step = section.step;
			if (name === 'hints') step.hints = parseHints(file, firstLine, lines);
			else step[name] = keptLines.has(name) ? lines.map(line => line.trimEnd()).join('\n') : fold(lines);
			step.lines[name] = firstLine;
		}
		field = undefined;
	};

	for (let i = at; i < all.length; i++) {
		const line = all[i]!;
		const lineNo = i + 1;
		const h1 = /^# (.*)$/.exec(line);
		const h2 = /^## (.*)$/.exec(line);
		if (h1) {
			closeField();
			const heading = h1[1]!.trim();
			if (heading === 'texts') {
				section = {kind: 'texts'};
				continue;
			}
			const match = /^([a-z0-9][a-z0-9-]*):\s*(\S.*)$/.exec(heading);
			if (!match) throw new ContentError(file, lineNo, 'a step heading reads "# <step id>: <title>" (or "# texts")');
			if (result.steps.has(match[1]!)) throw new ContentError(file, lineNo, `step "${match[1]}" is written twice`);
			const step: StepText = {id: match[1]!, title: match[2]!.trim(), line: lineNo, lines: {}};
			result.steps.set(step.id, step);
			section = {kind: 'step', step};
		} else if (h2) {
			closeField();
			if (!section) throw new ContentError(file, lineNo, `"## ${h2[1]}" comes before any "# <step id>: <title>"`);
			const name = h2[1]!.trim();
			if (section.kind === 'step') {
				if (!stepFields.includes(name as StepField))
					throw new ContentError(file, lineNo, `a step has no field "${name}" (it has ${stepFields.join(', ')})`);
				if (section.step.lines[name as StepField] !== undefined)
					throw new ContentError(file, lineNo, `"## ${name}" is written twice in step "${section.step.id}"`);
			} else {
				if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
					throw new ContentError(file, lineNo, `a text's name is lower case with dashes, not "${name}"`);
				if (result.texts.has(name)) throw new ContentError(file, lineNo, `text "${name}" is written twice`);
			}
			field = {name, line: lineNo, lines: []};
		} else if (field) {
			field.lines.push(line);
		} else if (line.trim() !== '') {
			throw new ContentError(
				file,
				lineNo,
				section ? 'text outside a "## field" (start one with "## lesson", say)' : 'text before the first "# step"',
			);
		}
	}
	closeField();
	return result;
}

/** Reads and parses one lesson file. */
export function readLessons(file: string): LessonFile {
	let source: string;
	try {
		source = fs.readFileSync(file, 'utf8');
	} catch (error) {
		throw new ContentError(file, 0, `cannot read it: ${(error as Error).message}`);
	}
	return parseLessons(file, source);
}

/** Fills a text's {placeholders}; every one must be given and every value used. */
export function fillText(lessons: LessonFile, name: string, values: Record<string, string | number> = {}): string {
	const entry = lessons.texts.get(name);
	if (!entry) throw new ContentError(lessons.file, 0, `no text "${name}" under "# texts"`);
	const used = new Set<string>();
	const text = entry.text.replace(/\{([a-zA-Z][a-zA-Z0-9]*)\}/g, (_, key: string) => {
		if (!(key in values))
			throw new ContentError(lessons.file, entry.line, `text "${name}" uses {${key}}, which is not given`);
		used.add(key);
		return String(values[key]);
	});
	const unused = Object.keys(values).filter(key => !used.has(key));
	if (unused.length > 0)
		throw new ContentError(
			lessons.file,
			entry.line,
			`text "${name}" does not use ${unused.map(k => `{${k}}`).join(', ')}`,
		);
	return text;
}

/** The {placeholders} a text uses, for validation before any run. */
export function placeholdersOf(text: string): string[] {
	return [...text.matchAll(/\{([a-zA-Z][a-zA-Z0-9]*)\}/g)].map(match => match[1]!);
}
