import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {TraceCounter, qemuTraceArgs} from '../../source/lab/virtio/trace-counter.js';
import type {QmpClient} from '../../source/lab/vm/qmp.js';
import {QmpError} from '../../source/lab/vm/qmp.js';
import {bootRawVm, qemuSaid, type RawVm} from '../helpers/raw-vm.js';
import {tempDir} from '../helpers/temp.js';

// The QEMU side of virtio-hello against a hostile guest. No Linux driver: the guest runs
// devices/virtio-hello/test/vh-raw.c, a user-space virtio-pci driver that does exactly what a
// scenario says (including what the spec forbids) and never recovers on its own, so what the
// device answered (the status byte, DEVICE_NEEDS_RESET) stays there for QMP to read.
// KERNELCRAFT_DEVICE_TEST_QEMU runs them against another QEMU binary (one built before a fix,
// to see the test fail).

const backend = (id: string) => `/machine/peripheral/${id}/virtio-backend`;

/** Starts vh-raw in the background; resolves with its output once `until` appears (or 10 s). */
async function raw({sh}: RawVm, pci: string, scenario: string, until: string): Promise<string> {
	await sh(
		`rm -f /tmp/go /tmp/raw.out; (vh-raw ${pci} ${scenario} /tmp/go > /tmp/raw.out 2>&1; echo "rc $?" >> /tmp/raw.out) &`,
	);
	return rawOutput({sh} as RawVm, until);
}

async function rawOutput({sh}: RawVm, until: string): Promise<string> {
	return (
		await sh(
			`i=0; while ! grep -q '${until}' /tmp/raw.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; cat /tmp/raw.out`,
		)
	).output;
}

/** Lets vh-raw finish: it resets the device, which forgets the ring. */
async function release(guest: RawVm): Promise<string> {
	await guest.sh('touch /tmp/go');
	return rawOutput(guest, '^rc ');
}

interface VirtioStatus {
	broken: boolean;
	status: {statuses: string[]};
}

async function deviceStatus(qmp: QmpClient, id: string): Promise<{broken: boolean; needsReset: boolean}> {
	const status = await qmp.execute<VirtioStatus>('x-query-virtio-status', {path: backend(id)});
	return {
		broken: status.broken,
		needsReset: status.status.statuses.some(s => s.startsWith('VIRTIO_CONFIG_S_NEEDS_RESET')),
	};
}

function alive(t: ExecutionContext, guest: RawVm): void {
	t.true(guest.vm.running, `QEMU is still running; it said:\n${guest.console().split('\n').slice(-15).join('\n')}`);
	t.notRegex(guest.console(), /Assertion|Aborted|core dumped/);
}

test.serial(
	'queue_size written on a live queue: QEMU stays up, the device says NEEDS_RESET, a reset recovers it',
	async t => {
		const guest = await bootRawVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
		t.is(guest.pci.length, 1);
		const out = await raw(guest, guest.pci[0]!, 'qsize', '^ready$\\|^rc ');
		// Before the fix: "Cannot map descriptor ring", then address_space_stw_le_cached's assert.
		alive(t, guest);
		t.regex(out, /^features 0x130000000 queue_size 16$/m, 'VERSION_1, EVENT_IDX and INDIRECT_DESC negotiated');
		// A NOP's writable part is resp (16) + status (1): used.len counts the status byte.
		t.regex(
			out,
			/nop answered status 0 len 17\nqueue_size written: reads 16\ndevice_status 0x4f needs_reset 1\nnop unanswered/,
		);
		t.deepEqual(await deviceStatus(guest.qmp, 'hello0'), {broken: true, needsReset: true});
		await qemuSaid(guest.vm, /queue_size of enabled queue 0 written \(1024\)/, 'QEMU naming the queue_size write');
		// The unanswered NOP is still in the ring, and the element query still shows a good chain
		// (tail first, as 7.2 lists it): status + response (writable), then the request header.
		const pending = await guest.qmp.execute<{index: number; descs: Array<{len: number; flags: string[]}>}>(
			'x-query-virtio-queue-element',
			{path: backend('hello0'), queue: 0, index: 1},
		);
		t.is(pending.index, 2);
		t.deepEqual(
			pending.descs.map(d => [d.len, d.flags]),
			[
				[17, ['write']],
				[16, ['next']],
			],
		);
		const done = await release(guest);
		t.regex(done, /^rc 0$/m);
		const again = await raw(guest, guest.pci[0]!, 'nop', '^rc ');
		t.regex(again, /nop answered status 0 len 17\ndevice_status 0x0f needs_reset 0/, 'a reset brought it back');
		t.deepEqual(await deviceStatus(guest.qmp, 'hello0'), {broken: false, needsReset: false});
	},
);

