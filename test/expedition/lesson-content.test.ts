import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import ts from 'typescript';
import {ContentError, fillText, parseLessons, placeholdersOf} from '../../source/expedition/lesson-content.js';
import {projectRoot} from '../../source/lab/paths.js';

const sample = `---
title: A milestone
summary: What it is about.
---

# look: Look around

## lesson

First line.
Second line, kept as a line.

## task

Type \`ls\`
and look.

## hints

- one hint
  that goes on
- another

# texts

## greeting

Hello, {name}!
`;

test('a lesson file: front matter, steps with fields, hints as a list, named texts', t => {
	const file = parseLessons('m.md', sample);
	t.is(file.title, 'A milestone');
	t.is(file.summary, 'What it is about.');
	const step = file.steps.get('look')!;
	t.is(step.title, 'Look around');
	t.is(step.lesson, 'First line.\nSecond line, kept as a line.', 'a lesson keeps its lines');
	t.is(step.task, 'Type `ls` and look.', 'a task is folded into one line');
	t.deepEqual(step.hints, ['one hint that goes on', 'another']);
	t.is(step.line, 6);
	t.is(step.lines.lesson, 10, 'where the lesson text starts');
	t.is(fillText(file, 'greeting', {name: 'Ada'}), 'Hello, Ada!');
	t.deepEqual(placeholdersOf(file.texts.get('greeting')!.text), ['name']);
});

const broken: Array<[string, string, number, RegExp]> = [
	['an unknown field', '# a: A\n\n## lessn\n\ntext\n', 3, /no field "lessn"/],
	['a heading without a title', '# a\n\n## lesson\n\nx\n', 1, /"# <step id>: <title>"/],
	['a field before any step', '## lesson\n\nx\n', 1, /comes before any/],
	['text outside a field', '# a: A\n\nstray\n', 3, /outside a "## field"/],
	['an empty field', '# a: A\n\n## lesson\n\n# b: B\n\n## lesson\n\nx\n', 3, /is empty/],
	['a step twice', '# a: A\n\n## lesson\n\nx\n\n# a: A again\n', 7, /written twice/],
	['a field twice', '# a: A\n\n## lesson\n\nx\n\n## lesson\n\ny\n', 7, /written twice/],
	['a hint without its dash', '# a: A\n\n## hints\n\n- one\nstray\n', 6, /starts with "- "/],
	['front matter never closed', '---\ntitle: x\n', 1, /closing "---"/],
	['an unknown front matter key', '---\nauthor: x\n---\n', 2, /title: …/],
];

for (const [what, source, line, message] of broken)
	test(`a lesson file with ${what} is refused at its line`, t => {
		const error = t.throws(() => parseLessons('/lessons/x.md', source), {instanceOf: ContentError});
		t.is(error!.line, line);
		t.regex(error!.message, message);
		t.true(error!.message.startsWith(`/lessons/x.md:${line}: `), 'the message starts with file:line');
	});

test('a text is filled with every value it names, and no value is left over', t => {
	const file = parseLessons('m.md', sample);
	t.throws(() => fillText(file, 'greeting'), {message: /uses \{name\}, which is not given/});
	t.throws(() => fillText(file, 'greeting', {name: 'Ada', extra: 1}), {message: /does not use \{extra\}/});
	t.throws(() => fillText(file, 'farewell'), {message: /no text "farewell"/});
});

/** Object properties that hold learner text; in source/expedition they may only come from content. */
const textProperties = new Set(['lesson', 'hints', 'solution', 'ask', 'question', 'why', 'summary']);

/** Where a file's object literals set a text property to text written in place. */
function textWrittenIn(name: string, code: string): string[] {
	const source = ts.createSourceFile(name, code, ts.ScriptTarget.ES2022, true);
	const found: string[] = [];
	const visit = (node: ts.Node): void => {
		if (
			ts.isPropertyAssignment(node) &&
			textProperties.has(node.name.getText(source)) &&
			(ts.isStringLiteralLike(node.initializer) ||
				ts.isTemplateExpression(node.initializer) ||
				ts.isArrayLiteralExpression(node.initializer) ||
				ts.isCallExpression(node.initializer))
		) {
			const {line} = source.getLineAndCharacterOfPosition(node.getStart(source));
			found.push(`${name}:${line + 1}: ${node.name.getText(source)}`);
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return found;
}

test('no lesson, task, hint, solution or prediction text is written in the expedition code', t => {
	// The walk finds text written in code (so the assertion below can fail).
	t.deepEqual(textWrittenIn('x.ts', "const s = {id: 'a', lesson: ['one', 'two'].join('\\n')};"), ['x.ts:1: lesson']);
	t.deepEqual(textWrittenIn('x.ts', "const s = {id: 'a', why: `a ${'b'}`};"), ['x.ts:1: why']);
	const dir = path.join(projectRoot, 'source', 'expedition');
	const found = fs
		.readdirSync(dir)
		// host-packages.ts: a package's `why` is what doctor and setup print about the host, not a lesson.
		.filter(file => file.endsWith('.ts') && file !== 'host-packages.ts')
		.flatMap(name => textWrittenIn(name, fs.readFileSync(path.join(dir, name), 'utf8')));
	t.deepEqual(found, [], 'these belong in source/expedition/lessons/');
});
