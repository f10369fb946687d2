import fs from 'node:fs';
import path from 'node:path';

/**
 * What a C tree defines, read from its text: function definitions (a line that starts a
 * declaration and is not one, `name(` without a `;` at its end: both the kernel's and QEMU's style),
 * function pointers in structs (`(*probe)(`), macros (`#define NAME`) and enum constants. Also
 * every file's path and name, for the lessons' file references.
 */
export interface SourceIndex {
	root: string;
	files: Set<string>;
	fileNames: Set<string>;
	defined: Set<string>;
}

const cFile = /\.(c|h)$/;
/** A line that starts a declaration: every `name(` on it may be what it defines (a return type
 * wrapped in an attribute macro comes first: `void G_GNUC_PRINTF(2, 3) virtio_error(`). */
const declarationLine = /^[A-Za-z_][^\n]*$/gm;
const callLike = /\b([A-Za-z_]\w*)\s*\(/g;
const memberPointer = /\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(/g;
const macro = /^\s*#\s*define\s+([A-Za-z_]\w*)/gm;
const enumConstant = /^\s+([A-Z][A-Z0-9_]+)\s*(?:=[^,\n]*)?,?\s*(?:\/[/*].*)?$/gm;

function definitionsIn(text: string, into: Set<string>): void {
	for (const [line] of text.matchAll(declarationLine))
		if (!line.trimEnd().endsWith(';') && !/^(?:return|if|for|while|switch|else)\b/.test(line))
			for (const match of line.matchAll(callLike)) into.add(match[1]!);
	for (const match of text.matchAll(memberPointer)) into.add(match[1]!);
	for (const match of text.matchAll(macro)) into.add(match[1]!);
	for (const match of text.matchAll(enumConstant)) into.add(match[1]!);
}

/**
 * Indexes `root`: every file's path (all of it), and the definitions in the C files under
 * `cDirs` (relative folders or files; all of the tree when not given).
 */
export function indexTree(root: string, cDirs?: string[]): SourceIndex {
	const index: SourceIndex = {root, files: new Set(), fileNames: new Set(), defined: new Set()};
	const walk = (dir: string, rel: string) => {
		for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
			if (entry.name === '.git' || entry.name === 'node_modules') continue;
			const relPath = rel ? `${rel}/${entry.name}` : entry.name;
			if (entry.isDirectory()) {
				index.files.add(`${relPath}/`);
				walk(path.join(dir, entry.name), relPath);
			} else {
				index.files.add(relPath);
				index.fileNames.add(entry.name);
			}
		}
	};
	walk(root, '');
	const inScope = (file: string) =>
		!cDirs || cDirs.some(dir => file === dir || file.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
	for (const file of index.files)
		if (cFile.test(file) && inScope(file)) definitionsIn(fs.readFileSync(path.join(root, file), 'utf8'), index.defined);
	return index;
}

/** Whether `file` in the index defines the function `name` (not only declares or calls it). */
export function definesFunction(index: SourceIndex, file: string, name: string): boolean {
	const text = fs.readFileSync(path.join(index.root, file), 'utf8');
	const found = new Set<string>();
	definitionsIn(text, found);
	return found.has(name);
}
