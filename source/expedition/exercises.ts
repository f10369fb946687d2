/**
 * The code exercises, as data (rustlings' info.toml is the model): which milestone each belongs
 * to, where its reference solution lives, what each TODO asks, and which steps verify it. The
 * reference marks the regions the learner writes (see source/lab/exercise/markers.ts); the
 * learner's skeleton is made from it, so there is no second copy to keep in step. What the
 * learner reads (the title, each TODO's text) is in the milestone's lesson file, under `# texts`:
 * `exercise-<id>` and `exercise-<id>-todo-<n>`, and each TODO's hints before that text,
 * `exercise-<id>-todo-<n>-hint-<k>`, the least direct first.
 */
import {lessonFileOf, lessons} from './compose.js';
import {fillText} from './lesson-content.js';

export interface ExerciseTodo {
	n: number;
	/** What the learner writes, shown in the skeleton's comment and in failures. */
	text: string;
	/**
	 * Hints, each more direct than the last: the lesson file's, then the TODO's own text. The
	 * solution after them is the reference's code for the region (exercise-solution.ts).
	 */
	hints: string[];
	/**
	 * The milestone steps whose checks fail while this TODO is not done: a step id, or
	 * "step:symptom" when the step tells its ways of failing apart (LabError's symptom).
	 */
	verifiedBy: string[];
}

export interface Exercise {
	id: string;
	milestone: string;
	title: string;
	/** The folder with the reference solution, relative to the repository root. */
	reference: string;
	/** The files of that folder with TODO regions; the others (Kbuild) are copied as they are. */
	files: string[];
	todos: ExerciseTodo[];
}

type ExerciseCode = Omit<Exercise, 'title' | 'todos'> & {todos: Omit<ExerciseTodo, 'text' | 'hints'>[]};

const exerciseCode: ExerciseCode[] = [
	{
		id: 'hello',
		milestone: 'hello-module',
		reference: 'drivers/hello',
		files: ['hello.c'],
		todos: [
			{
				n: 1,
				verifiedBy: ['modinfo', 'insmod', 'sysfs'],
			},
			{
				n: 2,
				verifiedBy: ['rmmod'],
			},
		],
	},
	{
		id: 'virtio-driver',
		milestone: 'virtio-hello',
		reference: 'drivers/virtio-hello',
		files: ['virtio_hello_core.c'],
		todos: [
			{
				n: 1,
				verifiedBy: ['greet:not-queued'],
			},
			{
				n: 2,
				verifiedBy: ['greet:not-kicked'],
			},
			{
				n: 3,
				verifiedBy: ['greet:not-completed'],
			},
		],
	},
	{
		id: 'virtio-device',
		milestone: 'virtio-hello',
		reference: 'devices/virtio-hello',
		files: ['virtio-hello.c'],
		todos: [
			{
				n: 1,
				verifiedBy: ['greet:not-popped', 'greet:not-pushed', 'integrity:stalled-unkicked', 'drain'],
			},
			{
				n: 2,
				verifiedBy: ['greet:refused', 'hostile'],
			},
			{
				n: 3,
				verifiedBy: ['greet:not-interrupted'],
			},
		],
	},
];

/** Each exercise with its title and TODO texts from its milestone's lesson file. */
export const exercises: Exercise[] = exerciseCode.map(code => {
	const file = lessons(lessonFileOf(code.milestone));
	const text = (name: string) => fillText(file, name);
	const hintsOf = (todo: string) => {
		const hints: string[] = [];
		for (let k = 1; file.texts.has(`${todo}-hint-${k}`); k++) hints.push(text(`${todo}-hint-${k}`));
		return [...hints, text(todo)];
	};
	return {
		...code,
		title: text(`exercise-${code.id}`),
		todos: code.todos.map(todo => {
			const name = `exercise-${code.id}-todo-${todo.n}`;
			// From the lesson file, like the text (the lesson-content test looks for texts in code).
			const hints = hintsOf(name);
			return {...todo, text: text(name), hints};
		}),
	};
});

export function findExercise(id: string): Exercise | undefined {
	return exercises.find(exercise => exercise.id === id);
}

export function exercisesOf(milestone: string): Exercise[] {
	return exercises.filter(exercise => exercise.milestone === milestone);
}
