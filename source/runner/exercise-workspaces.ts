import path from 'node:path';
import {exercisesOf} from '../expedition/exercises.js';
import {watchFolder, type FolderWatch} from '../lab/exercise/watch-folder.js';
import {ensureWorkspace, exerciseDir, openTodos} from '../lab/exercise/workspace.js';
import type {MilestoneSummary} from './events.js';

/**
 * The learner's exercise folders for the workbench: made from the skeleton on first use, given to
 * the milestones to build, and watched so that a save re-runs the milestone (as rustlings' watch
 * mode does). Every watch ends with close().
 */
export class ExerciseWorkspaces {
	private readonly watches = new Map<string, FolderWatch>();
	/** The step each milestone's last run failed at: its TODO is the one to open first. */
	private readonly failedAt = new Map<string, string>();

	constructor(private readonly root: string) {}

	/** Exercise id → folder, for a milestone's exercises (none for most milestones). */
	dirsFor(milestone: string): Record<string, string> {
		return Object.fromEntries(
			exercisesOf(milestone).map(exercise => [exercise.id, ensureWorkspace(exercise, this.root)]),
		);
	}

	/** The learner's copy of a QEMU device the milestone builds (its exercise's reference is under devices/). */
	deviceDirFor(milestone: string): string | undefined {
		const device = exercisesOf(milestone).find(exercise => exercise.reference.startsWith('devices/'));
		return device ? ensureWorkspace(device, this.root) : undefined;
	}

	noteRun(summary: MilestoneSummary): void {
		const failed = summary.steps.find(step => !step.ok)?.name;
		if (failed) this.failedAt.set(summary.milestone, failed);
		else this.failedAt.delete(summary.milestone);
	}

	/**
	 * The file to open for a milestone, at the first unsolved TODO: the one whose check failed in
	 * the last run if its comment still stands, else the first TODO comment left, else the top.
	 */
	editTarget(milestone: string): {file: string; line?: number} | undefined {
		const all = exercisesOf(milestone);
		if (all.length === 0) return undefined;
		const failed = this.failedAt.get(milestone);
		const checkedBy = (by: string) => failed !== undefined && (by === failed || by.startsWith(`${failed}:`));
		// Exercises in their data's order (the one a milestone builds first comes first).
		const open = all.map(exercise => ({
			exercise,
			open: openTodos(exercise, ensureWorkspace(exercise, this.root)),
			checked: exercise.todos.filter(todo => todo.verifiedBy.some(checkedBy)),
		}));
		const place =
			open.flatMap(({open, checked}) => open.filter(place => checked.some(todo => todo.n === place.n)))[0] ??
			open.flatMap(({open}) => open)[0];
		if (place) return {file: place.file, line: place.line};
		return {file: path.join(exerciseDir(this.root, all[0]!.id), all[0]!.files[0]!)};
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
