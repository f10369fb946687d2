// The trace's per-request events are on only inside a counting window (PanelFeed.countKicks) when
// nobody watches the panel live, and the sampler halves its pace while the queues are idle.
import {appendFile, mkdtemp, rm, stat, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {cacheRoot} from '../../../source/lab/paths.js';
import {QmpClient, type QmpLike} from '../../../source/lab/vm/qmp.js';
import {parseGuestFrame} from '../../../source/lab/virtio/guest-stats.js';
import {VirtioSampler} from '../../../source/lab/virtio/sampler.js';
import {TraceCounter} from '../../../source/lab/virtio/trace-counter.js';
import {
	countingTraceEvents,
	mappingTraceEvents,
	qemuTraceArgs,
	setCountingEvents,
} from '../../../source/lab/virtio/trace-events.js';
import {idxDelta} from '../../../source/lab/virtio/wrap.js';
import {Session} from '../../../source/lab/session.js';
import {bootDiskVm} from '../../helpers/disk-vm.js';
import {startQemu, virtioDevices} from '../../helpers/qemu.js';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test('flush sums are unknown after a stretch with counting off: no used-idx correlation from them', t => {
	const counter = new TraceCounter('/unused');
	counter.feed('virtio_queue_notify vdev 0xa n 0 vq 0x1a\nvirtqueue_flush vq 0x1a count 5\n');
	counter.feed('virtio_queue_notify vdev 0xb n 0 vq 0x1b\nvirtqueue_flush vq 0x1b count 3\n');
	// The same lines, in a trace that started with counting off (flushes before them unseen).
	const off = new TraceCounter('/unused', {countingFromStart: false});
	off.feed('virtio_queue_notify vdev 0xa n 0 vq 0x1a\nvirtqueue_flush vq 0x1a count 5\n');
	off.feed('virtio_queue_notify vdev 0xb n 0 vq 0x1b\nvirtqueue_flush vq 0x1b count 3\n');
	const samples = [
		{path: '/a', name: 'n', index: 0, usedIdx: 5},
		{path: '/b', name: 'n', index: 0, usedIdx: 3},
	];
	for (const c of [counter, off]) {
		c.correlate(samples);
		c.correlate(samples);
	}
	t.is(counter.pathOf('0xa'), '/a', 'complete sums correlate');
	t.is(off.pathOf('0xa'), undefined, 'sums that may miss flushes do not');
	t.is(off.pathOf('0xb'), undefined);
});

test('elimination: the one unmapped vdev is the one unmapped path', t => {
	const counter = new TraceCounter('/unused', {countingFromStart: false});
	counter.feed('virtio_rng_vm_state_change rng 0xe0 running 1 state 9\n');
	counter.feed('virtio_queue_notify vdev 0xb0 n 0 vq 0x1b\nvirtio_notify vdev 0xb0 vq 0x1b\n');
	counter.correlate([
		{path: '/rng', name: 'virtio-rng', index: 0, usedIdx: 0},
		{path: '/blk', name: 'virtio-blk', index: 0, usedIdx: 40},
	]);
	t.is(counter.pathOf('0xe0'), '/rng', 'by its name hint');
	t.is(counter.pathOf('0xb0'), '/blk', 'the only one left');
	t.like(counter.countsFor('/blk', 0), {kicks: 1, interrupts: 1});
	// Two unmapped on each side: nothing is guessed.
	const two = new TraceCounter('/unused', {countingFromStart: false});
	two.feed('virtio_queue_notify vdev 0xa n 0 vq 0x1a\nvirtio_queue_notify vdev 0xb n 0 vq 0x1b\n');
	two.correlate([
		{path: '/a', name: 'n', index: 0, usedIdx: 1},
		{path: '/b', name: 'n', index: 0, usedIdx: 1},
	]);
	t.is(two.pathOf('0xa'), undefined);
});

test('poll() applies a counting switch at its offset: flushes after it in a reset-less stretch stay unknown', async t => {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-window-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const file = path.join(dir, 'trace.log');
	const first = 'virtio_queue_notify vdev 0xa n 0 vq 0x1a\nvirtqueue_flush vq 0x1a count 2\n';
	await writeFile(file, first);
	const counter = new TraceCounter(file);
	counter.countingSwitched(false, Buffer.byteLength(first));
	// A reset seen while counting is off: the flushes after it are not traced, so still unknown.
	await appendFile(file, 'virtio_set_status vdev 0xa val 0\n');
	await counter.poll();
	const size = (await stat(file)).size;
	counter.countingSwitched(true, size);
	await appendFile(file, 'virtqueue_flush vq 0x1a count 4\n');
	await counter.poll();
	const samples = [{path: '/a', name: 'n', index: 0, usedIdx: 4}];
	// One path and one vdev would bind by elimination; give a second unmapped path to test sums only.
	samples.push({path: '/z', name: 'n', index: 0, usedIdx: 0});
	counter.correlate(samples);
	counter.correlate(samples);
	t.is(counter.pathOf('0xa'), undefined);
	// A reset seen with counting on makes the sum complete again.
	await appendFile(file, 'virtio_set_status vdev 0xa val 0\nvirtqueue_flush vq 0x1a count 7\n');
	await counter.poll();
	const later = [
		{path: '/a', name: 'n', index: 0, usedIdx: 7},
		{path: '/z', name: 'n', index: 0, usedIdx: 0},
	];
	counter.correlate(later);
	counter.correlate(later);
	t.is(counter.pathOf('0xa'), '/a');
});

test('countingStretch: two polls in the same unbroken stretch of counting, or not', async t => {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-window-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const file = path.join(dir, 'trace.log');
	await writeFile(file, 'virtio_queue_notify vdev 0xa n 0 vq 0x1a\n');
	const counter = new TraceCounter(file, {countingFromStart: false});
	await counter.poll();
	t.is(counter.countingStretch, undefined, 'off from the start');
	counter.countingSwitched(true, (await stat(file)).size);
	await appendFile(file, 'virtio_queue_notify vdev 0xa n 0 vq 0x1a\n');
	await counter.poll();
	const first = counter.countingStretch;
	t.not(first, undefined);
	await appendFile(file, 'virtio_queue_notify vdev 0xa n 0 vq 0x1a\n');
	await counter.poll();
	t.is(counter.countingStretch, first, 'still the same stretch: the interval between the polls is whole');
	// Off and on again between two polls: on at both, but not throughout.
	counter.countingSwitched(false, (await stat(file)).size);
	counter.countingSwitched(true, (await stat(file)).size);
	await appendFile(file, 'virtio_queue_notify vdev 0xa n 0 vq 0x1a\n');
	await counter.poll();
	t.not(counter.countingStretch, undefined);
	t.not(counter.countingStretch, first);
	counter.countingSwitched(false, (await stat(file)).size);
	await counter.poll();
	t.is(counter.countingStretch, undefined);
});

/** One device, one queue; `used` is what QEMU answers. */
class OneQueueQmp implements QmpLike {
	used = 0;
	async execute<T>(command: string): Promise<T> {
		const answers: Record<string, unknown> = {
			'x-query-virtio': [{path: '/machine/peripheral/d0/virtio-backend', name: 'virtio-blk'}],
			'x-query-virtio-status': {status: {statuses: []}, 'num-vqs': 1},
			'x-query-virtio-queue-status': {
				'queue-index': 0,
				'vring-num': 256,
				'vring-desc': 4096,
				'shadow-avail-idx': this.used,
				'last-avail-idx': this.used,
				'used-idx': this.used,
				inuse: 0,
			},
		};
		return answers[command] as T;
	}
}

test('the sampler halves its pace while no index moves, and is back at its rate the sample one moves', async t => {
	const qmp = new OneQueueQmp();
	const sampler = new VirtioSampler(qmp as unknown as QmpLike, {intervalMs: 250});
	t.is(sampler.currentIntervalMs, 250);
	await sampler.sample(); // first sample: everything is new
	t.is(sampler.currentIntervalMs, 250);
	await sampler.sample();
	t.is(sampler.currentIntervalMs, 500, 'idle: 2 Hz');
	qmp.used = 3;
	await sampler.sample();
	t.is(sampler.currentIntervalMs, 250, 'moving: 4 Hz');
	await sampler.sample();
	t.is(sampler.currentIntervalMs, 500);
});

test('real QEMU: started with counting off, only the mapping events are on; QMP switches the rest', async t => {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-window-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const log = path.join(dir, 'trace.log');
	const qemu = await startQemu(t, {dir, args: [...virtioDevices, ...qemuTraceArgs(log, [], {counting: false})]});
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const state = async (name: string) =>
		(await qmp.execute<{name: string; state: string}[]>('trace-event-get-state', {name}))[0]?.state;
	for (const name of countingTraceEvents) t.is(await state(name), 'disabled', name);
	for (const name of mappingTraceEvents) t.is(await state(name), 'enabled', name);
	await setCountingEvents(qmp, true);
	for (const name of countingTraceEvents) t.is(await state(name), 'enabled', name);
	await setCountingEvents(qmp, false);
	for (const name of countingTraceEvents) t.is(await state(name), 'disabled', name);
});

// Real kernel, real disk, headless panel (as `run` has it): the trace grows only inside a window,
// and counts there are exact.
test.serial('real VM: no trace outside a counting window, exact counts inside, 2 Hz while idle', async t => {
	const cacheDir = cacheRoot();
	const session = new Session({cacheDir}, () => {});
	t.teardown(() => session.dispose());
	const {traceState: state, sh, traceLog} = await bootDiskVm(t, session, 'test-window');
	const panel = session.panel!;
	const size = async () => (await stat(traceLog)).size;
	const guestIrqs = async () => {
		const {interrupts} = parseGuestFrame((await sh('grep virtio /proc/interrupts')).split('\n'));
		const name = Object.keys(interrupts).find(key => /^virtio\d+-req\.0$/.test(key));
		if (!name) throw new Error(`no virtio request queue in /proc/interrupts: ${JSON.stringify(interrupts)}`);
		return interrupts[name]!;
	};

	// Outside a window: off, and guest I/O writes nothing.
	t.is(await state(), 'disabled');
	t.false(panel.counting);
	const before = await size();
	await sh('dd if=/dev/vda of=/dev/null bs=4096 count=64 iflag=direct 2>/dev/null');
	await panel.sampleNow();
	t.is(await size(), before, 'the trace log did not grow during 64 reads outside a window');

	// Inside: on, and exact.
	const counted = await panel.countKicks(async () => {
		t.is(await state(), 'enabled');
		const blk = async () => (await panel.sampleNow()).find(device => device.name === 'virtio-blk')!.queues[0]!;
		const first = await blk();
		const irqsBefore = await guestIrqs();
		await sh('dd if=/dev/vda of=/dev/null bs=4096 count=32 skip=100 iflag=direct 2>/dev/null');
		const irqsAfter = await guestIrqs();
		const last = await blk();
		return {
			requests: idxDelta(first.usedIdx, last.usedIdx),
			kicks: (last.totals.kicks ?? 0) - (first.totals.kicks ?? 0),
			interrupts: (last.totals.interrupts ?? 0) - (first.totals.interrupts ?? 0),
			guestInterrupts: irqsAfter - irqsBefore,
		};
	});
	t.is(counted.requests, 32);
	t.is(counted.kicks, 32, 'one kick per request: ioeventfd=off, one request in flight');
	t.is(counted.interrupts, counted.guestInterrupts, "QEMU's interrupts = the guest's /proc/interrupts");
	t.true(counted.interrupts >= 1);
	t.is(await state(), 'disabled', 'off again once the window closed');
	const afterWindow = await size();
	t.true(afterWindow > before, 'the window wrote lines');
	await sh('dd if=/dev/vda of=/dev/null bs=4096 count=64 skip=200 iflag=direct 2>/dev/null');
	await panel.sampleNow();
	t.is(await size(), afterWindow, 'and nothing after it');

	// Idle: 2 Hz. Counts over 4 s, with room for a slow machine; 4 Hz would give about 16.
	await sleep(1500);
	const start = panel.sampling.samples;
	await sleep(4000);
	const taken = panel.sampling.samples - start;
	t.is(panel.sampling.intervalMs, 500);
	t.true(taken >= 4 && taken <= 11, `${taken} samples in 4 s of idle`);
});
