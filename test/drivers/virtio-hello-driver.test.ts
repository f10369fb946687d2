import {readFile} from 'node:fs/promises';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import type {VirtQueueStatus} from '../../source/lab/vm/qmp-types.js';
import {assertKernelClean, bootDriverVm, type DriverVm} from '../helpers/hello-driver-vm.js';
import {tempDir} from '../helpers/temp.js';

// The virtio-hello driver's rare paths, made to happen: a submitter killed with requests in
// flight, a ring that breaks, an indirect table that cannot be allocated; and the chain length
// rule that keeps the last one harmless (no chain longer than the ring). Each test boots its
// own VM (on the debug kernel unless KERNELCRAFT_DRIVER_KERNEL=normal) and ends with a kernel
// log free of complaints and, where the kernel has kmemleak, no leak.

/** The virtio device's name (virtioN) of the virtio-hello device at a PCI address, or the only one. */
async function virtioName(vm: DriverVm, pci?: string): Promise<string> {
	const glob = pci ? `/sys/bus/pci/devices/${pci}/virtio*` : '/sys/bus/virtio/drivers/virtio_hello/virtio*';
	const name = (await vm.sh(`basename $(ls -d ${glob} | head -1)`)).output.trim();
	if (!/^virtio\d+$/.test(name)) throw new Error(`no virtio-hello device bound: ${name}`);
	return name;
}

const stat = (dev: string, name: string) => `/sys/bus/virtio/devices/${dev}/stats/${name}`;
const knob = (dev: string, name: string) => `/sys/kernel/debug/virtio_hello/${dev}/${name}`;

/** Polls a guest shell condition from the host, every 0.2 s for up to `tenths` x 0.1 s; true if it came true. */
async function waitFor(vm: DriverVm, condition: string, tenths = 150): Promise<boolean> {
	const deadline = Date.now() + tenths * 100;
	for (;;) {
		if ((await vm.sh(`if ${condition}; then echo yes; else echo no; fi`)).output.trim() === 'yes') return true;
		if (Date.now() > deadline) return false;
		await new Promise(resolve => setTimeout(resolve, 200));
	}
}

/**
 * Starts `command` in the background; its output and then "rc N" go to `out`. The job is not a
 * child of the check shell (the outer subshell exits at once): a SIGCHLD that reaches busybox's
 * `read` while the check shell reads its next command line loses that line.
 */
async function background(vm: DriverVm, command: string, out: string): Promise<void> {
	await vm.sh(`( (${command}; echo "rc $?") > ${out} 2>&1 & )`);
}

/** A batch of 64 NOPs waiting on a stalled device, then its submitter SIGKILLed: 64 orphans. */
async function orphanBatch(t: ExecutionContext, vm: DriverVm, id: string, dev: string): Promise<void> {
	await vm.qmp.execute('qom-set', {path: id, property: 'stall', value: true});
	await background(vm, 'hello-client batch 64 1000', '/tmp/batch.out');
	t.true(await waitFor(vm, `[ "$(cat ${stat(dev, 'inflight')})" = 64 ]`), 'the batch is in flight');
	t.is((await vm.sh('kill -9 $(pidof hello-client)')).status, 0);
	t.true(await waitFor(vm, 'grep -q "rc [0-9]" /tmp/batch.out'), 'SIGKILL ends the waiting submitter');
	t.regex((await vm.sh('cat /tmp/batch.out')).output, /^rc 137$/m);
	t.is((await vm.sh(`cat ${stat(dev, 'inflight')}`)).output.trim(), '64', "its requests are still the device's");
}

