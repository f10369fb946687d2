import path from 'node:path';
import {exercisesOf} from '../expedition/exercises.js';
import {watchFolder, type FolderWatch} from '../lab/exercise/watch-folder.js';
import {ensureWorkspace, openTodos} from '../lab/exercise/workspace.js';

/**
 * The learner's exercise folders for the workbench: made from the skeleton on first use, given to
 * the milestones to build, and watched so that a save re-runs the milestone (as rustlings' watch
 * mode does). Every watch ends with close().
 */
export class ExerciseWorkspaces {
	private readonly watches = new Map<string, FolderWatch>();

	constructor(private readonly root: string) {}

	/** Exercise id → folder, for a milestone's exercises (none for most milestones). */
	dirsFor(milestone: string): Record<string, string> {
		return Object.fromEntries(
			exercisesOf(milestone).map(exercise => [exercise.id, ensureWorkspace(exercise, this.root)]),
		);
	}

	/** The file to open for a milestone, at its first TODO whose comment still stands. */
	editTarget(milestone: string): {file: string; line?: number} | undefined {
		const exercise = exercisesOf(milestone)[0];
		if (!exercise) return undefined;
		const dir = ensureWorkspace(exercise, this.root);
		const first = openTodos(exercise, dir)[0];
		return first ? {file: first.file, line: first.line} : {file: path.join(dir, exercise.files[0]!)};
	}

	/** Starts watching a milestone's exercise folders (once); onSave gets the files that changed. */
	watch(milestone: string, onSave: (files: string[]) => void): void {
		for (const exercise of exercisesOf(milestone)) {
			if (this.watches.has(exercise.id)) continue;
			const dir = ensureWorkspace(exercise, this.root);
			const watch = watchFolder({
				dir,
				files: exercise.files,
				onChange: changed => onSave(changed.map(name => path.join(dir, name))),
			});
			this.watches.set(exercise.id, watch);
		}
	}

	get watching(): number {
		return this.watches.size;
	}

	close(): void {
		for (const watch of this.watches.values()) watch.close();
		this.watches.clear();
	}
}
