// End to end: our kernel and a busybox initramfs drive two virtio-blk disks under TCG while the
// sampler and the trace counter watch; the guest prints its own /proc/interrupts to compare.
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type {DeviceView} from '../../../source/runner/events.js';
import {ensureKernel, listFragments} from '../../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {ensureRootfs} from '../../../source/lab/build/rootfs.js';
import {cacheRoot, configsDir, projectRoot} from '../../../source/lab/paths.js';
import {QmpClient} from '../../../source/lab/vm/qmp.js';
import {VirtioSampler} from '../../../source/lab/virtio/sampler.js';
import {TraceCounter} from '../../../source/lab/virtio/trace-counter.js';
import {qemuTraceArgs} from '../../../source/lab/virtio/trace-events.js';
import {tempDir} from '../../helpers/temp.js';
import {startQemu} from '../../helpers/qemu.js';

async function kernelAndInitrd(scratch: string) {
	const source = await resolveKernelSource({cacheDir: cacheRoot()});
	const kernel = await ensureKernel({
		source,
		fragments: listFragments(path.join(configsDir, 'kernel')),
		cacheDir: cacheRoot(),
	});
	const rootfs = ensureRootfs({
		kernelBuildDir: kernel.buildDir,
		cacheDir: scratch,
		init: path.join(projectRoot, 'test/fixtures/init-virtio-traffic'),
	});
	return {kernel: kernel.bzImage, initrd: rootfs.path};
}

const guestRun = test.macro(async (t, ioeventfd: 'on' | 'off') => {
	const dir = tempDir(t, 'kc-guest-');
	const {kernel, initrd} = await kernelAndInitrd(dir);
	const serial = path.join(dir, 'serial.log');
	const traceLog = path.join(dir, 'trace.log');
	const qemu = await startQemu(t, {
		dir,
		args: [
			...[
				'-machine',
				'q35',
				'-m',
				'256',
				'-no-reboot',
				'-L',
				'/usr/share/qemu',
				'-L',
				'/usr/share/seabios',
				'-kernel',
				kernel,
				'-initrd',
				initrd,
				'-append',
				'console=ttyS0 quiet tsc=reliable',
			],
			...['-serial', `file:${serial}`],
			...['-blockdev', 'null-co,node-name=d0,size=16777216,read-zeroes=on', '-device', 'virtio-blk-pci,drive=d0'],
			...['-blockdev', 'null-co,node-name=d1,size=16777216,read-zeroes=on', '-device', 'virtio-blk-pci,drive=d1'],
			...qemuTraceArgs(traceLog),
			...(ioeventfd === 'off' ? ['-global', 'virtio-blk-pci.ioeventfd=off'] : []),
		],
	});
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const counter = new TraceCounter(traceLog);
	const sampler = new VirtioSampler(qmp, {intervalMs: 250, trace: counter});
	t.teardown(() => sampler.stop());
	let latest: DeviceView[] = [];
	sampler.onSample(devices => {
		latest = devices;
	});
	sampler.start();
	await qmp.execute('cont');

	const deadline = Date.now() + 120_000;
	let console = '';
	while (!console.includes('KC-DONE') && Date.now() < deadline) {
		await new Promise(resolve => setTimeout(resolve, 250));
		console = await readFile(serial, 'utf8').catch(() => '');
	}
	t.true(console.includes('KC-DONE'), `guest did not finish; console:\n${console.slice(-2000)}`);
	const blkOf = (devices: DeviceView[]) => devices.find(d => d.name === 'virtio-blk')!.queues[0]!;
	// wait for the trace mapping (needs two agreeing samples)
	while (blkOf(latest).totals.kicks === undefined && Date.now() < deadline)
		await new Promise(resolve => setTimeout(resolve, 100));
	await sampler.stop();
	await sampler.sample();
	latest = sampler.latest()!.devices;

	// Two disks: vda (50 reads) is the busier one; QMP lists both as virtio-blk.
	const [blk, second] = latest
		.filter(d => d.name === 'virtio-blk')
		.sort((a, b) => b.queues[0]!.usedIdx - a.queues[0]!.usedIdx) as [DeviceView, DeviceView];
	t.deepEqual(blk.status, ['ACKNOWLEDGE', 'DRIVER', 'FEATURES_OK', 'DRIVER_OK']);
	t.true(blk.features.includes('VIRTIO_F_VERSION_1'));
	t.true(blk.features.includes('VIRTIO_RING_F_EVENT_IDX'));
	const q = blk.queues[0]!;
	t.true(q.usedIdx >= 50, `used-idx ${q.usedIdx}`);
	t.is(q.inFlight, 0);
	t.true(q.totals.requests >= q.usedIdx);
	const guestIrqs = (name: string) =>
		Number(/^\s*\d+:\s+(\d+).*\s(\S+)$/m.exec(console.split('\n').find(l => l.includes(name)) ?? '')?.[1]);
	t.log(
		`blk: requests ${q.totals.requests}, kicks ${q.totals.kicks}, interrupts ${q.totals.interrupts}, guest saw ${guestIrqs('virtio0-req.0')} interrupts`,
	);
	t.log(
		`vdb: requests ${second.queues[0]!.totals.requests}, kicks ${second.queues[0]!.totals.kicks}, interrupts ${second.queues[0]!.totals.interrupts}`,
	);
	// interrupts: true counts, equal to what the guest counted
	t.is(q.totals.interrupts, guestIrqs('virtio0-req.0'));
	if (ioeventfd === 'on') {
		// one per QEMU wake-up (coalesced) plus one per ioeventfd handler start: close to one per request
		t.true(q.totals.kicks! >= 1 && q.totals.kicks! <= q.totals.requests + 4, `kicks ${q.totals.kicks}`);
		t.is(counter.pciNotifyWrites.size, 0);
	} else {
		// every guest write to a notify register (queue 0 of both devices) is one virtio_queue_notify
		t.is(counter.pciNotifyWrites.get(0), q.totals.kicks! + second.queues[0]!.totals.kicks!);
	}
	t.true(second.queues[0]!.totals.interrupts! >= 5, "the second disk's 5 reads were interrupted too");
	const history = q.history.filter(r => r > 0);
	t.true(history.length > 0, 'the request rate was seen nonzero at some sample');

	// the last chain the device took, read from guest memory: done, and well formed
	const element = await sampler.readChain(blk.path, 0);
	if (!element) return t.fail('no chain could be read from the ring');
	t.false(element.pending);
	t.true(element.descriptors.length >= 1);
});

test('a real guest, ioeventfd on (default): sampler + trace counter see requests, kicks, interrupts', guestRun, 'on');
test('a real guest, ioeventfd off: every guest kick is traced', guestRun, 'off');