test.serial('a malformed chain made available before DRIVER_OK: NEEDS_RESET is set and stays set', async t => {
	const guest = await bootRawVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
	const out = await raw(guest, guest.pci[0]!, 'early', '^ready$\\|^rc ');
	alive(t, guest);
	// Before the fix the drain ran inside the DRIVER_OK write, and the core's store of the
	// status byte erased the NEEDS_RESET virtio_error() had just set: 0x0f, and silence.
	t.regex(
		out,
		/device_status 0x0b needs_reset 0\ndevice_status 0x4f needs_reset 1\nnop unanswered[^\n]*\ndevice_status 0x4f needs_reset 1/,
	);
	t.deepEqual(await deviceStatus(guest.qmp, 'hello0'), {broken: true, needsReset: true});
	await qemuSaid(
		guest.vm,
		/virtio-hello: chain 0 cannot carry an answer \(0 writable bytes\)/,
		'QEMU naming the chain',
	);
	t.is(await guest.qmp.execute<number>('qom-get', {path: 'hello0', property: 'errors'}), 1);
	t.is(await guest.qmp.execute<number>('qom-get', {path: 'hello0', property: 'requests'}), 0);
	await release(guest);
	t.regex(
		await raw(guest, guest.pci[0]!, 'nop', '^rc '),
		/nop answered status 0 len 17\ndevice_status 0x0f needs_reset 0/,
	);
});

test.serial(
	'a chain whose status byte is the device_status register cannot reset the device under the drain',
	async t => {
		const guest = await bootRawVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
		// The kick comes through an ioeventfd (the default), the path with no re-entrancy guard of
		// its own: before the fix the status byte (0) reached the register and reset the device.
		const out = await raw(guest, guest.pci[0]!, 'selfdma', '^rc ');
		alive(t, guest);
		t.regex(
			out,
			/nop answered status 255 len 17\ndevice_status 0x0f needs_reset 0/,
			'answered; the register write was dropped',
		);
		await qemuSaid(
			guest.vm,
			/Blocked re-entrant IO on MemoryRegion: virtio-pci-common/,
			'QEMU blocking the re-entrant write',
		);
		t.deepEqual(await deviceStatus(guest.qmp, 'hello0'), {broken: false, needsReset: false});
	},
);

test.serial('the element query on stale and malformed chains reports them, breaks nothing, aborts nothing', async t => {
	const guest = await bootRawVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
	const out = await raw(guest, guest.pci[0]!, 'stale', '^ready for queries\\|^rc ');
	const answers: Record<string, string> = {};
	// avail[0]: a used chain whose next is now 0xffff; avail[1]: head 65535; avail[2]: an
	// indirect table of 8 bytes; no index: the head the device would pop next (avail[1]).
	for (const index of [0, 1, 2, undefined]) {
		const args = index === undefined ? {path: backend('hello0'), queue: 0} : {path: backend('hello0'), queue: 0, index};
		try {
			await guest.qmp.execute('x-query-virtio-queue-element', args, {timeoutMs: 5000});
			answers[String(index)] = 'answered';
		} catch (error) {
			answers[String(index)] = error instanceof QmpError ? error.desc : `not a QMP error: ${(error as Error).message}`;
		}
	}
	alive(t, guest);
	t.regex(answers['0']!, /^Stale or malformed chain at avail\[0\]: descriptor 1 links to 65535, the table has 16$/);
	t.regex(answers['1']!, /^Stale or malformed chain at avail\[1\]: head 65535, the ring has 16 descriptors$/);
	t.regex(answers['2']!, /^Stale or malformed chain at avail\[2\]: head 5 is an indirect table of 8 bytes$/);
	t.is(answers.undefined, answers['1']);
	t.notRegex(guest.console(), /Desc next/);
	t.deepEqual(await deviceStatus(guest.qmp, 'hello0'), {broken: false, needsReset: false});
	t.regex(out, /nop answered status 0 len 17\n/);
	const done = await release(guest);
	t.regex(
		done,
		/device_status 0x0f needs_reset 0\nnop answered status 0 len 17\ndevice_status 0x0f needs_reset 0/,
		'the device still answers',
	);
});

