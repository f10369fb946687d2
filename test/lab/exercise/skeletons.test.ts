import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {exercises} from '../../../source/expedition/exercises.js';
import {findRegions} from '../../../source/lab/exercise/markers.js';
import {skeletonFiles} from '../../../source/lab/exercise/workspace.js';
import {projectRoot} from '../../../source/lab/paths.js';

/**
 * Every exercise's skeleton, checked against its reference: equal line for line outside the
 * regions, each region (markers included) one comment whose first line says "TODO n:", every TODO
 * the data declares marked once, and no marker left for the learner to see.
 */
for (const exercise of exercises) {
	test(`the ${exercise.id} skeleton is its reference with each TODO region replaced`, t => {
		const skeleton = skeletonFiles(exercise);
		const marked: number[] = [];
		for (const name of exercise.files) {
			const ref = fs.readFileSync(path.join(projectRoot, exercise.reference, name), 'utf8').split('\n');
			const lines = skeleton[name]!.split('\n');
			let at = 0;
			let previousEnd = 0;
			for (const region of findRegions(ref.join('\n'), exercise.id)) {
				marked.push(region.todo);
				const before = ref.slice(previousEnd, region.begin - 1);
				t.deepEqual(lines.slice(at, at + before.length), before);
				at += before.length;
				t.is(lines[at], `${region.indent}/*`);
				t.regex(lines[at + 1]!, new RegExp(`^${region.indent} \\* TODO ${region.todo}: `));
				while (lines[at] !== `${region.indent} */`) at++;
				at++;
				previousEnd = region.end;
			}
			t.deepEqual(lines.slice(at), ref.slice(previousEnd));
			t.notRegex(skeleton[name]!, /exercise \S+ TODO/, 'no marker left');
		}
		t.deepEqual(
			marked.sort(),
			exercise.todos.map(todo => todo.n),
		);
		t.true(exercise.todos.length >= 1 && exercise.todos.length <= 3, '1 to 3 TODOs');
		// The other files of the reference folder come as they are (Kbuild, headers, the build lines).
		for (const [name, text] of Object.entries(skeleton))
			if (!exercise.files.includes(name))
				t.is(text, fs.readFileSync(path.join(projectRoot, exercise.reference, name), 'utf8'), name);
	});
}
