import path from 'node:path';
import test from 'ava';
import {milestones} from '../../source/expedition/milestones.js';
import type {Milestone} from '../../source/expedition/types.js';
import {allRequirements, baseRequirements, requirementsFor} from '../../source/lab/host/requirements.js';
import {Workbench} from '../../source/runner/workbench.js';
import {tempDir} from '../helpers/temp.js';

test("a milestone's host packages come from its data, on top of what every milestone needs", t => {
	const needs = requirementsFor({id: 'custom', packages: [{pkg: 'kc-example-tool', why: 'an example'}]});
	t.deepEqual(
		needs.slice(0, baseRequirements.length).map(r => r.pkg),
		baseRequirements.map(r => r.pkg),
	);
	t.deepEqual(needs.at(-1), {pkg: 'kc-example-tool', why: 'an example', only: ['custom']});
	t.deepEqual(
		requirementsFor({id: 'plain'}).map(r => r.pkg),
		baseRequirements.map(r => r.pkg),
	);
});

test("doctor's list names the milestones that need each package, from the expedition's data", t => {
	const all = allRequirements(milestones);
	const ninja = all.find(r => r.pkg === 'ninja-build');
	const qemuBuilders = milestones.filter(m => m.builds?.includes('qemu')).map(m => m.id);
	t.true(qemuBuilders.length > 0);
	t.deepEqual(ninja?.only, qemuBuilders, 'the milestones that build QEMU');
	t.is(all.find(r => r.pkg === 'build-essential')?.only, undefined, 'base packages: every milestone');
	t.deepEqual(all.find(r => r.pkg === 'gdb')?.only, ['kernelcraft gdb']);
	t.is(new Set(all.map(r => r.pkg)).size, all.length, 'each package once');
});

test("the workbench reads a milestone's needs from the data it is given", t => {
	const custom: Milestone = {
		id: 'custom',
		title: 'custom',
		summary: '',
		steps: [],
		packages: [{pkg: 'kc-no-such-package', why: 'never installed'}],
	};
	const dir = tempDir(t);
	const workbench = new Workbench({
		milestones: [custom],
		cacheDir: dir,
		stateFile: path.join(dir, 'p.json'),
		keepVm: true,
	});
	t.true(workbench.hostNeeds('custom').includes('kc-no-such-package'));
	t.deepEqual(workbench.hostNeeds('not-given'), [], 'a milestone it was not given needs nothing it knows of');
});
