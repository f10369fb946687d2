import path from 'node:path';

export interface CompilerError {
	file: string;
	line: number;
	message: string;
	/** The offending source line as gcc quotes it. */
	source?: string;
	/** Absent for an error; warnings are parsed only when asked for. */
	severity?: 'warning';
}

export interface CompilerErrorOptions {
	/**
	 * The folder of the code the reader wrote (an exercise's copy). A diagnostic gcc places in a
	 * header or inside a macro's definition is moved to the first line of this folder that leads
	 * there: the macro's use ("in expansion of macro") or the #include ("In file included from").
	 */
	ownDir?: string;
	/** Parse warnings too, after the same rules. */
	warnings?: boolean;
}

interface Location {
	file: string;
	line: number;
	source?: string;
}

const diagnostic = /^(\/?[^:\s]+\.[ch]):(\d+):(?:\d+:)?\s*(fatal error|error|warning|note):\s*(.*)$/;
const quoted = /^\s*(\d+)\s*\|\s?(.*)$/;
const includedFrom = /^(?:In file included from|\s+from)\s+(\/?[^:\s]+\.[ch]):(\d+)[:,]?\s*$/;
const macroNote = /^in (?:expansion|definition) of macro /;

/** The source line gcc quotes after the diagnostic at `index`, when it is that line's. */
function quotedAfter(lines: string[], index: number, line: number): string | undefined {
	const next = quoted.exec(lines[index + 1] ?? '');
	return next && Number(next[1]) === line ? next[2]!.trimEnd() : undefined;
}

/**
 * gcc's "file:line:col: error: message" lines (and warnings, when asked), each with the source
 * line gcc quotes after it. With `ownDir`, each is placed at the reader's own line that leads to it.
 */
export function parseCompilerErrors(
	lines: string[],
	relativeTo?: string,
	options: CompilerErrorOptions = {},
): CompilerError[] {
	const errors: CompilerError[] = [];
	const ownDir = options.ownDir && path.resolve(options.ownDir);
	const isOwn = (file: string) =>
		ownDir !== undefined && path.isAbsolute(file) && !path.relative(ownDir, file).startsWith('..');
	// gcc prints the include chain only when it changes: remember the last one of each header.
	const chains = new Map<string, Location[]>();
	let chain: Location[] = [];
	lines.forEach((raw, index) => {
		const text = raw.trim();
		const include = includedFrom.exec(raw.trimEnd());
		if (include) {
			if (raw.startsWith('In file included from')) chain = [];
			chain.push({file: include[1]!, line: Number(include[2])});
			return;
		}
		const match = diagnostic.exec(text);
		if (!match) return;
		const [, file, lineText, kind, message] = match;
		if (chain.length > 0) {
			chains.set(file!, chain);
			chain = [];
		}
		if (kind === 'note' || (kind === 'warning' && !options.warnings)) return;
		let at: Location = {file: file!, line: Number(lineText), source: quotedAfter(lines, index, Number(lineText))};
		if (ownDir !== undefined && !isOwn(at.file)) {
			// The notes that follow this diagnostic, up to the next one: where its macros were used.
			const expansions: Location[] = [];
			for (let next = index + 1; next < lines.length; next++) {
				if (quoted.test(lines[next]!) || /^\s+\|/.test(lines[next]!)) continue;
				const note = diagnostic.exec(lines[next]!.trim());
				if (!note || note[3] !== 'note' || !macroNote.test(note[4]!)) break;
				expansions.push({file: note[1]!, line: Number(note[2]), source: quotedAfter(lines, next, Number(note[2]))});
			}
			const leads = [...expansions, ...(chains.get(at.file) ?? [])];
			at = leads.find(lead => isOwn(lead.file)) ?? at;
		}
		// Inside the project a path relative to it reads best; elsewhere, the full path.
		const inside = relativeTo && path.isAbsolute(at.file) && !path.relative(relativeTo, at.file).startsWith('..');
		errors.push({
			file: inside ? path.relative(relativeTo, at.file) : at.file,
			line: at.line,
			message: message!,
			source: at.source,
			...(kind === 'warning' ? {severity: 'warning' as const} : {}),
		});
	});
	return errors;
}

export function formatCompilerError(error: CompilerError): string[] {
	const head = `${error.file}:${error.line}: ${error.severity ? `${error.severity}: ` : ''}${error.message}`;
	return error.source === undefined ? [head] : [head, `    ${error.line} | ${error.source}`];
}
