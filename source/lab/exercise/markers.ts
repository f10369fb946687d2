/**
 * The exercise regions of a reference source file, and the learner's skeleton made from them.
 *
 * A region is marked in the reference with two comments on lines of their own:
 *
 *     /* exercise <id> TODO <n> *\/
 *     ...the solution...
 *     /* end exercise <id> TODO <n> *\/
 *
 * In the skeleton the whole region (markers included) becomes one comment, at the begin marker's
 * indentation, that starts with "TODO <n>:" and says what to write. The reference stays a normal,
 * checkpatch-clean file: the markers are plain block comments.
 */

export interface MarkedRegion {
	todo: number;
	/** 1-based lines of the begin and end markers in the reference. */
	begin: number;
	end: number;
	indent: string;
}

export class MarkerError extends Error {
	override name = 'MarkerError';
}

const beginMarker = /^(\s*)\/\* exercise (\S+) TODO (\d+) \*\/\s*$/;
const endMarker = /^\s*\/\* end exercise (\S+) TODO (\d+) \*\/\s*$/;

/** The regions of exercise `id` in `text`, in file order. Unbalanced or nested markers throw. */
export function findRegions(text: string, id: string): MarkedRegion[] {
	const regions: MarkedRegion[] = [];
	let open: {todo: number; begin: number; indent: string} | undefined;
	text.split('\n').forEach((line, index) => {
		const lineNo = index + 1;
		const begin = beginMarker.exec(line);
		if (begin && begin[2] === id) {
			if (open) throw new MarkerError(`line ${lineNo}: TODO ${begin[3]} begins inside TODO ${open.todo}`);
			open = {todo: Number(begin[3]), begin: lineNo, indent: begin[1]!};
			return;
		}
		const end = endMarker.exec(line);
		if (end && end[1] === id) {
			if (!open || open.todo !== Number(end[2]))
				throw new MarkerError(`line ${lineNo}: the end of TODO ${end[2]} has no matching begin`);
			regions.push({...open, end: lineNo});
			open = undefined;
		}
	});
	if (open) throw new MarkerError(`line ${open.begin}: TODO ${open.todo} is never ended`);
	return regions;
}

/** The comment that stands in for a region in the skeleton: "TODO n: text", wrapped. */
export function todoComment(todo: number, text: string, indent: string, width = 96): string[] {
	const words = `TODO ${todo}: ${text}`.split(/\s+/).filter(Boolean);
	const lines: string[] = [];
	let current = '';
	for (const word of words) {
		if (current && `${indent} * ${current} ${word}`.length > width) {
			lines.push(current);
			current = word;
		} else current = current ? `${current} ${word}` : word;
	}
	if (current) lines.push(current);
	return [`${indent}/*`, ...lines.map(line => `${indent} * ${line}`), `${indent} */`];
}

/**
 * The learner's skeleton: the reference with each region of exercise `id` replaced by its TODO
 * comment. Every TODO the exercise declares must have a region, and every region a TODO.
 */
export function makeSkeleton(reference: string, id: string, todos: ReadonlyMap<number, string>): string {
	const regions = findRegions(reference, id);
	for (const region of regions)
		if (!todos.has(region.todo)) throw new MarkerError(`TODO ${region.todo} is marked but has no text`);
	for (const todo of todos.keys())
		if (!regions.some(region => region.todo === todo)) throw new MarkerError(`TODO ${todo} has no marked region`);
	const lines = reference.split('\n');
	// From the last region up, so earlier line numbers stay valid.
	for (const region of [...regions].reverse())
		lines.splice(
			region.begin - 1,
			region.end - region.begin + 1,
			...todoComment(region.todo, todos.get(region.todo)!, region.indent),
		);
	return lines.join('\n');
}

/**
 * Where each TODO comment still stands in a learner's file (1-based line of "TODO n:"). A TODO the
 * learner has removed is absent: whether it is solved is for the checks to say, not this.
 */
export function todoLines(text: string): Map<number, number> {
	const found = new Map<number, number>();
	text.split('\n').forEach((line, index) => {
		const match = /^\s*(?:\/\*|\*|\/\/)\s*TODO (\d+):/.exec(line);
		if (match && !found.has(Number(match[1]))) found.set(Number(match[1]), index + 1);
	});
	return found;
}
