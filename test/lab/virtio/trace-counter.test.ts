import {appendFile, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {projectRoot} from '../../../source/lab/paths.js';
import {QmpClient} from '../../../source/lab/vm/qmp.js';
import {TraceCounter} from '../../../source/lab/virtio/trace-counter.js';
import {enableTraceEventsViaQmp, qemuTraceArgs, traceEvents} from '../../../source/lab/virtio/trace-events.js';
import {startQemu, virtioDevices} from '../../helpers/qemu.js';

// Both fixtures are real QEMU 7.2 logs (-trace 'virtio_*' -trace 'virtqueue_*') of Debian's 6.1
// kernel probing virtio-blk-pci (raw file) + virtio-rng-pci, then reading 50 x 4 KiB from
// /dev/vda with O_DIRECT and 5 x 64 B from /dev/hwrng; cut before the final reboot's resets.
// The guest's /proc/interrupts said virtio0-req.0: 53 in both runs.
const fixtures = path.join(projectRoot, 'test/lab/virtio/fixtures');
const onLog = () => readFile(path.join(fixtures, 'trace-ioeventfd-on.log'), 'utf8');
const offLog = () => readFile(path.join(fixtures, 'trace-ioeventfd-off.log'), 'utf8');

const blkPath = '/machine/peripheral-anon/device[0]/virtio-backend';
const rngPath = '/machine/peripheral-anon/device[1]/virtio-backend';

test('ioeventfd on: kicks from virtio_queue_notify (coalesced), interrupts from virtio_notify_irqfd/virtio_notify', async t => {
	const counter = new TraceCounter('/unused');
	counter.feed(await onLog());
	const byVq = new Map(counter.queues().map(q => [q.vq, q]));
	t.like(byVq.get('0x7f7319e46010'), {
		vdev: '0x559fd3f13bd0',
		index: 0,
		kicks: 56,
		interrupts: 53,
		flushed: 54,
		flushedSinceReset: 53,
	});
	t.like(byVq.get('0x7f7318cfe010'), {
		vdev: '0x559fd402c490',
		index: 0,
		kicks: 12,
		interrupts: 11,
		flushed: 11,
		flushedSinceReset: 11,
	});
	t.is(counter.pciNotifyWrites.size, 0, 'with ioeventfd the notify register write handler never runs');
});

test('ioeventfd off: one virtio_queue_notify per guest kick, virtio_notify for every interrupt', async t => {
	const counter = new TraceCounter('/unused');
	counter.feed(await offLog());
	const byVq = new Map(counter.queues().map(q => [q.vq, q]));
	t.like(byVq.get('0x7f742a2b7010'), {vdev: '0x55aa52050960', index: 0, kicks: 54, interrupts: 53, flushed: 54});
	t.like(byVq.get('0x7f742a290010'), {vdev: '0x55aa521697c0', index: 0, kicks: 11, interrupts: 11, flushed: 11});
	t.deepEqual([...counter.pciNotifyWrites], [[0, 65]]); // 54 + 11 guest writes, no device pointer
});

test('feeding in arbitrary pieces counts the same as feeding whole', async t => {
	const text = await onLog();
	const whole = new TraceCounter('/unused');
	whole.feed(text);
	const pieces = new TraceCounter('/unused');
	for (let i = 0; i < text.length;) {
		const size = 1 + ((i * 7919) % 97);
		pieces.feed(text.slice(i, i + size));
		i += size;
	}
	t.deepEqual(pieces.queues(), whole.queues());
	t.is(pieces.linesParsed, whole.linesParsed);
});

test('timestamped lines (-msg timestamp=on) parse too', t => {
	const counter = new TraceCounter('/unused');
	counter.feed('1234@1700000000.123456:virtio_queue_notify vdev 0x55 n 1 vq 0x77\n');
	counter.feed('1234@1700000000.123460:virtio_notify vdev 0x55 vq 0x77\n');
	t.like(counter.queues()[0], {vq: '0x77', vdev: '0x55', index: 1, kicks: 1, interrupts: 1});
});

test('name hints map pointers to QOM paths at once when each device type is unique', async t => {
	const counter = new TraceCounter('/unused');
	counter.feed(await onLog()); // has virtio_blk_* and virtio_rng_* lines
	counter.correlate([
		{path: blkPath, name: 'virtio-blk', index: 0, usedIdx: 0},
		{path: rngPath, name: 'virtio-rng', index: 0, usedIdx: 0},
	]);
	t.is(counter.pathOf('0x559fd3f13bd0'), blkPath);
	t.is(counter.pathOf('0x559fd402c490'), rngPath);
	t.like(counter.countsFor(blkPath, 0), {kicks: 56, interrupts: 53});
	t.is(counter.countsFor(blkPath, 1), undefined);
});

test('used-idx correlation maps pointers when names cannot, after two agreeing samples', async t => {
	const text = (await offLog())
		.split('\n')
		.filter(line => !/^virtio_(blk|rng)_/.test(line))
		.join('\n');
	const counter = new TraceCounter('/unused');
	counter.feed(text + '\n');
	// two devices of the same name: names cannot tell them apart
	const samples = [
		{path: blkPath, name: 'virtio-x', index: 0, usedIdx: 53},
		{path: rngPath, name: 'virtio-x', index: 0, usedIdx: 11},
	];
	counter.correlate(samples);
	t.is(counter.pathOf('0x55aa52050960'), undefined, 'one agreeing sample is not enough');
	counter.correlate(samples);
	t.is(counter.pathOf('0x55aa52050960'), blkPath);
	t.is(counter.pathOf('0x55aa521697c0'), rngPath);
	t.like(counter.countsFor(rngPath, 0), {kicks: 11, interrupts: 11});
});

test('used-idx correlation refuses ambiguous matches', async t => {
	const counter = new TraceCounter('/unused');
	counter.feed('virtio_queue_notify vdev 0xa n 0 vq 0x1a\nvirtqueue_flush vq 0x1a count 5\n');
	counter.feed('virtio_queue_notify vdev 0xb n 0 vq 0x1b\nvirtqueue_flush vq 0x1b count 5\n');
	const samples = [
		{path: '/a', name: 'n', index: 0, usedIdx: 5},
		{path: '/b', name: 'n', index: 0, usedIdx: 5},
	];
	counter.correlate(samples);
	counter.correlate(samples);
	t.is(counter.pathOf('0xa'), undefined);
	t.is(counter.pathOf('0xb'), undefined);
	// a reset (status 0) of one device makes them different
	counter.feed('virtio_set_status vdev 0xb val 0\nvirtqueue_flush vq 0x1b count 2\n');
	const after = [
		{path: '/a', name: 'n', index: 0, usedIdx: 5},
		{path: '/b', name: 'n', index: 0, usedIdx: 2},
	];
	counter.correlate(after);
	counter.correlate(after);
	t.is(counter.pathOf('0xa'), '/a');
	t.is(counter.pathOf('0xb'), '/b');
});

test('poll() tails the file incrementally, across partial lines, and restarts when it shrinks', async t => {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-trace-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const file = path.join(dir, 'trace.log');
	const counter = new TraceCounter(file, {maxBytesPerPoll: 1000});
	t.is(await counter.poll(), 0, 'missing file reads as empty');
	const text = await onLog();
	const cut = 20_011; // inside a line
	await writeFile(file, text.slice(0, cut));
	while ((await counter.poll()) > 0);
	await appendFile(file, text.slice(cut));
	while ((await counter.poll()) > 0);
	const whole = new TraceCounter('/unused');
	whole.feed(text);
	t.deepEqual(counter.queues(), whole.queues());
	// concurrent polls join
	const [a, b] = [counter.poll(), counter.poll()];
	t.is(a, b);
	await a;
	// QEMU restarted with the same -D file: it was truncated
	await writeFile(file, 'virtio_queue_notify vdev 0x1 n 0 vq 0x2\n');
	await counter.poll();
	t.deepEqual(
		counter.queues().map(q => [q.vq, q.kicks]),
		[['0x2', 1]],
	);
});

test('qemuTraceArgs', t => {
	t.deepEqual(qemuTraceArgs('/tmp/x.log').slice(0, 4), ['-D', '/tmp/x.log', '-trace', 'virtio_queue_notify']);
	t.is(qemuTraceArgs('/tmp/x.log', ['virtio_blk_req_complete']).length, 2 + 2 * (traceEvents.length + 1));
});

test('real QEMU: the trace events exist, log to the -D file, and can be switched at run time', async t => {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-trace-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const log = path.join(dir, 'trace.log');
	const qemu = await startQemu(t, {dir, args: [...virtioDevices, ...qemuTraceArgs(log)]});
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	for (const name of traceEvents) {
		const [state] = await qmp.execute<{name: string; state: string}[]>('trace-event-get-state', {name});
		t.is(state?.state, 'enabled', name);
	}
	await enableTraceEventsViaQmp(qmp, ['virtio_blk_req_complete']);
	const counter = new TraceCounter(log);
	const reset = qmp.waitForEvent('RESET', {timeoutMs: 5000});
	await qmp.execute('system_reset');
	await reset;
	// a machine reset resets every virtio device: virtio_set_status ... val 0 for each
	let lines = 0;
	for (let i = 0; i < 50 && lines === 0; i++) {
		lines += await counter.poll();
		if (lines === 0) await new Promise(resolve => setTimeout(resolve, 50));
	}
	t.true(counter.linesParsed >= 2, `parsed ${counter.linesParsed} lines`);
	t.is(counter.linesIgnored, 0);
	const text = await readFile(log, 'utf8');
	t.regex(text, /^virtio_set_status vdev 0x[0-9a-f]+ val 0$/m);
});