test.serial('a SIGKILLed batch, then a reset, then answers: the orphans are freed, the device works', async t => {
	const vm = await bootDriverVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
	const {sh, qmp} = vm;
	t.is((await sh(`insmod ${vm.driver} allow_raw=1`)).status, 0);
	const dev = await virtioName(vm);

	// Orphans failed by the reset work (process context, the path that held vh->lock).
	await orphanBatch(t, vm, 'hello0', dev);
	t.is((await sh(`echo 1 > ${knob(dev, 'break_ring')}`)).status, 0);
	t.true(
		await waitFor(vm, `[ "$(cat ${stat(dev, 'state')})" = live ] && [ "$(cat ${stat(dev, 'inflight')})" = 0 ]`),
		'the reset failed the orphans and the device is back',
	);
	t.regex(
		(await sh('dmesg')).output,
		/device needs reset: failing 64 request\(s\)[\s\S]*device reset done, back in service/,
	);

	// Orphans answered by the device (freed from the interrupt).
	await orphanBatch(t, vm, 'hello0', dev);
	await qmp.execute('qom-set', {path: 'hello0', property: 'stall', value: false});
	t.true(await waitFor(vm, `[ "$(cat ${stat(dev, 'inflight')})" = 0 ]`), 'the device answered the orphans');

	// Their answers landed where they belonged: later requests are answered correctly.
	t.is((await sh('hello-client greet after')).output.trim(), 'Hello, after! from QEMU');
	const batch = await sh('hello-client batch 64 20');
	t.is(batch.status, 0, batch.output);
	const echo = await sh('hello-client echo 256K 4');
	t.is(echo.status, 0, echo.output);
	t.is((await sh('rmmod virtio_hello')).status, 0);
	await assertKernelClean(t, vm);
});

test.serial('a SIGKILLed batch, then device_del: remove frees the orphans, no oops', async t => {
	const vm = await bootDriverVm(t, [
		'-global',
		'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
		'-device',
		'pcie-root-port,id=rp1,slot=1,chassis=1',
		'-device',
		'virtio-hello-pci,id=hello1,bus=rp1',
	]);
	const {sh, qmp} = vm;
	t.is((await sh(`insmod ${vm.driver} allow_raw=1`)).status, 0);
	const dev = await virtioName(vm, '0000:01:00.0');
	await orphanBatch(t, vm, 'hello1', dev);
	await qmp.execute('device_del', {id: 'hello1'});
	// pciehp's own lockdep report on unplug (see kernelComplaintsAllowed) turns lockdep off:
	// everything the driver does under lockdep happens before this point.
	t.true(await waitFor(vm, 'test ! -e /dev/virtio-hello0', 300), 'the device is gone');
	t.regex((await sh('dmesg')).output, /removed with 64 request\(s\) in flight/);
	t.is((await sh('rmmod virtio_hello')).status, 0);
	await assertKernelClean(t, vm, {allowPciehpUnplugSplat: true});
});

test.serial(
	'the ring breaks while requests wait: every waiter fails with EIO, the device is reset and works',
	async t => {
		const vm = await bootDriverVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
		const {sh, qmp} = vm;
		t.is((await sh(`insmod ${vm.driver} allow_raw=1`)).status, 0);
		const dev = await virtioName(vm);
		await qmp.execute('qom-set', {path: 'hello0', property: 'stall', value: true});
		await background(vm, 'hello-client nop 100000', '/tmp/nop.out');
		await background(vm, 'hello-client batch 64 100', '/tmp/batch.out');
		t.true(
			await waitFor(vm, `[ "$(cat ${stat(dev, 'inflight')})" = 65 ]`),
			'a request and a batch wait on the stalled device',
		);
		t.is((await sh(`echo 1 > ${knob(dev, 'break_ring')}`)).status, 0);
		t.true(
			await waitFor(vm, 'grep -q "rc [0-9]" /tmp/nop.out && grep -q "rc [0-9]" /tmp/batch.out', 100),
			'both waiters returned',
		);
		const nop = (await sh('cat /tmp/nop.out')).output;
		const batch = (await sh('cat /tmp/batch.out')).output;
		t.regex(nop, /request op 4: Input\/output error/);
		t.regex(nop, /^rc 1$/m);
		t.regex(batch, /batch: Input\/output error/);
		t.regex(batch, /^rc 1$/m);
		t.true(await waitFor(vm, `[ "$(cat ${stat(dev, 'state')})" = live ]`));
		t.is((await sh(`cat ${stat(dev, 'resets')}`)).output.trim(), '1');
		await qmp.execute('qom-set', {path: 'hello0', property: 'stall', value: false});
		t.is((await sh('hello-client greet again')).output.trim(), 'Hello, again! from QEMU');
		t.is((await sh('rmmod virtio_hello')).status, 0);
		await assertKernelClean(t, vm);
	},
);

