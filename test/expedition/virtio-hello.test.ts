import path from 'node:path';
import test from 'ava';
import {bootHelloVm, driverPath} from '../helpers/hello-vm.js';
import {startCli} from '../helpers/cli.js';
import {isAlive} from '../helpers/processes.js';
import {qemuSaid} from '../helpers/raw-vm.js';
import {tempDir} from '../helpers/temp.js';
import {lessonPciIds, pciPairs} from '../helpers/lesson-pci.js';

// All real: QEMU built with the device, the driver built against our kernel, the guest's client.

test.serial('run virtio-hello --json: probe, greeting, 1 MiB integrity, and the panel sees the queue', async t => {
	const run = startCli(['run', 'virtio-hello', '--json'], {KERNELCRAFT_STATE: path.join(tempDir(t), 'p.json')});
	const code = await run.exit;
	t.is(code, 0, run.lines.filter(line => line.includes('"failed"')).join('\n') + run.stderr.join(''));
	const summary = JSON.parse(run.lines.at(-1)!);
	t.true(summary.ok);
	t.deepEqual(
		summary.steps.map((step: {name: string}) => step.name),
		['kernel', 'qemu', 'driver', 'rootfs', 'boot', 'probe', 'greet', 'integrity', 'hostile', 'drain', 'panel'],
	);
	t.true(summary.echoMBps > 0);
	// 5 echoes of 1 MiB, each 3 requests of at most max_data = 126 pages (no chain longer than the ring)
	t.is(summary.echoRequests, 15);
	t.true(summary.helloQueue.usedIdx >= 100);
	t.true(summary.helloQueue.features.includes('VIRTIO_HELLO_F_CRC32'));
	// Every PCI ID the lessons state is what the guest's config space shows for the device.
	const stated = lessonPciIds('virtio-hello');
	t.true(stated.length > 0, 'the lesson states the IDs');
	for (const id of stated)
		t.true(
			pciPairs(summary.pci).includes(id),
			`the lesson says ${id}; the guest shows ${pciPairs(summary.pci).join(', ')}`,
		);
});

test.serial('two devices at once: each has its own node and answers with its own greeting', async t => {
	const {session, sh} = await bootHelloVm(t, [
		'-device',
		'virtio-hello-pci,id=one,greeting=device-one',
		'-device',
		'virtio-hello-pci,id=two,greeting=device-two',
	]);
	t.is((await sh(`insmod ${driverPath(session)}`)).status, 0);
	t.is((await sh('ls /dev/virtio-hello* | wc -l')).output.trim(), '2');
	const replies = [
		(await sh('hello-client -d /dev/virtio-hello0 greet A')).output.trim(),
		(await sh('hello-client -d /dev/virtio-hello1 greet B')).output.trim(),
	].sort();
	t.deepEqual(replies, ['Hello, A! from device-one', 'Hello, B! from device-two']);
	const echo = await sh('hello-client -d /dev/virtio-hello1 echo 256K 4');
	t.is(echo.status, 0, echo.output);
});

