import path from 'node:path';
import test from 'ava';
import type {PciIdentity} from '../../source/expedition/pci-identity.js';
import {startCli} from '../helpers/cli.js';
import {lessonPciIds, pciPairs} from '../helpers/lesson-pci.js';
import {isAlive} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

interface Movement {
	predicted: number;
	requests: number;
	kicks: number;
	interrupts: number;
}

// Real QEMU, real kernel, real disk: direct reads in the guest must show up in the host's queue.
test('run virtio-blk --json: N direct reads move the used index by N, with kicks and interrupts counted', async t => {
	const run = startCli(['run', 'virtio-blk', '--json'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'progress.json')});
	const code = await run.exit;
	const events = run.lines.map(line => JSON.parse(line) as Record<string, unknown>);
	t.is(code, 0, `failed: ${run.lines.filter(line => line.includes('"failed"')).join('\n')}${run.stderr.join('')}`);
	const summary = events.at(-1)!;
	t.true(summary.ok);
	for (const id of ['predict-small', 'predict-big']) {
		const moved = summary[id] as Movement;
		t.is(moved.requests, moved.predicted, `${id}: ${moved.requests} requests for ${moved.predicted} reads`);
		t.true(moved.kicks > 0 && moved.interrupts > 0, `${id}: kicks ${moved.kicks}, interrupts ${moved.interrupts}`);
	}
	const queue = summary.queue as {
		size: number;
		usedIdx: number;
		totals: {requests: number; kicks: number; interrupts: number};
	};
	t.is(queue.size, 256);
	// At least the predicted reads (32 + 8); mounting and the file checks add their own requests.
	t.true(queue.totals.requests >= 40);
	// The panel streamed samples during the run, and they named the device and its status.
	const samples = events.filter(event => event.type === 'virtio') as {
		devices: {name: string; status: string[]; queues: unknown[]}[];
	}[];
	const blk = samples.at(-1)!.devices.find(device => device.name === 'virtio-blk');
	t.truthy(blk);
	t.true(blk!.status.includes('DRIVER_OK'));
	// The guest's own count of the queue's interrupts, read over the side channel.
	const guestIrqs = summary.guestInterrupts as Record<string, number> | undefined;
	t.true(
		Object.keys(guestIrqs ?? {}).some(name => /virtio\d+-req/.test(name)),
		JSON.stringify(guestIrqs),
	);
	// Every PCI ID the lessons state is what the guest's config space shows for this disk.
	const pci = summary.pci as PciIdentity;
	t.is(pci.vendor, '1af4');
	const stated = lessonPciIds('virtio-blk');
	t.true(stated.length > 0, 'the lesson states the IDs');
	for (const id of stated)
		t.true(pciPairs(pci).includes(id), `the lesson says ${id}; the guest shows ${pciPairs(pci).join(', ')}`);
	const started = events.find(event => event.type === 'vm-started')!;
	t.false(isAlive(started.pid as number));
});
