import test from 'ava';
import {render} from 'ink-testing-library';
import {Lesson} from '../../source/ui/components/Lesson.js';
import {lessonLines, wrapWords} from '../../source/ui/lesson-text.js';

test('a numbered list renders one item a line, wrapped under its text (hanging indent)', t => {
	const text = 'Steps:\n1. Build the kernel from source with the fragments\n2. Boot it\n10. Ten';
	t.deepEqual(lessonLines(text, 24), [
		'Steps:',
		'1. Build the kernel from',
		'   source with the',
		'   fragments',
		'2. Boot it',
		'10. Ten',
	]);
});

test('prose flows: single line breaks join, blank lines stay, Try/Press start a line; nothing is wider than the pane', t => {
	const text = 'The prompt alone\ncould be anyone.\nPress Tab to type.\n\nA second paragraph here.';
	const lines = lessonLines(text, 20);
	t.deepEqual(lines, ['The prompt alone', 'could be anyone.', 'Press Tab to type.', '', 'A second paragraph', 'here.']);
	t.deepEqual(wrapWords('abcdefghij klm', 4), ['abcd', 'efgh', 'ij', 'klm'], 'a word longer than a line is cut');
});

test('the Lesson pane draws the list items on their own rows, inside its width', t => {
	const {lastFrame} = render(
		<Lesson
			title="lesson — Boot"
			text={'Build and boot.\n\n1. Build the kernel from source\n2. Boot it'}
			width={24}
			height={10}
		/>,
	);
	const rows = lastFrame()!.split('\n');
	t.true(rows.some(row => /│1\. Build the kernel\s*│/.test(row)));
	t.true(
		rows.some(row => /│ {3}from source\s*│/.test(row)),
		'the wrapped part is indented under the text',
	);
	t.true(rows.some(row => /│2\. Boot it\s*│/.test(row)));
	t.false(
		rows.some(row => row.length > 24),
		'nothing wider than the pane',
	);
});
