import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {withTodoPointer} from '../../source/expedition/exercise-failure.js';
import {ExerciseWorkspaces} from '../../source/runner/exercise-workspaces.js';
import {projectRoot} from '../../source/lab/paths.js';
import {tempDir} from '../helpers/temp.js';

/** Both virtio-hello exercises, made from their skeletons in a workspace of the test's own. */
function virtioWorkspace(t: Parameters<typeof tempDir>[0]) {
	const dirs = new ExerciseWorkspaces(tempDir(t)).dirsFor('virtio-hello');
	const lineOf = (exercise: string, file: string, todo: number) => {
		const full = path.join(dirs[exercise]!, file);
		return `${full}:${
			fs
				.readFileSync(full, 'utf8')
				.split('\n')
				.findIndex(line => line.includes(`TODO ${todo}:`)) + 1
		}`;
	};
	return {dirs, lineOf};
}

const greetFailed = (symptom?: string) => ({what: 'the greeting failed.', symptom});

test('a symptom points at the TODO that causes it, in whichever exercise holds it', t => {
	const {dirs, lineOf} = virtioWorkspace(t);
	const cases: [string, string, string, number][] = [
		['not-queued', 'virtio-driver', 'virtio_hello_core.c', 1],
		['not-kicked', 'virtio-driver', 'virtio_hello_core.c', 2],
		['not-completed', 'virtio-driver', 'virtio_hello_core.c', 3],
		['not-popped', 'virtio-device', 'virtio-hello.c', 1],
		['refused', 'virtio-device', 'virtio-hello.c', 2],
		['not-interrupted', 'virtio-device', 'virtio-hello.c', 3],
	];
	for (const [symptom, exercise, file, todo] of cases) {
		const failure = withTodoPointer('virtio-hello', 'greet', greetFailed(symptom), dirs);
		t.is(failure.what, `${lineOf(exercise, file, todo)}: TODO ${todo}: the greeting failed.`, symptom);
		t.regex(failure.hint ?? '', new RegExp(`^TODO ${todo}: `));
	}
});

test('without a symptom a failed step points at the first open TODO it verifies', t => {
	const {dirs, lineOf} = virtioWorkspace(t);
	const failure = withTodoPointer('virtio-hello', 'greet', greetFailed(), dirs);
	t.is(failure.what, `${lineOf('virtio-driver', 'virtio_hello_core.c', 1)}: TODO 1: the greeting failed.`);
	t.deepEqual(
		withTodoPointer('virtio-hello', 'probe', greetFailed(), dirs),
		greetFailed(),
		'a step no TODO is verified by is left as it is',
	);
	t.deepEqual(
		withTodoPointer('virtio-hello', 'greet', greetFailed('not-kicked'), undefined),
		greetFailed('not-kicked'),
		'the reference (no exercise folders): no pointer',
	);
});

test('e opens the first open TODO of the milestone, across both of its exercises', t => {
	const root = tempDir(t);
	const workspaces = new ExerciseWorkspaces(root);
	const dirs = workspaces.dirsFor('virtio-hello');
	const first = workspaces.editTarget('virtio-hello')!;
	t.is(first.file, path.join(dirs['virtio-driver']!, 'virtio_hello_core.c'));
	// The driver done (its TODO comments gone): the device's first TODO is next.
	fs.copyFileSync(
		path.join(projectRoot, 'drivers/virtio-hello/virtio_hello_core.c'),
		path.join(dirs['virtio-driver']!, 'virtio_hello_core.c'),
	);
	const next = workspaces.editTarget('virtio-hello')!;
	t.is(next.file, path.join(dirs['virtio-device']!, 'virtio-hello.c'));
	t.regex(fs.readFileSync(next.file, 'utf8').split('\n')[next.line! - 1]!, /TODO 1:/);
});
