// End to end: a real Linux guest (the host's Debian kernel + a busybox initramfs made here) drives
// a virtio-blk and a virtio-rng under TCG while the sampler and the trace counter watch. About
// 10 s. Skipped when the host lacks the kernel, its virtio modules or busybox-static.
import {existsSync, readdirSync} from 'node:fs';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type {DeviceView} from '../../source/runner/events.js';
import {QmpClient} from '../../source/lab/vm/qmp.js';
import {VirtioSampler} from '../../source/lab/virtio/sampler.js';
import {TraceCounter, qemuTraceArgs} from '../../source/lab/virtio/trace-counter.js';
import {startQemu} from '../qmp/qemu.js';

const moduleOrder = ['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci', 'virtio_blk', 'virtio-rng'];

function findHostKernel(): {kernel: string; modules: Map<string, string>} | undefined {
	if (!existsSync('/bin/busybox') || !existsSync('/boot')) return undefined;
	for (const file of readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-'))) {
		const version = file.slice('vmlinuz-'.length);
		const base = `/lib/modules/${version}/kernel/drivers`;
		const modules = new Map<string, string>([
			['virtio_ring', `${base}/virtio/virtio_ring.ko`],
			['virtio', `${base}/virtio/virtio.ko`],
			['virtio_pci_legacy_dev', `${base}/virtio/virtio_pci_legacy_dev.ko`],
			['virtio_pci_modern_dev', `${base}/virtio/virtio_pci_modern_dev.ko`],
			['virtio_pci', `${base}/virtio/virtio_pci.ko`],
			['virtio_blk', `${base}/block/virtio_blk.ko`],
			['virtio-rng', `${base}/char/hw_random/virtio-rng.ko`],
		]);
		if ([...modules.values()].every((m) => existsSync(m))) return {kernel: `/boot/${file}`, modules};
	}
	return undefined;
}

/** A newc cpio archive (what the kernel unpacks as initramfs), without needing cpio or root. */
function newc(entries: {name: string; mode: number; data?: Buffer; rdev?: [number, number]}[]): Buffer {
	const parts: Buffer[] = [];
	const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
	const hex = (n: number) => n.toString(16).padStart(8, '0');
	let ino = 1;
	for (const e of [...entries, {name: 'TRAILER!!!', mode: 0}]) {
		const data = 'data' in e && e.data ? e.data : Buffer.alloc(0);
		const rdev = 'rdev' in e && e.rdev ? e.rdev : [0, 0];
		const header =
			'070701' +
			[ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, rdev[0], rdev[1], e.name.length + 1, 0].map(hex).join('');
		const head = Buffer.from(header + e.name + '\0', 'latin1');
		parts.push(head, pad(head.length), data, pad(data.length));
	}
	return Buffer.concat(parts);
}

