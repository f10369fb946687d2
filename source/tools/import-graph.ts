// The import graph of source/, file by file, and the cycles in it. Run after a build:
//
//   node dist/source/tools/import-graph.js            every edge, grouped by folder, then the cycles
//   node dist/source/tools/import-graph.js --cycles   the cycles (and layer climbs) only
//
// It exits with 1 when there is a cycle or an import that climbs a layer;
// test/tools/import-graph.test.ts asserts there is neither.
//
// Type-only imports count as edges: `import type` is erased from the JavaScript, but the two
// files still depend on each other's definitions, and a type cycle is the same tangle to read and
// to move as a value cycle. Dynamic `import()` and `import('x').T` type references count too.
// Only edges between files of source/ are kept (packages and node: modules are not part of it).
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import ts from 'typescript';

export interface ImportEdge {
	/** Both relative to the source root, with forward slashes: "lab/session.ts". */
	from: string;
	to: string;
	/** Every import of `to` in `from` is type-only (erased from the JavaScript). */
	typeOnly: boolean;
}

/** From dist/source/tools/ (compiled) up to the repository. */
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const sourceRoot = path.join(repositoryRoot, 'source');

const sourceExtensions = ['.ts', '.tsx', '.mts', '.mjs', '.js'];

function sourceFiles(dir: string): string[] {
	return fs
		.readdirSync(dir, {withFileTypes: true})
		.flatMap(entry => {
			const full = path.join(dir, entry.name);
			if (entry.isDirectory()) return sourceFiles(full);
			return sourceExtensions.includes(path.extname(entry.name)) && !entry.name.endsWith('.d.ts') ? [full] : [];
		})
		.sort();
}

/** The specifiers a file imports, each with whether that import is type-only. */
export function importsOf(
	file: string,
	text = fs.readFileSync(file, 'utf8'),
): {specifier: string; typeOnly: boolean}[] {
	const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
	const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
	const found: {specifier: string; typeOnly: boolean}[] = [];
	const visit = (node: ts.Node): void => {
		if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
			const clause = node.importClause;
			const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings : undefined;
			const typeOnly =
				clause !== undefined &&
				(clause.isTypeOnly ||
					(!clause.name &&
						named !== undefined &&
						named.elements.length > 0 &&
						named.elements.every(e => e.isTypeOnly)));
			found.push({specifier: node.moduleSpecifier.text, typeOnly});
		} else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
			found.push({specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly});
		} else if (
			ts.isCallExpression(node) &&
			node.expression.kind === ts.SyntaxKind.ImportKeyword &&
			node.arguments[0] &&
			ts.isStringLiteral(node.arguments[0])
		) {
			found.push({specifier: node.arguments[0].text, typeOnly: false});
		} else if (
			ts.isImportTypeNode(node) &&
			ts.isLiteralTypeNode(node.argument) &&
			ts.isStringLiteral(node.argument.literal)
		) {
			found.push({specifier: node.argument.literal.text, typeOnly: true});
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return found;
}

/** The file a relative specifier names ("./x.js" is x.ts in the sources), if it is one of `files`. */
function resolve(from: string, specifier: string, files: Set<string>): string | undefined {
	if (!specifier.startsWith('.')) return undefined;
	const target = path.resolve(path.dirname(from), specifier);
	const stem = target.replace(/\.(m?js|jsx)$/, '');
	const candidates = [target, ...['.ts', '.tsx', '.mts'].map(ext => stem + ext), path.join(target, 'index.ts')];
	return candidates.find(candidate => files.has(candidate));
}

/** Every import edge between the files under `root` (source/ by default). */
export function importGraph(root = sourceRoot): ImportEdge[] {
	const files = sourceFiles(root);
	const known = new Set(files);
	const rel = (file: string) => path.relative(root, file).split(path.sep).join('/');
	const edges = new Map<string, ImportEdge>();
	for (const file of files)
		for (const {specifier, typeOnly} of importsOf(file)) {
			const target = resolve(file, specifier, known);
			if (!target) continue;
			const key = `${file}\0${target}`;
			const seen = edges.get(key);
			if (seen) seen.typeOnly &&= typeOnly;
			else edges.set(key, {from: rel(file), to: rel(target), typeOnly});
		}
	return [...edges.values()];
}

/** Edges as adjacency lists: each file and the files it imports. */
export function adjacency(edges: readonly ImportEdge[]): Map<string, string[]> {
	const graph = new Map<string, string[]>();
	for (const {from, to} of edges) {
		graph.set(from, [...(graph.get(from) ?? []), to]);
		if (!graph.has(to)) graph.set(to, []);
	}
	return graph;
}