test.serial(
	'a chain longer than the queue through an indirect table: BADREQ, the device stays usable; max_segs is queue-size',
	async t => {
		const guest = await bootRawVm(t, ['-d', 'guest_errors', '-device', 'virtio-hello-pci,id=hello0,queue-size=64']);
		const out = await raw(guest, guest.pci[0]!, 'long', '^ready$\\|^rc ');
		alive(t, guest);
		// The config announces the queue-size property; vh-raw then sets up a smaller ring (16), as a
		// driver may, and the limit is the ring it set up.
		t.regex(out, /^config max_segs 64, queue size at most 64, set to 16$/m);
		// QEMU's virtqueue_pop takes an indirect table of up to 1024 descriptors whatever the ring:
		// 16 is as long as a chain may be, 17 is one too many, and the device refuses it itself.
		t.regex(out, /^indirect chain of 16 descriptors answered status 0 len 17 id echoed$/m);
		t.regex(out, /^indirect chain of 17 descriptors answered status 1 len 17 id echoed$/m, 'BADREQ, id still echoed');
		t.regex(
			out,
			/device_status 0x0f needs_reset 0\nnop answered status 0 len 17\ndevice_status 0x0f needs_reset 0/,
			'not broken: the next request is answered',
		);
		await qemuSaid(guest.vm, /virtio-hello: chain 5: 17 descriptors, the queue has 16/, 'QEMU naming the chain');
		t.deepEqual(await deviceStatus(guest.qmp, 'hello0'), {broken: false, needsReset: false});
		t.is(await guest.qmp.execute<number>('qom-get', {path: 'hello0', property: 'requests'}), 3);
		t.is(await guest.qmp.execute<number>('qom-get', {path: 'hello0', property: 'errors'}), 1);
		t.regex(await release(guest), /^rc 0$/m);
	},
);

test.serial(
	'burst limit: a pass answers at most `burst` chains, the bottom half the rest; trace events name each device',
	async t => {
		const log = path.join(tempDir(t), 'trace.log');
		const guest = await bootRawVm(t, [
			...qemuTraceArgs(log, ['virtio_hello_dev_*', 'virtio_hello_drain']),
			'-device',
			'virtio-hello-pci,id=hello0,burst=3',
			'-device',
			'virtio-hello-pci,id=hello1',
		]);
		t.is(guest.pci.length, 2);
		const counter = new TraceCounter(log);
		await counter.poll();
		// The realize lines alone tie both devices and their queues to QMP's paths: no traffic.
		for (const id of ['hello0', 'hello1']) {
			t.is(counter.mappedBy(backend(id)), 'named', id);
			t.like(counter.countsFor(backend(id), 0), {index: 0, kicks: 0, interrupts: 0});
		}
		const out = await raw(guest, guest.pci[0]!, 'batch', '^rc ');
		t.regex(out, /batch answered 8 of 8/);
		t.is((out.match(/nop answered status 0 len 17/g) ?? []).length, 8);
		await counter.poll();
		const text = await readFile(log, 'utf8');
		const drains = [
			...text.matchAll(/^virtio_hello_drain hello (0x[0-9a-f]+) vq 0x[0-9a-f]+ answered (\d+) more (\d)$/gm),
		].map(m => `${m[2]}/${m[3]}`);
		// 8 chains, burst 3: 3 (more), 3 (more), 2, in the kick and then the bottom half
		t.deepEqual(
			drains.filter(d => d !== '0/0'),
			['3/1', '3/1', '2/0'],
		);
		const hello0 = counter.countsFor(backend('hello0'), 0)!;
		t.true(hello0.kicks >= 1);
		t.is(hello0.flushed, 8);
		t.is(counter.countsFor(backend('hello1'), 0)!.flushed, 0);
		alive(t, guest);
	},
);

test('trace counter: virtio_hello_dev_* lines name each device and its queue exactly', t => {
	const path = (id: string) => backend(id);
	const counter = new TraceCounter('/nonexistent');
	counter.feed(
		[
			`virtio_hello_dev_realize hello 0x10 vq 0x20 path ${path('a')}`,
			`virtio_hello_dev_realize hello 0x30 vq 0x40 path ${path('b')}`,
			'virtio_queue_notify vdev 0x30 n 0 vq 0x40',
			'virtio_hello_kick hello 0x30 vq 0x40 defer 0',
			'virtqueue_flush vq 0x40 count 3',
			'virtio_notify vdev 0x30 vq 0x40',
			`virtio_hello_dev_status hello 0x30 path ${path('b')} status 0x0f`,
			'',
		].join('\n'),
	);
	t.like(counter.countsFor(path('b'), 0), {vq: '0x40', vdev: '0x30', index: 0, kicks: 1, interrupts: 1, flushed: 3});
	t.like(counter.countsFor(path('a'), 0), {vq: '0x20', kicks: 0, interrupts: 0});
	t.is(counter.mappedBy(path('a')), 'named');
	t.is(counter.mappedBy(path('zz')), undefined);
	// b unplugged, c realized at the same addresses: c starts from zero, b is gone
	counter.feed(`virtio_hello_dev_realize hello 0x30 vq 0x40 path ${path('c')}\n`);
	t.like(counter.countsFor(path('c'), 0), {kicks: 0, flushed: 0});
	t.is(counter.countsFor(path('b'), 0), undefined);
	t.is(counter.pathOf('0x30'), path('c'));
	t.is(counter.linesIgnored, 0);
});
