import path from 'node:path';
import {exercisesOf, type ExerciseTodo} from './exercises.js';
import {openTodos} from '../lab/exercise/workspace.js';
import type {Failure} from '../lab/lab-error.js';

/**
 * A failed step of a milestone whose exercise the learner is doing, told in terms of the
 * exercise: which TODO the step verifies and where its comment still stands in their file. The
 * step's own check (dmesg, sysfs, modinfo) decided that it failed; this only points at the code.
 */
export function withTodoPointer(
	milestone: string,
	step: string,
	failure: Failure,
	exerciseDirs: Record<string, string> | undefined,
): Failure {
	const candidates = exercisesOf(milestone).filter(exercise => exerciseDirs?.[exercise.id]);
	// The TODO the symptom names, when the step told its ways of failing apart; else every TODO
	// the step verifies.
	const named = (todo: ExerciseTodo) => todo.verifiedBy.includes(`${step}:${failure.symptom}`);
	const bySymptom = failure.symptom !== undefined && candidates.some(exercise => exercise.todos.some(named));
	const verifies = (todo: ExerciseTodo) =>
		bySymptom ? named(todo) : todo.verifiedBy.some(by => by === step || by.startsWith(`${step}:`));
	for (const exercise of candidates) {
		const dir = exerciseDirs![exercise.id]!;
		const todos = exercise.todos.filter(verifies);
		if (todos.length === 0) continue;
		const open = openTodos(exercise, dir);
		// The TODO still open comes first; one whose comment is gone may have been done wrong.
		const place = open.find(place => todos.some(todo => todo.n === place.n));
		const todo = todos.find(todo => todo.n === place?.n) ?? todos[0]!;
		const where = place ? `${place.file}:${place.line}` : path.join(dir, exercise.files[0]!);
		return {
			...failure,
			// file:line first, as a compiler says it: editors and terminals jump to it, and a
			// narrow step log that cuts the line's end still shows where to look.
			what: `${where}: TODO ${todo.n}: ${failure.what}`,
			todo: {exercise: exercise.id, n: todo.n},
			hint: `TODO ${todo.n}: ${todo.text}${failure.hint ? ` (${failure.hint})` : ''}`,
		};
	}
	return failure;
}
