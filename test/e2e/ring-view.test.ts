import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type {RunEvent} from '../../source/runner/events.js';
import {Workbench} from '../../source/runner/workbench.js';
import {milestones} from '../../source/expedition/milestones.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {isAlive} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

// "Look inside the ring" on Debian's stock QEMU 7.2, whose x-query-virtio-queue-element can mark a
// device broken when asked about a chain the guest has already reclaimed (the view reads guest
// memory instead, and must never use that query on its own). The view is on from the
// start, sampling as fast as a sample can go, while the guest keeps virtio-blk busy with reads and
// writes of several sizes. The device must never say NEEDS_RESET and QEMU must never print
// "Desc next" (what virtio_error() says for a chain it could not walk).
test('the ring view on virtio-blk under guest I/O, sampled as fast as it goes: the device stays healthy', async t => {
	const workbench = new Workbench({
		milestones,
		cacheDir: cacheRoot(),
		stateFile: path.join(tempDir(t), 'p.json'),
		keepVm: true,
		panelIntervalMs: 10,
	});
	t.teardown(() => workbench.dispose());
	let vm: {pid: number; runDir: string} | undefined;
	const statuses = new Set<string>();
	let samples = 0;
	let chains = 0;
	const notPending: string[] = [];
	workbench.subscribe((event: RunEvent) => {
		if (event.type === 'vm-started') vm = {pid: event.pid, runDir: event.runDir};
		if (event.type !== 'virtio') return;
		samples++;
		for (const device of event.devices) {
			for (const status of device.status) statuses.add(`${device.name}: ${status}`);
			for (const queue of device.queues) {
				if (!queue.ring) continue;
				chains++;
				if (!queue.ring.pending) notPending.push(`${device.name} q${queue.index} @avail[${queue.ring.position}]`);
			}
		}
	});
	workbench.setLookInside(true);
	const summary = await workbench.run('virtio-blk');
	t.true(summary.ok, JSON.stringify(summary.steps.filter(step => !step.ok)));

	// More traffic after the milestone: reads and direct writes of 4 KiB to 256 KiB, for 10 s.
	const samplesBefore = samples;
	workbench.sendToConsole(
		'i=0; while [ $i -lt 400 ]; do dd if=/dev/vda of=/dev/null bs=$((4096 << (i % 7))) count=8 iflag=direct 2>/dev/null; dd if=/dev/zero of=/dev/vda bs=$((4096 << (i % 5))) count=4 seek=2048 oflag=direct 2>/dev/null; i=$((i+1)); done; echo kc-io-done\r',
	);
	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 250));
	t.log(`${samples} samples (${samples - samplesBefore} during the extra I/O), ${chains} chains shown`);
	t.true(samples - samplesBefore > 20, 'the panel kept sampling');

	t.deepEqual(
		[...statuses].filter(status => /NEEDS_RESET|FAILED/.test(status)),
		[],
		'no device reported NEEDS_RESET',
	);
	const consoleLog = fs.readFileSync(path.join(vm!.runDir, 'console.log'), 'utf8');
	t.notRegex(consoleLog, /Desc next|virtio: |Guest says index/, 'QEMU reported no broken chain');
	t.true(chains > 0, 'the view showed chains');
	t.log(`${notPending.length} of ${chains} chains shown were already taken by the device (read from guest memory)`);
	await workbench.dispose();
	t.false(isAlive(vm!.pid));
});
