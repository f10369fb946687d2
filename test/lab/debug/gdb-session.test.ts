import path from 'node:path';
import test from 'ava';
import {shellPrompt} from '../../../source/expedition/shell.js';
import {
	descriptorAddress,
	deviceHandlerCommands,
	deviceHandlerCondition,
	driverCallbackCommands,
	driverQueueCommands,
	indicesIn,
	printAll,
	walkBreakpoints,
} from '../../../source/expedition/request-walk.js';
import {deviceGreeting, driverStep, helloRootfsStep} from '../../../source/expedition/virtio-hello.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {ensureQemu} from '../../../source/lab/build/qemu-build.js';
import {
	chooseGdbSocket,
	ensureGdbKernel,
	gdbKernelAppend,
	kernelGdbCommand,
	qemuGdbCommand,
} from '../../../source/lab/debug/gdb.js';
import {GdbSession, moduleDefining} from '../../../source/lab/debug/gdb-session.js';
import {cacheRoot} from '../../../source/lab/paths.js';
import type {QemuVm} from '../../../source/lab/vm/qemu-vm.js';
import {Session} from '../../../source/lab/session.js';
import {isAlive, waitUntil} from '../../helpers/processes.js';

// One request followed with two real gdbs in ptys: the guest kernel's (gdbstub, debug kernel,
// lx-symbols) and QEMU's (gdb -p on the QEMU built with -g). The tests run in order on one VM:
// each picks up where the one before stopped. The VM also has a virtio disk kept busy meanwhile:
// its completions go through the same virtqueue_fill() the device-side breakpoint is on.

interface Walk {
	session: Session;
	vm: QemuVm;
	kernelGdb: GdbSession;
	qemuGdb?: GdbSession;
	greeting?: Promise<{output: string; status: number}>;
	driverSaid?: string;
	/** Reads the busy disk had completed when the device-side breakpoint was set. */
	diskReadsBefore?: number;
	modulePaths: string[];
}

/** Reads the guest's virtio disk completed so far (the first field of /sys/block/vda/stat). */
async function diskReads(vm: QemuVm): Promise<number> {
	const {output} = await vm.checks.run('cat /sys/block/vda/stat', {timeoutMs: 60_000});
	return Number(output.trim().split(/\s+/)[0]);
}

let started: Promise<Walk> | undefined;
function walk(): Promise<Walk> {
	started ??= (async () => {
		const cacheDir = cacheRoot();
		const source = await resolveKernelSource({cacheDir});
		const kernel = await ensureGdbKernel({source, cacheDir});
		const qemu = await ensureQemu({cacheDir, debugInfo: true});
		const session = new Session({cacheDir, panel: false}, () => {});
		session.kernel = kernel;
		session.customQemu = qemu.binary;
		const abort = new AbortController();
		for (const step of [driverStep, helloRootfsStep])
			await step.run({emit: () => {}, signal: abort.signal, session, step: step.id, figures: {}});
		const socket = await chooseGdbSocket(session.runDir('gdb-walk'));
		const vm = await session.boot({
			qemu: qemu.binary,
			append: gdbKernelAppend,
			gdbSocket: socket,
			extraArgs: [
				'-device',
				`virtio-hello-pci,id=hello0,greeting=${deviceGreeting}`,
				'-blockdev',
				'null-co,node-name=nullblk,size=67108864',
				'-device',
				'virtio-blk-pci,drive=nullblk,id=blk0',
			],
		});
		await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
		const loaded = await vm.checks.run('modprobe virtio_hello', {timeoutMs: 60_000});
		if (loaded.status !== 0) throw new Error(`modprobe: ${loaded.output}`);
		const modulePaths = [path.dirname(session.modules.virtio_hello!)];
		const kernelGdb = new GdbSession({argv: kernelGdbCommand({kernel, socket, modulePaths}), modulePaths});
		await kernelGdb.ready;
		return {session, vm, kernelGdb, modulePaths};
	})();
	return started;
}

test.after.always(async () => {
	if (!started) return;
	const w = await started.catch(() => undefined);
	await w?.qemuGdb?.dispose();
	await w?.kernelGdb.dispose();
	await w?.session.dispose();
});

test.serial('break: a function that exists nowhere is said, and no breakpoint is set', async t => {
	const {kernelGdb} = await walk();
	const result = await kernelGdb.break('no_such_function_anywhere');
	t.false(result.set);
	t.regex(result.message, /No function "no_such_function_anywhere" in the kernel or its modules/);
	await waitUntil(() => !kernelGdb.stopped, 10_000);
	t.false(kernelGdb.stopped, 'the guest runs on after the question');
});

test.serial("moduleDefining: a module's function is found in its .ko, a kernel one is not", async t => {
	const {modulePaths} = await walk();
	t.is(moduleDefining(walkBreakpoints.driverQueue, modulePaths), 'virtio_hello.ko');
	t.is(moduleDefining('schedule', modulePaths), undefined);
});

