/**
 * The code exercises, as data (rustlings' info.toml is the model): which milestone each belongs
 * to, where its reference solution lives, what each TODO asks, and which steps verify it. The
 * reference marks the regions the learner writes (see source/lab/exercise/markers.ts); the
 * learner's skeleton is made from it, so there is no second copy to keep in step.
 */

export interface ExerciseTodo {
	n: number;
	/** What the learner writes, shown in the skeleton's comment and in failures. */
	text: string;
	/** The milestone steps whose checks fail while this TODO is not done. */
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

export const exercises: Exercise[] = [
	{
		id: 'hello',
		milestone: 'hello-module',
		title: 'hello.c: a module parameter and the exit path',
		reference: 'drivers/hello',
		files: ['hello.c'],
		todos: [
			{
				n: 1,
				text:
					'declare `times` as a module parameter (an int that root may change: 0644) with module_param() ' +
					'and describe it with MODULE_PARM_DESC(), so that `insmod hello.ko times=3` greets 3 times and ' +
					'/sys/module/hello/parameters/times exists.',
				verifiedBy: ['modinfo', 'insmod', 'sysfs'],
			},
			{
				n: 2,
				text:
					'the exit path: write hello_exit(), marked __exit, that says "hello: Goodbye, <whom>." with ' +
					'pr_info(), and register it with module_exit(): without it rmmod cannot unload the module.',
				verifiedBy: ['rmmod'],
			},
		],
	},
];

export function findExercise(id: string): Exercise | undefined {
	return exercises.find(exercise => exercise.id === id);
}

export function exercisesOf(milestone: string): Exercise[] {
	return exercises.filter(exercise => exercise.milestone === milestone);
}
