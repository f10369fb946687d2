import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {exercises} from '../../../source/expedition/exercises.js';
import {findRegions, makeSkeleton, MarkerError, todoComment, todoLines} from '../../../source/lab/exercise/markers.js';
import {projectRoot} from '../../../source/lab/paths.js';

const sample = [
	'int a;',
	'/* exercise demo TODO 1 */',
	'int b;',
	'/* end exercise demo TODO 1 */',
	'void f(void)',
	'{',
	'\t/* exercise demo TODO 2 */',
	'\tg();',
	'\t/* end exercise demo TODO 2 */',
	'}',
].join('\n');

test('findRegions returns each marked region with its TODO number, marker lines and indentation', t => {
	t.deepEqual(findRegions(sample, 'demo'), [
		{todo: 1, begin: 2, end: 4, indent: ''},
		{todo: 2, begin: 7, end: 9, indent: '\t'},
	]);
	t.deepEqual(findRegions(sample, 'other'), [], "another exercise's id matches nothing");
});

test('unbalanced, mismatched or nested markers are errors, not silently skipped regions', t => {
	t.throws(() => findRegions('/* exercise x TODO 1 */\nint a;', 'x'), {
		instanceOf: MarkerError,
		message: /never ended/,
	});
	t.throws(() => findRegions('/* end exercise x TODO 1 */', 'x'), {instanceOf: MarkerError, message: /no matching/});
	t.throws(() => findRegions('/* exercise x TODO 1 */\n/* end exercise x TODO 2 */', 'x'), {
		instanceOf: MarkerError,
		message: /no matching/,
	});
	t.throws(() => findRegions('/* exercise x TODO 1 */\n/* exercise x TODO 2 */', 'x'), {
		instanceOf: MarkerError,
		message: /inside TODO 1/,
	});
});

test('makeSkeleton replaces each region, markers included, by its indented TODO comment', t => {
	const skeleton = makeSkeleton(
		sample,
		'demo',
		new Map([
			[1, 'declare b'],
			[2, 'call g'],
		]),
	);
	t.is(
		skeleton,
		[
			'int a;',
			'/*',
			' * TODO 1: declare b',
			' */',
			'void f(void)',
			'{',
			'\t/*',
			'\t * TODO 2: call g',
			'\t */',
			'}',
		].join('\n'),
	);
	t.deepEqual(
		[...todoLines(skeleton)],
		[
			[1, 3],
			[2, 8],
		],
	);
});

test('makeSkeleton refuses a TODO without a region and a region without a TODO text', t => {
	t.throws(() => makeSkeleton(sample, 'demo', new Map([[1, 'declare b']])), {message: /TODO 2 is marked/});
	t.throws(
		() =>
			makeSkeleton(
				sample,
				'demo',
				new Map([
					[1, 'a'],
					[2, 'b'],
					[3, 'c'],
				]),
			),
		{message: /TODO 3 has no marked region/},
	);
});

test('todoComment wraps long TODO text under the width, every line a comment line', t => {
	const lines = todoComment(1, 'word '.repeat(60), '\t', 40);
	t.true(lines.length > 3);
	t.is(lines[0], '\t/*');
	t.is(lines.at(-1), '\t */');
	for (const line of lines.slice(1, -1)) {
		t.true(line.startsWith('\t * '));
		t.true(line.length <= 40, line);
	}
	t.true(lines[1]!.startsWith('\t * TODO 1: word'));
});

test("every exercise's reference has exactly the regions its data declares", t => {
	for (const exercise of exercises) {
		for (const file of exercise.files) {
			const text = fs.readFileSync(path.join(projectRoot, exercise.reference, file), 'utf8');
			const todos = findRegions(text, exercise.id).map(region => region.todo);
			t.deepEqual(
				[...new Set(todos)].sort(),
				exercise.todos.map(todo => todo.n).sort(),
				`${exercise.reference}/${file}`,
			);
		}
	}
});
