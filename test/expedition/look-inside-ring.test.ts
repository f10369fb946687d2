import path from 'node:path';
import test from 'ava';
import type {RunEvent} from '../../source/runner/events.js';
import {Workbench} from '../../source/runner/workbench.js';
import {milestones} from '../../source/expedition/milestones.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {isAlive} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

test('look inside the ring: a real virtio-blk chain is header, data, status', async t => {
	const workbench = new Workbench({
		milestones,
		cacheDir: cacheRoot(),
		stateFile: path.join(tempDir(t), 'p.json'),
		keepVm: true,
	});
	t.teardown(() => workbench.dispose());
	let pid = 0;
	let latest: Extract<RunEvent, {type: 'virtio'}> | undefined;
	workbench.subscribe(event => {
		if (event.type === 'vm-started') pid = event.pid;
		if (event.type === 'virtio') latest = event;
	});
	const summary = await workbench.run('virtio-blk');
	t.true(summary.ok, JSON.stringify(summary.steps.filter(step => !step.ok)));
	workbench.setLookInside(true);
	const deadline = Date.now() + 10_000;
	let chain;
	while (Date.now() < deadline && !chain) {
		await new Promise(resolve => setTimeout(resolve, 250));
		chain = latest?.devices.find(device => device.name === 'virtio-blk')?.queues[0]?.ring;
	}
	t.truthy(chain, 'a sample carried the newest descriptor chain');
	// virtio-blk's request: a 16-byte header the device reads, data, a 1-byte status it writes.
	t.true(chain!.descriptors.length >= 3);
	t.is(chain!.descriptors[0]!.len, 16);
	t.false(chain!.descriptors[0]!.flags.includes('write'));
	t.is(chain!.descriptors.at(-1)!.len, 1);
	t.true(chain!.descriptors.at(-1)!.flags.includes('write'));
	await workbench.dispose();
	t.false(isAlive(pid));
});