test.serial(
	'the breakpoint in the module is hit when hello-client greet sends one request, and the backtrace names the driver',
	async t => {
		const w = await walk();
		const set = await w.kernelGdb.break(walkBreakpoints.driverQueue);
		t.true(set.set, set.message);
		t.false(set.pending, 'the module is loaded: lx-symbols resolved it');
		// QEMU's gdb, attached now so it is ready for step two (it stops QEMU until it continues).
		const qemuPid = w.vm.pid;
		w.qemuGdb = new GdbSession({argv: qemuGdbCommand({qemu: w.vm.commandLine[0]!, pid: qemuPid})});
		await w.qemuGdb.ready;
		// The disk reads on and on, each read completed through virtqueue_fill(), while the
		// breakpoint there is set: only virtio-hello's handler may stop it.
		const reading = await w.vm.checks.run(
			'dd if=/dev/vda of=/dev/null bs=4096 count=100000000 iflag=direct >/dev/null 2>&1 & echo $! >/tmp/dd.pid',
		);
		t.is(reading.status, 0, reading.output);
		w.diskReadsBefore = await diskReads(w.vm);
		const handler = await w.qemuGdb.break(walkBreakpoints.deviceHandler, {condition: deviceHandlerCondition});
		t.true(handler.set, handler.message);
		t.true(await waitUntil(() => !w.qemuGdb!.stopped && !w.kernelGdb.stopped, 30_000), 'both targets run');
		w.greeting = w.vm.checks.run('hello-client greet Ada', {timeoutMs: 600_000});
		t.true(await waitUntil(() => w.kernelGdb.stopped, 120_000), w.kernelGdb.transcript.slice(-2000));
		t.regex(w.kernelGdb.transcript, /Breakpoint \d+, vh_queue \(/);
		const bt = await w.kernelGdb.backtrace();
		t.regex(bt, /#0\s+vh_queue \(/);
		t.regex(bt, /vh_submit_wait|vh_queue_std/, 'the caller in the driver');
		w.driverSaid = await printAll(w.kernelGdb, driverQueueCommands);
		await w.kernelGdb.command('delete');
		// The callback's breakpoint while the guest is stopped anyway: once QEMU has answered, the
		// guest takes the interrupt before gdb could stop it again.
		t.true((await w.kernelGdb.break(walkBreakpoints.driverCallback)).set);
		t.regex(w.driverSaid, /descriptor 0: addr 0x[0-9a-f]+ len \d+/, w.driverSaid);
		t.truthy(indicesIn(w.driverSaid), w.driverSaid);
	},
);

test.serial(
	"the QEMU-side breakpoint is hit in the device's handler for the same request (same descriptor address)",
	async t => {
		const w = await walk();
		t.truthy(w.qemuGdb && w.driverSaid, 'the step before stopped in the driver');
		w.kernelGdb.continue();
		t.true(await waitUntil(() => w.qemuGdb!.stopped, 120_000), w.qemuGdb!.transcript.slice(-2000));
		t.regex(w.qemuGdb!.transcript, /Breakpoint \d+, virtqueue_fill \(vq=0x[0-9a-f]+,\s+elem=(elem@entry=)?0x[0-9a-f]+/);
		const deviceSaid = await printAll(w.qemuGdb!, deviceHandlerCommands);
		t.regex(deviceSaid, /#1 .*virtio_hello_handle_one/, "called from the device's handler, not the disk's");
		t.is(descriptorAddress(deviceSaid), descriptorAddress(w.driverSaid!), `${w.driverSaid}\n${deviceSaid}`);
		const lengths = (said: string) => /^descriptor 0: addr \S+ len (\d+)/m.exec(said)?.[1];
		t.is(lengths(deviceSaid), lengths(w.driverSaid!));
		t.is(indicesIn(deviceSaid)?.side, 'device');
	},
);

test.serial(
	'after continuing, the driver callback sees the used element, and the request completes with the right answer',
	async t => {
		const w = await walk();
		// The callback's breakpoint was set at the driver's stop; QEMU answers now.
		await w.qemuGdb!.command('delete');
		w.qemuGdb!.continue();
		t.true(await waitUntil(() => w.kernelGdb.stopped, 120_000), w.kernelGdb.transcript.slice(-2000));
		t.regex(w.kernelGdb.transcript, /Breakpoint \d+, vh_vq_done \(/);
		const said = await printAll(w.kernelGdb, driverCallbackCommands);
		t.regex(said, /used element: head \d+, [1-9]\d* bytes written/, said);
		t.regex(said, /status = 0|len = \d+/, said);
		await w.kernelGdb.command('delete');
		w.kernelGdb.continue();
		const reply = await w.greeting!;
		t.is(reply.status, 0, reply.output);
		t.is(reply.output.trim(), `Hello, Ada! from ${deviceGreeting}`);
		// The disk was busy all along: its completions passed the breakpoint without a stop.
		const readsAfter = await diskReads(w.vm);
		await w.vm.checks.run('kill "$(cat /tmp/dd.pid)"');
		t.log(`disk reads completed while the breakpoint was set: ${readsAfter - w.diskReadsBefore!}`);
		t.true(readsAfter - w.diskReadsBefore! > 100, 'the disk went on reading through the walk');
	},
);

test.serial('after quitting, no gdb and no QEMU remain', async t => {
	const w = await walk();
	const gdbPids = [w.kernelGdb.pid, w.qemuGdb!.pid];
	await w.qemuGdb!.quit();
	await w.kernelGdb.quit();
	// Quitting detached: the guest answers again.
	const alive = await w.vm.checks.run('echo still-here', {timeoutMs: 60_000});
	t.is(alive.output.trim(), 'still-here');
	const qemuPid = w.vm.pid;
	await w.session.dispose();
	for (const pid of gdbPids) t.false(isAlive(pid), `gdb ${pid} is gone`);
	t.true(await waitUntil(() => !isAlive(qemuPid), 10_000), 'QEMU is gone');
});