/** What `hello-client info` says of a device: the driver's copy of its config and its own limits. */
async function info(vm: DriverVm, dev: string): Promise<Record<string, number>> {
	const out = (await vm.sh(`hello-client -d ${dev} info`)).output;
	const field = (name: string) => {
		const match = new RegExp(`^${name}: (\\d+)$`, 'm').exec(out);
		if (!match) throw new Error(`hello-client info has no ${name}:\n${out}`);
		return Number(match[1]);
	};
	return {
		ringSize: field('ring size'),
		maxData: field('max_data'),
		maxBufSize: field('max_buf_size'),
		maxSegs: field('max_segs'),
	};
}

/** The driver's counters of /dev/virtio-helloN, from sysfs. */
async function counters(vm: DriverVm, dev: string): Promise<Record<string, number>> {
	const node = path.basename(dev);
	const names = ['requests', 'completed', 'errors', 'bytes_out', 'bytes_in', 'kicks', 'interrupts'];
	const out = (await vm.sh(`cd /sys/class/misc/${node}/device/stats && cat ${names.join(' ')}`)).output;
	const values = out.trim().split(/\s+/).map(Number);
	return Object.fromEntries(names.map((name, i) => [name, values[i]!]));
}

const delta = (after: Record<string, number>, before: Record<string, number>) =>
	Object.fromEntries(Object.keys(after).map(key => [key, after[key]! - before[key]!]));

/** Every chain QEMU popped from each virtio-hello device's queue, as in_num + out_num, by QOM id. */
async function chainLengths(log: string): Promise<Map<string, number[]>> {
	const text = await readFile(log, 'utf8');
	const byVq = new Map<string, string>();
	for (const m of text.matchAll(
		/^virtio_hello_dev_realize hello 0x[0-9a-f]+ vq (0x[0-9a-f]+) path \/machine\/peripheral\/([^/\s]+)\//gm,
	))
		byVq.set(m[1]!, m[2]!);
	const lengths = new Map<string, number[]>();
	for (const m of text.matchAll(/^virtqueue_pop vq (0x[0-9a-f]+) elem 0x[0-9a-f]+ in_num (\d+) out_num (\d+)$/gm)) {
		const id = byVq.get(m[1]!);
		if (id === undefined) continue;
		lengths.set(id, [...(lengths.get(id) ?? []), Number(m[2]) + Number(m[3])]);
	}
	return lengths;
}

const mib = 1024 * 1024;

