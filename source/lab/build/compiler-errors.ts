import path from 'node:path';

export interface CompilerError {
	file: string;
	line: number;
	message: string;
	/** The offending source line as gcc quotes it. */
	source?: string;
}

const diagnostic = /^(\/?[^:\s]+\.[ch]):(\d+):(?:\d+:)?\s*(?:fatal )?error:\s*(.*)$/;
const quoted = /^\s*(\d+)\s*\|\s?(.*)$/;

/** gcc's "file:line:col: error: message" lines, each with the source line gcc quotes after it. */
export function parseCompilerErrors(lines: string[], relativeTo?: string): CompilerError[] {
	const errors: CompilerError[] = [];
	lines.forEach((text, index) => {
		const match = diagnostic.exec(text.trim());
		if (!match) return;
		// Inside the project a path relative to it reads best; elsewhere, the full path.
		const inside = relativeTo && path.isAbsolute(match[1]!) && !path.relative(relativeTo, match[1]!).startsWith('..');
		const file = inside ? path.relative(relativeTo, match[1]!) : match[1]!;
		const next = quoted.exec(lines[index + 1] ?? '');
		errors.push({
			file,
			line: Number(match[2]),
			message: match[3]!,
			source: next && Number(next[1]) === Number(match[2]) ? next[2]!.trimEnd() : undefined,
		});
	});
	return errors;
}

export function formatCompilerError(error: CompilerError): string[] {
	const head = `${error.file}:${error.line}: ${error.message}`;
	return error.source === undefined ? [head] : [head, `    ${error.line} | ${error.source}`];
}
