import fs from 'node:fs';
import path from 'node:path';
import {writeFileAtomic} from '../atomic-file.js';
import {projectRoot} from '../paths.js';
import {makeSkeleton, todoLines} from './markers.js';

/** What the workspace needs to know of an exercise (the data lives in source/expedition/). */
export interface ExerciseSpec {
	id: string;
	/** Reference folder, relative to the repository root. */
	reference: string;
	/** Files of the reference folder with TODO regions. */
	files: string[];
	todos: {n: number; text: string}[];
}

/** Files of a reference folder that are build products, never part of an exercise. */
const isBuildOutput = (name: string) =>
	name.startsWith('.') || /\.(o|ko|mod|mod\.c|cmd|order|symvers|d)$/.test(name) || name === 'Module.symvers';

export function exerciseDir(root: string, id: string): string {
	return path.join(root, id);
}

/** The skeleton's files by name: the marked files made from the reference, the rest as they are. */
export function skeletonFiles(exercise: ExerciseSpec): Record<string, string> {
	const referenceDir = path.join(projectRoot, exercise.reference);
	const todos = new Map(exercise.todos.map(todo => [todo.n, todo.text]));
	const files: Record<string, string> = {};
	for (const name of fs.readdirSync(referenceDir).sort()) {
		const full = path.join(referenceDir, name);
		if (isBuildOutput(name) || !fs.statSync(full).isFile()) continue;
		const text = fs.readFileSync(full, 'utf8');
		files[name] = exercise.files.includes(name) ? makeSkeleton(text, exercise.id, todos) : text;
	}
	for (const name of exercise.files)
		if (!(name in files)) throw new Error(`${exercise.reference}/${name} is missing from the reference`);
	return files;
}

/**
 * The exercise's folder, made from the skeleton the first time. A file the learner already has is
 * never overwritten; one they deleted comes back from the skeleton. Each file is written
 * atomically, so a watcher or a build never sees half of one.
 */
export function ensureWorkspace(exercise: ExerciseSpec, root: string): string {
	const dir = exerciseDir(root, exercise.id);
	for (const [name, text] of Object.entries(skeletonFiles(exercise))) {
		const file = path.join(dir, name);
		if (!fs.existsSync(file)) writeFileAtomic(file, text);
	}
	return dir;
}

/**
 * Puts the skeleton back. The learner's differing copy of each file is kept beside it as
 * <file>.bak-<timestamp> (never deleted); returns the paths of those backups.
 */
export function resetWorkspace(exercise: ExerciseSpec, root: string, now = new Date()): string[] {
	const dir = exerciseDir(root, exercise.id);
	const stamp = now
		.toISOString()
		.replace(/[-:]/g, '')
		.replace(/\.\d+Z$/, 'Z');
	const backups: string[] = [];
	for (const [name, text] of Object.entries(skeletonFiles(exercise))) {
		const file = path.join(dir, name);
		if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') !== text) {
			let backup = `${file}.bak-${stamp}`;
			for (let i = 2; fs.existsSync(backup); i++) backup = `${file}.bak-${stamp}-${i}`;
			fs.renameSync(file, backup);
			backups.push(backup);
		}
		writeFileAtomic(file, text);
	}
	return backups;
}

export interface TodoPlace {
	n: number;
	file: string;
	line: number;
}

/** Where the TODO comments still stand in the learner's files, in TODO order. */
export function openTodos(exercise: ExerciseSpec, dir: string): TodoPlace[] {
	const places: TodoPlace[] = [];
	for (const name of exercise.files) {
		const file = path.join(dir, name);
		if (!fs.existsSync(file)) continue;
		for (const [n, line] of todoLines(fs.readFileSync(file, 'utf8')))
			if (exercise.todos.some(todo => todo.n === n)) places.push({n, file, line});
	}
	return places.sort((a, b) => a.n - b.n);
}