/**
 * The cycles of a graph: one per strongly connected component that has one (Tarjan's algorithm),
 * each given as a path that closes on its first file: ["a", "b", "a"].
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
	const index = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const components: string[][] = [];
	let next = 0;
	const connect = (node: string): void => {
		index.set(node, next);
		low.set(node, next);
		next++;
		stack.push(node);
		onStack.add(node);
		for (const to of graph.get(node) ?? []) {
			if (!index.has(to)) {
				connect(to);
				low.set(node, Math.min(low.get(node)!, low.get(to)!));
			} else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
		}
		if (low.get(node) !== index.get(node)) return;
		const component: string[] = [];
		let member: string;
		do {
			member = stack.pop()!;
			onStack.delete(member);
			component.push(member);
		} while (member !== node);
		const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node);
		if (component.length > 1 || selfLoop) components.push(component);
	};
	for (const node of graph.keys()) if (!index.has(node)) connect(node);
	return components.map(component => cycleThrough(graph, new Set(component)));
}

/** One cycle inside a strongly connected component, from its first file (in sorted order) back to it. */
function cycleThrough(graph: ReadonlyMap<string, readonly string[]>, members: Set<string>): string[] {
	const start = [...members].sort()[0]!;
	// Breadth first from the start, inside the component, until an edge leads back to it.
	const cameFrom = new Map<string, string>();
	const queue = [start];
	for (let i = 0; i < queue.length; i++) {
		const node = queue[i]!;
		for (const to of graph.get(node) ?? []) {
			if (!members.has(to)) continue;
			if (to === start) {
				const cycle = [node];
				while (cycle[0] !== start) cycle.unshift(cameFrom.get(cycle[0]!)!);
				return [...cycle, start];
			}
			if (!cameFrom.has(to)) {
				cameFrom.set(to, node);
				queue.push(to);
			}
		}
	}
	return [start, start];
}

/** The layers, bottom first: a layer imports from itself and from those below it. */
const layerOrder = ['lab', 'expedition', 'runner', 'cli'] as const;

/**
 * The edges that break the layering (cli -> runner -> expedition -> lab; ui beside cli, taking
 * only runner's types): the lint rule says the same of static imports, this sees every edge,
 * dynamic `import()` included. Files outside the layers (source/tools) are not judged.
 */
export function layerViolations(edges: readonly ImportEdge[]): ImportEdge[] {
	const layerOf = (file: string) => (file === 'cli.ts' ? 'cli' : folderOf(file));
	const rank = (layer: string) => layerOrder.indexOf(layer as (typeof layerOrder)[number]);
	return edges.filter(edge => {
		const [from, to] = [layerOf(edge.from), layerOf(edge.to)];
		if (from === to) return false;
		if (from === 'ui') return !(to === 'runner' && edge.typeOnly);
		if (to === 'ui') return from !== 'cli';
		return rank(from) >= 0 && rank(to) > rank(from);
	});
}

/** The folder an edge is listed under: the top folder of its importing file ("lab", "ui"), or "." for source/'s own. */
const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '.');

export function printGraph(edges: readonly ImportEdge[], cyclesOnly = false): string {
	const lines: string[] = [];
	if (!cyclesOnly) {
		const folders = [...new Set(edges.map(edge => folderOf(edge.from)))].sort();
		for (const folder of folders) {
			lines.push(`${folder}:`);
			for (const edge of edges.filter(edge => folderOf(edge.from) === folder))
				lines.push(`  ${edge.from} -> ${edge.to}${edge.typeOnly ? ' (type)' : ''}`);
		}
	}
	const cycles = findCycles(adjacency(edges));
	lines.push(cycles.length === 0 ? 'cycles: none' : `cycles: ${cycles.length}`);
	for (const cycle of cycles) lines.push(`  ${cycle.join(' -> ')}`);
	const climbs = layerViolations(edges);
	lines.push(climbs.length === 0 ? 'layer climbs: none' : `layer climbs: ${climbs.length}`);
	for (const edge of climbs) lines.push(`  ${edge.from} -> ${edge.to}${edge.typeOnly ? ' (type)' : ''}`);
	return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
	const edges = importGraph();
	process.stdout.write(`${printGraph(edges, process.argv.includes('--cycles'))}\n`);
	process.exitCode = findCycles(adjacency(edges)).length > 0 || layerViolations(edges).length > 0 ? 1 : 0;
}
