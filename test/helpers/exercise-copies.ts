import fs from 'node:fs';
import path from 'node:path';
import type {Exercise} from '../../source/expedition/exercises.js';
import {findRegions, todoComment} from '../../source/lab/exercise/markers.js';
import {projectRoot} from '../../source/lab/paths.js';

/** An exercise's reference file with the given TODOs open (their regions replaced by the skeleton's comment). */
export function withOpen(exercise: Exercise, file: string, open: number[]): string {
	const reference = fs.readFileSync(path.join(projectRoot, exercise.reference, file), 'utf8');
	const lines = reference.split('\n');
	for (const region of findRegions(reference, exercise.id).reverse()) {
		if (!open.includes(region.todo)) continue;
		const text = exercise.todos.find(todo => todo.n === region.todo)!.text;
		lines.splice(region.begin - 1, region.end - region.begin + 1, ...todoComment(region.todo, text, region.indent));
	}
	return lines.join('\n');
}

/** A folder holding the exercise's files, with `file` as given and the others copied from the reference. */
export function exerciseCopy(exercise: Exercise, dir: string, files: Record<string, string>): string {
	fs.mkdirSync(dir, {recursive: true});
	for (const entry of fs.readdirSync(path.join(projectRoot, exercise.reference), {withFileTypes: true}))
		if (entry.isFile())
			fs.copyFileSync(path.join(projectRoot, exercise.reference, entry.name), path.join(dir, entry.name));
	for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
	return dir;
}

/** An exercise's reference file with one TODO's region written as `code` (a learner's wrong answer, say). */
export function withAnswer(exercise: Exercise, file: string, todo: number, code: string[]): string {
	const reference = fs.readFileSync(path.join(projectRoot, exercise.reference, file), 'utf8');
	const lines = reference.split('\n');
	const region = findRegions(reference, exercise.id).find(found => found.todo === todo);
	if (!region) throw new Error(`${file} has no region for TODO ${todo}`);
	lines.splice(region.begin - 1, region.end - region.begin + 1, ...code);
	return lines.join('\n');
}