test.serial('hostile chains: QEMU survives and reports, the driver recovers, and the device still works', async t => {
	const {session, vm, sh, qmp} = await bootHelloVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
	t.is((await sh(`insmod ${driverPath(session)} allow_raw=1`)).status, 0);
	const bad = await sh('hello-client bad all');
	t.is(bad.status, 0, bad.output);
	for (const kind of [
		'empty',
		'wrongdir',
		'short',
		'oversized',
		'mismatch',
		'nostatus',
		'badop',
		'nospace',
		'badname',
	]) {
		t.regex(bad.output, new RegExp(`^bad ${kind}\\s+ok `, 'm'), `${kind} was answered as the contract says`);
	}
	t.true(vm.running, 'QEMU is still running');
	t.is((await qmp.execute<{status: string}>('query-status')).status, 'running');
	// The device's error count, against two other witnesses: the guest, told a non-OK status for
	// 7 kinds, and QEMU's output, one virtio_error() line for the chain the device itself refused
	// (nostatus; "empty" is refused by QEMU's core, which the device does not count).
	const answeredBadly = (bad.output.match(/-> status [1-9]\d* \(/g) ?? []).length;
	await qemuSaid(vm, /virtio-hello: chain \d+ cannot carry an answer/, "QEMU's line for the refused chain");
	const refused = (vm.console.textSince(0).match(/virtio-hello: chain \d+ cannot carry an answer/g) ?? []).length;
	t.is(answeredBadly, 7);
	t.is(refused, 1);
	t.is(await qmp.execute<number>('qom-get', {path: 'hello0', property: 'errors'}), answeredBadly + refused);
	t.regex((await sh('dmesg')).output, /virtio_hello virtio0: device reset done, back in service/);
	t.is((await sh('hello-client greet after')).output.trim(), 'Hello, after! from QEMU');
	// Without allow_raw, user space cannot build raw chains at all.
	await sh('rmmod virtio_hello');
	await sh(`insmod ${driverPath(session)}`);
	t.regex((await sh('hello-client bad empty 2>&1')).output, /raw chains need virtio_hello allow_raw=1/);
});

test.serial('hot-unplug during traffic: waiters get ENODEV, the other device works, no oops', async t => {
	const {session, sh, qmp, vm} = await bootHelloVm(t, [
		'-global',
		'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
		'-device',
		'virtio-hello-pci,id=hello0',
		'-device',
		'pcie-root-port,id=rp1,slot=1,chassis=1',
		'-device',
		'virtio-hello-pci,id=hello1,bus=rp1',
	]);
	t.is((await sh(`insmod ${driverPath(session)}`)).status, 0);
	const node = (await sh('basename /sys/bus/pci/devices/0000:01:00.0/virtio*/misc/virtio-hello*')).output.trim();
	t.regex(node, /^virtio-hello\d$/);
	// Traffic on the device behind the root port; the device then stops answering (stall), so
	// requests are surely in flight when it is pulled.
	await sh(
		`(hello-client -d /dev/${node} stress 4 1000000 256K > /tmp/stress.out 2>&1; echo "rc $?" >> /tmp/stress.out) &`,
	);
	await new Promise(resolve => setTimeout(resolve, 1000));
	await qmp.execute('qom-set', {path: 'hello1', property: 'stall', value: true});
	await new Promise(resolve => setTimeout(resolve, 1000));
	t.true(
		Number((await sh('cat /sys/bus/pci/devices/0000:01:00.0/virtio*/stats/inflight')).output.trim()) > 0,
		'requests were in flight',
	);
	await qmp.execute('device_del', {id: 'hello1'});
	const gone = await sh(
		`i=0; while [ -e /dev/${node} ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done; test ! -e /dev/${node}`,
		30_000,
	);
	t.is(gone.status, 0, `/dev/${node} disappeared`);
	const stress = await sh(
		'i=0; while ! grep -q "^rc" /tmp/stress.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; cat /tmp/stress.out',
	);
	t.regex(stress.output, /device went away \(ENODEV\)/);
	t.regex(stress.output, /^rc 3$/m);
	const dmesg = (await sh('dmesg')).output;
	t.regex(dmesg, /removed with \d+ request\(s\) in flight/);
	t.notRegex(dmesg, /BUG|WARNING|Oops|general protection/);
	const other = (await sh('ls /dev/virtio-hello*')).output.trim().split('\n')[0]!;
	t.is((await sh(`hello-client -d ${other} greet still-here`)).output.trim(), 'Hello, still-here! from QEMU');
	t.is((await sh('rmmod virtio_hello')).status, 0);
	t.true(vm.running);
});

test.serial('100 load/unload cycles with traffic: no oops, no leftover device nodes, still working', async t => {
	const {session, sh, vm} = await bootHelloVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
	const cycles = await sh(
		`for i in $(seq 100); do insmod ${driverPath(session)} || exit 1; hello-client greet c$i >/dev/null || exit 2; rmmod virtio_hello || exit 3; done`,
		300_000,
	);
	t.is(cycles.status, 0, cycles.output);
	t.is((await sh('ls /dev/virtio-hello* 2>/dev/null | wc -l')).output.trim(), '0');
	t.is((await sh('dmesg | grep -cE "BUG|WARNING|Oops"')).output.trim(), '0');
	t.is((await sh(`insmod ${driverPath(session)} && hello-client greet last`)).output.trim(), 'Hello, last! from QEMU');
	const pid = vm.pid;
	await session.dispose();
	t.false(isAlive(pid));
});
