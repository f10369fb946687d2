import fs from 'node:fs';
import path from 'node:path';
import {findRegions} from '../lab/exercise/markers.js';
import {projectRoot} from '../lab/paths.js';
import type {Exercise} from './exercises.js';

/**
 * A TODO's solution: the reference's own code for its region, read from the reference file the
 * skeleton is made from, so it can never drift from what passes.
 */
export function todoSolution(exercise: Exercise, n: number): {file: string; code: string} {
	for (const file of exercise.files) {
		const reference = path.join(projectRoot, exercise.reference, file);
		const text = fs.readFileSync(reference, 'utf8');
		const region = findRegions(text, exercise.id).find(found => found.todo === n);
		if (!region) continue;
		// Lines between the markers (region.begin and region.end are the markers' 1-based lines).
		const lines = text.split('\n').slice(region.begin, region.end - 1);
		const indent = Math.min(...lines.filter(line => line.trim()).map(line => /^\s*/.exec(line)![0].length));
		return {file: path.join(exercise.reference, file), code: lines.map(line => line.slice(indent)).join('\n')};
	}
	throw new Error(`${exercise.id} has no TODO ${n} in ${exercise.files.join(', ')}`);
}
