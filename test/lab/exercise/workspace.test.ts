import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {ensureWorkspace, openTodos, resetWorkspace, type ExerciseSpec} from '../../../source/lab/exercise/workspace.js';
import {findExercise} from '../../../source/expedition/exercises.js';
import {tempDir} from '../../helpers/temp.js';

const hello = findExercise('hello') as ExerciseSpec;

test('the workspace is made from the skeleton once and never overwritten; a deleted file comes back', t => {
	const root = tempDir(t);
	const dir = ensureWorkspace(hello, root);
	t.is(dir, path.join(root, 'hello'));
	t.deepEqual(fs.readdirSync(dir).sort(), ['Kbuild', 'hello.c']);
	const file = path.join(dir, 'hello.c');
	fs.writeFileSync(file, 'my work\n');
	fs.rmSync(path.join(dir, 'Kbuild'));
	ensureWorkspace(hello, root);
	t.is(fs.readFileSync(file, 'utf8'), 'my work\n', "the learner's file is kept");
	t.true(fs.existsSync(path.join(dir, 'Kbuild')), 'the missing Kbuild is back');
});

test('openTodos finds the TODO comments still in the learner file, in TODO order', t => {
	const dir = ensureWorkspace(hello, tempDir(t));
	const open = openTodos(hello, dir);
	t.deepEqual(
		open.map(place => place.n),
		[1, 2],
	);
	const lines = fs.readFileSync(path.join(dir, 'hello.c'), 'utf8').split('\n');
	for (const place of open) t.regex(lines[place.line - 1]!, new RegExp(`TODO ${place.n}:`));
});

test('reset keeps every changed file as <file>.bak-<timestamp> and puts the skeleton back', t => {
	const root = tempDir(t);
	const dir = ensureWorkspace(hello, root);
	const skeleton = fs.readFileSync(path.join(dir, 'hello.c'), 'utf8');
	fs.writeFileSync(path.join(dir, 'hello.c'), 'my work\n');
	const when = new Date('2026-11-26T12:34:56.789Z');
	t.deepEqual(resetWorkspace(hello, root, when), [path.join(dir, 'hello.c.bak-20261126T123456Z')]);
	t.is(fs.readFileSync(path.join(dir, 'hello.c.bak-20261126T123456Z'), 'utf8'), 'my work\n');
	t.is(fs.readFileSync(path.join(dir, 'hello.c'), 'utf8'), skeleton);
	// A second reset within the same second keeps the first backup and makes no empty one.
	fs.writeFileSync(path.join(dir, 'hello.c'), 'more work\n');
	t.deepEqual(resetWorkspace(hello, root, when), [path.join(dir, 'hello.c.bak-20261126T123456Z-2')]);
	t.is(fs.readFileSync(path.join(dir, 'hello.c.bak-20261126T123456Z'), 'utf8'), 'my work\n');
	t.deepEqual(resetWorkspace(hello, root, when), [], 'an unchanged skeleton needs no backup');
});