const init = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in ${moduleOrder.join(' ')}; do insmod /lib/mod/$m.ko; done
sleep 1
dd if=/dev/vda of=/dev/null bs=4096 count=50 iflag=direct 2>/dev/null
dd if=/dev/hwrng of=/dev/null bs=64 count=5 2>/dev/null
grep -i virtio /proc/interrupts
echo KC-DONE
sleep 600
`;

const host = findHostKernel();
const maybe = host ? test : test.skip;

const guestRun = test.macro(async (t, ioeventfd: 'on' | 'off') => {
	const {kernel, modules} = host!;
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-guest-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const entries: {name: string; mode: number; data?: Buffer; rdev?: [number, number]}[] = [
		...['bin', 'lib', 'lib/mod', 'dev', 'proc', 'sys'].map((name) => ({name, mode: 0o040755})),
		{name: 'dev/console', mode: 0o020600, rdev: [5, 1]},
		{name: 'init', mode: 0o100755, data: Buffer.from(init)},
		{name: 'bin/busybox', mode: 0o100755, data: await readFile('/bin/busybox')},
	];
	for (const [name, file] of modules) entries.push({name: `lib/mod/${name}.ko`, mode: 0o100644, data: await readFile(file)});
	const initrd = path.join(dir, 'initrd.cpio');
	await writeFile(initrd, newc(entries));
	const serial = path.join(dir, 'serial.log');
	const traceLog = path.join(dir, 'trace.log');
	const qemu = await startQemu(t, {
		dir,
		args: [
			...['-m', '256', '-no-reboot', '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet'],
			...['-serial', `file:${serial}`],
			...['-blockdev', 'null-co,node-name=d0,size=16777216,read-zeroes=on', '-device', 'virtio-blk-pci,drive=d0'],
			...['-device', 'virtio-rng-pci'],
			...qemuTraceArgs(traceLog),
			...(ioeventfd === 'off' ? ['-global', 'virtio-blk-pci.ioeventfd=off', '-global', 'virtio-rng-pci.ioeventfd=off'] : []),
		],
	});
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const counter = new TraceCounter(traceLog);
	const sampler = new VirtioSampler(qmp, {intervalMs: 250, trace: counter});
	t.teardown(() => sampler.stop());
	let latest: DeviceView[] = [];
	sampler.onSample((devices) => {
		latest = devices;
	});
	sampler.start();
	await qmp.execute('cont');

	const deadline = Date.now() + 120_000;
	let console = '';
	while (!console.includes('KC-DONE') && Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 250));
		console = await readFile(serial, 'utf8').catch(() => '');
	}
	t.true(console.includes('KC-DONE'), `guest did not finish; console:\n${console.slice(-2000)}`);
	const blkOf = (devices: DeviceView[]) => devices.find((d) => d.name === 'virtio-blk')!.queues[0]!;
	// wait for the trace mapping (needs two agreeing samples)
	while (blkOf(latest).totals.kicks === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
	await sampler.stop();
	await sampler.sample();
	latest = sampler.latest()!.devices;

	const blk = latest.find((d) => d.name === 'virtio-blk')!;
	const rng = latest.find((d) => d.name === 'virtio-rng')!;
	t.deepEqual(blk.status, ['ACKNOWLEDGE', 'DRIVER', 'FEATURES_OK', 'DRIVER_OK']);
	t.true(blk.features.includes('VIRTIO_F_VERSION_1'));
	t.true(blk.features.includes('VIRTIO_RING_F_EVENT_IDX'));
	const q = blk.queues[0]!;
	t.true(q.usedIdx >= 50, `used-idx ${q.usedIdx}`);
	t.is(q.inFlight, 0);
	t.true(q.totals.requests >= q.usedIdx);
	const guestIrqs = (name: string) => Number(/^\s*\d+:\s+(\d+).*\s(\S+)$/m.exec(console.split('\n').find((l) => l.includes(name)) ?? '')?.[1]);
	t.log(`blk: requests ${q.totals.requests}, kicks ${q.totals.kicks}, interrupts ${q.totals.interrupts}, guest saw ${guestIrqs('req.0')} interrupts`);
	t.log(`rng: requests ${rng.queues[0]!.totals.requests}, kicks ${rng.queues[0]!.totals.kicks}, interrupts ${rng.queues[0]!.totals.interrupts}`);
	// interrupts: true counts, equal to what the guest counted
	t.is(q.totals.interrupts, guestIrqs('req.0'));
	if (ioeventfd === 'on') {
		// one per QEMU wake-up (coalesced) plus one per ioeventfd handler start: close to one per request
		t.true(q.totals.kicks! >= 1 && q.totals.kicks! <= q.totals.requests + 4, `kicks ${q.totals.kicks}`);
		t.is(counter.pciNotifyWrites.size, 0);
	} else {
		// every guest write to a notify register (queue 0 of both devices) is one virtio_queue_notify
		t.is(counter.pciNotifyWrites.get(0), q.totals.kicks! + rng.queues[0]!.totals.kicks!);
	}
	t.true(rng.queues[0]!.totals.interrupts! >= 5);
	const history = q.history.filter((r) => r > 0);
	t.true(history.length > 0, 'the request rate was seen nonzero at some sample');

	const element = await sampler.inspectRing(blk.path, 0);
	t.false(element.pending);
	t.true(element.descriptors.length >= 1);
});

maybe('a real guest, ioeventfd on (default): sampler + trace counter see requests, kicks, interrupts', guestRun, 'on');
maybe('a real guest, ioeventfd off: every guest kick is traced', guestRun, 'off');