test.serial(
	'max_segs is the queue size; a 1 MiB echo is ceil(1 MiB / max_data) requests, no chain longer than the ring',
	async t => {
		const log = path.join(tempDir(t), 'trace.log');
		const vm = await bootDriverVm(t, [
			'-D',
			log,
			'-trace',
			'virtio_hello_dev_realize',
			'-trace',
			'virtqueue_pop',
			'-device',
			'virtio-hello-pci,id=hello0',
			'-device',
			'virtio-hello-pci,id=hello1,queue-size=64',
		]);
		const {sh, qmp} = vm;
		t.is((await sh(`insmod ${vm.driver}`)).status, 0);
		t.regex(
			(await sh('hello-client info')).output,
			/indirect_desc/,
			'INDIRECT_DESC negotiated: the rule holds with it',
		);

		const devices: Record<string, {dev: string; queue: number}> = {};
		for (const dev of ['/dev/virtio-hello0', '/dev/virtio-hello1']) {
			const i = await info(vm, dev);
			devices[i.ringSize === 64 ? 'hello1' : 'hello0'] = {dev, queue: i.ringSize};
		}
		t.deepEqual(Object.keys(devices).sort(), ['hello0', 'hello1']);

		for (const [id, queueSize] of [
			['hello0', 256],
			['hello1', 64],
		] as const) {
			const {dev} = devices[id]!;
			const backend = `/machine/peripheral/${id}/virtio-backend`;
			const queue = () => qmp.execute<VirtQueueStatus>('x-query-virtio-queue-status', {path: backend, queue: 0});
			const before = await queue();
			t.is(before['vring-num-default'], queueSize, `${id}: the queue-size property`);
			t.is(before['vring-num'], queueSize, `${id}: the ring the driver set up`);

			// The device's config says max_segs = its queue size; the driver computes max_data from it.
			const i = await info(vm, dev);
			t.is(i.maxSegs, queueSize, `${id}: config max_segs is the queue size`);
			t.is(i.ringSize, queueSize);
			const maxData = Math.min(i.maxBufSize, Math.floor((queueSize - 3) / 2) * 4096);
			t.is(i.maxData, maxData, `${id}: max_data = (ring - 3) / 2 pages`);
			const perEcho = Math.ceil(mib / maxData);

			const stats = await counters(vm, dev);
			const pops = (await chainLengths(log)).get(id)?.length ?? 0;
			const echo = await sh(`hello-client -d ${dev} echo 1M 2`, 120_000);
			t.is(echo.status, 0, echo.output);
			t.regex(
				echo.output,
				new RegExp(
					`^echo: 2 x ${mib} bytes verified, [\\d.]+ MB/s \\(${2 * perEcho} requests of at most ${maxData} bytes`,
					'm',
				),
			);
			const moved = delta(await counters(vm, dev), stats);
			t.like(moved, {
				requests: 2 * perEcho,
				completed: 2 * perEcho,
				errors: 0,
				bytes_out: 2 * mib,
				bytes_in: 2 * mib,
			});
			const after = await queue();
			t.is((after['used-idx'] - before['used-idx'] + 0x10000) % 0x10000, 2 * perEcho, `${id}: the used index`);

			// QEMU's own count of each chain's buffers: none is longer than the queue.
			let lengths: number[] = [];
			for (let tries = 0; tries < 50; tries++) {
				lengths = ((await chainLengths(log)).get(id) ?? []).slice(pops);
				if (lengths.length >= 2 * perEcho) break;
				await new Promise(resolve => setTimeout(resolve, 100));
			}
			t.is(lengths.length, 2 * perEcho, `${id}: one pop per request`);
			const longest = Math.max(...lengths);
			t.true(longest <= queueSize, `${id}: the longest chain has ${longest} descriptors, the queue ${queueSize}`);
			// A full request: the request header, max_data / 4 KiB pages each way, the response header, the status.
			t.is(longest, 3 + 2 * (maxData / 4096), `${id}: a full request fills the ring but one entry at most`);
			t.log(
				`${id}: queue ${queueSize}, max_segs ${i.maxSegs}, max_data ${maxData}; echo 1M 2: ${echo.output.trim()}; ` +
					`driver: ${JSON.stringify(moved)}; chains ${lengths.join(' ')}`,
			);
		}
		t.is((await sh('rmmod virtio_hello')).status, 0);
		await assertKernelClean(t, vm);
	},
);

