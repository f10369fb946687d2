import fs from 'node:fs';
import {exercises, findExercise} from '../expedition/exercises.js';
import {exerciseDir, ensureWorkspace, openTodos, resetWorkspace} from '../lab/exercise/workspace.js';
import {UsageError} from './args.js';

/**
 * `kernelcraft exercise list|path <id>|reset <id>`: the learner's exercise copies, which live
 * outside the repository (workspaceRoot()).
 */
export function exerciseCommand(
	action: string,
	id: string | undefined,
	root: string,
	out: NodeJS.WritableStream,
): number {
	if (action === 'list') {
		const idWidth = Math.max(...exercises.map(exercise => exercise.id.length));
		for (const exercise of exercises) {
			const dir = exerciseDir(root, exercise.id);
			// Listing makes nothing: the copy is made when the learner first opens or runs it.
			const open = fs.existsSync(dir) ? openTodos(exercise, dir).map(place => `TODO ${place.n}`) : undefined;
			const state =
				open === undefined
					? 'not started (made from the skeleton on first use)'
					: open.length > 0
						? `open: ${open.join(', ')}`
						: 'no TODO comment left';
			out.write(
				`${exercise.id.padEnd(idWidth)} ${exercise.milestone.padEnd(14)} ${exercise.title}\n${' '.repeat(idWidth + 1)}${dir}  ${state}\n`,
			);
		}
		return 0;
	}
	if (action !== 'path' && action !== 'reset')
		throw new UsageError(`"${action}" is not an exercise action: list, path <id> or reset <id>.`, 'exercise');
	const exercise = id === undefined ? undefined : findExercise(id);
	if (!exercise)
		throw new UsageError(
			`${id === undefined ? 'Which exercise?' : `There is no exercise "${id}".`} Exercises: ${exercises.map(e => e.id).join(', ')}.`,
			'exercise',
		);
	if (action === 'path') {
		out.write(`${ensureWorkspace(exercise, root)}\n`);
		return 0;
	}
	const existed = exerciseDir(root, exercise.id);
	const backups = resetWorkspace(exercise, root);
	for (const backup of backups) out.write(`kept your copy as ${backup}\n`);
	out.write(`${existed}: back to the start of the ${exercise.id} exercise\n`);
	return 0;
}
