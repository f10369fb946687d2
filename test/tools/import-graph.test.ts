import path from 'node:path';
import test from 'ava';
import {ESLint} from 'eslint';
import {projectRoot} from '../../source/lab/paths.js';
import {adjacency, findCycles, importGraph, layerViolations, type ImportEdge} from '../../source/tools/import-graph.js';

// The layers (cli -> runner -> expedition -> lab; ui beside cli, taking runner's types only) and
// the import graph of source/. Type-only imports count as edges here: a cycle of types is still a
// cycle to untangle (see source/tools/import-graph.ts).

const rule = '@typescript-eslint/no-restricted-imports';
const eslint = new ESLint({
	cwd: projectRoot,
	overrideConfigFile: path.join(projectRoot, 'source', 'tools', 'eslint.config.mjs'),
});

/** The messages of the layer rule for `code` as if it were the file at `filePath`. */
async function layerReports(filePath: string, code: string): Promise<string[]> {
	const [result] = await eslint.lintText(code, {filePath});
	return result!.messages.filter(message => message.ruleId === rule).map(message => message.message);
}

test('source/ has no import cycle, type-only imports included', t => {
	const edges = importGraph();
	t.true(edges.length > 100, `the graph was read (${edges.length} edges)`);
	t.true(
		edges.some(edge => edge.typeOnly),
		'type-only imports are edges too',
	);
	t.deepEqual(findCycles(adjacency(edges)), []);
});

test('no import in source/ climbs a layer (dynamic imports included)', t => {
	const climbs = layerViolations(importGraph()).map(edge => `${edge.from} -> ${edge.to}`);
	t.deepEqual(climbs, []);
});

test('the cycle finder finds the cycles of a made-up graph', t => {
	const graph = new Map([
		['a.ts', ['b.ts']],
		['b.ts', ['c.ts']],
		['c.ts', ['a.ts', 'd.ts']],
		['d.ts', []],
		['e.ts', ['e.ts']],
	]);
	const cycles = findCycles(graph);
	t.is(cycles.length, 2);
	t.true(cycles.some(cycle => cycle.join(' ') === 'a.ts b.ts c.ts a.ts'));
	t.true(cycles.some(cycle => cycle.join(' ') === 'e.ts e.ts'));
	t.deepEqual(findCycles(new Map([['a.ts', ['b.ts']]])), []);
});

test('the layer check judges edges as the rule says', t => {
	const edge = (from: string, to: string, typeOnly = false): ImportEdge => ({from, to, typeOnly});
	const climbs = layerViolations([
		edge('lab/session.ts', 'runner/events.ts', true),
		edge('expedition/walk-step.ts', 'runner/x.ts'),
		edge('runner/workbench.ts', 'ui/state.ts', true),
		edge('ui/state.ts', 'runner/events.ts'),
		edge('ui/state.ts', 'lab/session.ts', true),
		// Allowed: downward, ui's runner types, cli's ui, a folder's own.
		edge('runner/workbench.ts', 'lab/session.ts'),
		edge('ui/state.ts', 'runner/guide.ts', true),
		edge('cli/tui.ts', 'ui/render-app.tsx'),
		edge('cli.ts', 'cli/main.ts'),
		edge('lab/session.ts', 'lab/vm/qemu-vm.ts'),
	]);
	t.deepEqual(
		climbs.map(climb => climb.from + ' -> ' + climb.to),
		[
			'lab/session.ts -> runner/events.ts',
			'expedition/walk-step.ts -> runner/x.ts',
			'runner/workbench.ts -> ui/state.ts',
			'ui/state.ts -> runner/events.ts',
			'ui/state.ts -> lab/session.ts',
		],
	);
});

test('the lint rule reports an import that climbs a layer', async t => {
	const climbing: [file: string, code: string, says: RegExp][] = [
		['source/lab/x.ts', "import {a} from '../runner/x.js';\n", /lab is the bottom layer: it never imports runner/],
		[
			'source/lab/debug/x.ts',
			"import type {a} from '../../runner/x.js';\n",
			/lab is the bottom layer: it never imports runner/,
		],
		['source/lab/x.ts', "import {a} from '../expedition/x.js';\n", /never imports expedition/],
		['source/lab/x.ts', "import {a} from '../cli.js';\n", /never imports cli/],
		[
			'source/expedition/x.ts',
			"import {a} from '../runner/events.js';\n",
			/expedition sits on lab only: it never imports runner/,
		],
		[
			'source/runner/x.ts',
			"import {a} from '../cli/args.js';\n",
			/runner sits on expedition and lab: it never imports cli/,
		],
		['source/runner/x.ts', "import {a} from '../ui/state.js';\n", /never imports ui/],
		['source/ui/x.ts', "import {a} from '../runner/events.js';\n", /ui takes only runner's types/],
		['source/ui/components/x.tsx', "import {a} from '../../lab/session.js';\n", /never imports lab/],
		['source/lab/x.ts', "import {Box} from 'ink';\n", /React and Ink are the UI's/],
		['source/runner/x.ts', "import {useState} from 'react';\n", /React and Ink are the UI's/],
		['source/cli/x.ts', "import SelectInput from 'ink-select-input';\n", /React and Ink are the UI's/],
	];
	for (const [file, code, says] of climbing) {
		const reports = await layerReports(file, `${code}export const b = 1;\n`);
		t.is(reports.length, 1, `${file}: ${code.trim()}`);
		t.regex(reports[0] ?? '', says);
	}
});

test('the lint rule lets downward and own-folder imports through, and ui take runner types', async t => {
	const allowed: [file: string, code: string][] = [
		['source/lab/x.ts', "import {a} from './vm/qemu-vm.js';\n"],
		['source/expedition/x.ts', "import {a} from '../lab/session.js';\n"],
		['source/runner/x.ts', "import {a} from '../expedition/types.js';\n"],
		['source/runner/x.ts', "import {a} from '../lab/debug/guest-debugger.js';\n"],
		['source/cli/x.ts', "import {a} from '../runner/workbench.js';\n"],
		['source/cli/x.ts', "import {a} from '../ui/render-app.js';\n"],
		['source/ui/components/x.tsx', "import type {a} from '../../runner/events.js';\n"],
		['source/ui/x.ts', "import {Box} from 'ink';\n"],
	];
	for (const [file, code] of allowed) t.deepEqual(await layerReports(file, code), [], `${file}: ${code.trim()}`);
});