test.serial(
	'an indirect table that cannot be allocated: the chain goes in direct, since none is longer than the ring',
	async t => {
		const vm = await bootDriverVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
		const {sh} = vm;
		t.is((await sh(`insmod ${vm.driver} allow_raw=1`)).status, 0);
		const dev = await virtioName(vm);
		t.regex((await sh('hello-client info')).output, /indirect_desc/);

		// The knob: every chain that needs an indirect table behaves as if it got none. 1 MiB is 3
		// requests of at most 126 pages each way (255 descriptors): each fits the empty 256-entry ring
		// without its table, so none fails (before the limit, 515 descriptors: ENOMEM).
		t.is((await sh(`echo 1000000 > ${knob(dev, 'fail_indirect')}`)).status, 0);
		const big = await sh('timeout 30 hello-client echo 1M 1; echo "rc $?"', 60_000);
		t.regex(big.output, /echo: 1 x 1048576 bytes verified, [\d.]+ MB\/s \(3 requests of at most 516096 bytes/);
		t.regex(big.output, /^rc 0$/m);
		t.is(
			(await sh(`cat ${knob(dev, 'fail_indirect')}`)).output.trim(),
			'999997',
			'the knob saw all 3: each fit what was free',
		);
		t.regex((await sh('hello-client echo 64K 3')).output, /echo: 3 x 65536 bytes verified/);
		t.is((await sh(`echo 0 > ${knob(dev, 'fail_indirect')}`)).status, 0);
		t.regex((await sh('hello-client echo 1M 2', 120_000)).output, /echo: 2 x 1048576 bytes verified/);

		// The real allocation failing, where the kernel has fault injection: failslab fails this
		// task's slab allocations that cannot sleep, so every GFP_ATOMIC indirect table (up to 255
		// descriptors, a kmalloc-4k object) is refused, and each chain goes in as direct descriptors.
		if ((await sh('test -d /sys/kernel/debug/failslab')).status === 0) {
			const fs = '/sys/kernel/debug/failslab';
			await sh(
				`echo Y > ${fs}/task-filter; echo 100 > ${fs}/probability; echo -1 > ${fs}/times; echo 0 > ${fs}/verbose; echo Y > ${fs}/ignore-gfp-wait`,
			);
			const failed = await sh(
				'timeout 30 sh -c "echo 1 > /proc/self/make-it-fail; exec hello-client echo 1M 1"; echo "rc $?"',
				60_000,
			);
			t.regex(failed.output, /echo: 1 x 1048576 bytes verified/, 'without their tables the chains go in direct');
			t.regex(failed.output, /^rc 0$/m);
			const direct = await sh('sh -c "echo 1 > /proc/self/make-it-fail; exec hello-client echo 64K 2"', 60_000);
			t.regex(direct.output, /echo: 2 x 65536 bytes verified/, 'without its table a small chain goes in direct');
			await sh(`echo 0 > ${fs}/probability`);
			t.log('failslab: the real GFP_ATOMIC failure was exercised');
		} else {
			t.log('this kernel has no failslab: only the fail_indirect knob was exercised');
		}
		t.is((await sh('rmmod virtio_hello')).status, 0);
		await assertKernelClean(t, vm);
	},
);

test.serial(
	'hostile chains, hot-unplug under traffic and 20 load/unload cycles: the kernel reports nothing',
	async t => {
		const vm = await bootDriverVm(t, [
			'-global',
			'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
			'-device',
			'virtio-hello-pci,id=hello0',
			'-device',
			'pcie-root-port,id=rp1,slot=1,chassis=1',
			'-device',
			'virtio-hello-pci,id=hello1,bus=rp1',
		]);
		const {sh, qmp} = vm;
		const cycles = await sh(
			`for i in $(seq 20); do insmod ${vm.driver} || exit 1; hello-client greet c$i >/dev/null || exit 2; hello-client -d /dev/virtio-hello1 batch 16 2 >/dev/null || exit 3; rmmod virtio_hello || exit 4; done`,
			300_000,
		);
		t.is(cycles.status, 0, cycles.output);
		t.is((await sh(`insmod ${vm.driver} allow_raw=1`)).status, 0);
		const node = (await sh('basename /sys/bus/pci/devices/0000:01:00.0/virtio*/misc/virtio-hello*')).output.trim();
		const other = node === 'virtio-hello0' ? '/dev/virtio-hello1' : '/dev/virtio-hello0';
		const bad = await sh(`hello-client -d ${other} bad all`);
		t.is(bad.status, 0, bad.output);
		t.regex((await sh('dmesg')).output, /device reset done, back in service/);
		// Traffic on the device behind the root port, which then stops answering and is pulled.
		await background(vm, `hello-client -d /dev/${node} stress 4 1000000 64K`, '/tmp/stress.out');
		await new Promise(resolve => setTimeout(resolve, 1000));
		await qmp.execute('qom-set', {path: 'hello1', property: 'stall', value: true});
		await qmp.execute('device_del', {id: 'hello1'});
		t.true(await waitFor(vm, 'grep -q "rc [0-9]" /tmp/stress.out', 300), 'the stress run ended');
		t.regex((await sh('cat /tmp/stress.out')).output, /device went away \(ENODEV\)/);
		t.is((await sh(`hello-client -d ${other} greet still-here`)).output.trim(), 'Hello, still-here! from QEMU');
		t.is((await sh('rmmod virtio_hello')).status, 0);
		await assertKernelClean(t, vm, {allowPciehpUnplugSplat: true});
	},
);
