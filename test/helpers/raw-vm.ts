import {readFile} from 'node:fs/promises';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {kernelStep} from '../../source/expedition/boot.js';
import {shellPrompt} from '../../source/expedition/shell.js';
import type {StepLogic} from '../../source/expedition/types.js';
import {qemuStep} from '../../source/expedition/virtio-hello.js';
import {buildGuestProgram} from '../../source/lab/build/guest-program.js';
import {cacheRoot, devicesDir} from '../../source/lab/paths.js';
import {QmpClient} from '../../source/lab/vm/qmp.js';
import type {QemuVm} from '../../source/lab/vm/qemu-vm.js';
import {Session} from '../../source/lab/session.js';

/**
 * A guest with no virtio-hello driver, only devices/virtio-hello/test/vh-raw.c: a user-space
 * virtio-pci driver that does what a scenario says, including what the spec forbids. The device
 * tests and the fuzz test drive QEMU's side of virtio-hello with it.
 */
export interface RawVm {
	vm: QemuVm;
	qmp: QmpClient;
	/** /sys/bus/pci/devices/<bdf> of each virtio-hello device, in PCI order. */
	pci: string[];
	/** A guest command that outlives QEMU (an abort) resolves with what QEMU said, not a throw. */
	sh(command: string, timeoutMs?: number): Promise<{output: string; status: number}>;
	/** What QEMU and the guest console printed lately (the kept tail, 512 KiB). */
	console(): string;
	/** Everything QEMU and the guest console printed: the whole transcript. */
	transcript(): Promise<string>;
}

/**
 * Boots our kernel on the QEMU with virtio-hello (or KERNELCRAFT_DEVICE_TEST_QEMU, a binary built
 * before a fix, to see a test fail) with vh-raw in the rootfs; `extraArgs` add the devices.
 */
export async function bootRawVm(t: ExecutionContext, extraArgs: string[]): Promise<RawVm> {
	const session = new Session({cacheDir: cacheRoot(), panel: false}, () => {});
	t.teardown(() => session.dispose());
	const signal = new AbortController().signal;
	const run = (step: StepLogic) => step.run({emit: () => {}, signal, session, step: step.id, figures: {}});
	await run(kernelStep);
	await run(qemuStep);
	const tool = await buildGuestProgram({
		name: 'vh-raw',
		source: path.join(devicesDir, 'virtio-hello', 'test', 'vh-raw.c'),
		includeDirs: [],
		inputs: [],
		cacheDir: session.cacheDir,
		signal,
	});
	session.packRootfs([{guestPath: '/usr/bin/vh-raw', hostPath: tool.path, mode: '755'}]);
	const vm = await session.boot({qemu: process.env.KERNELCRAFT_DEVICE_TEST_QEMU ?? session.customQemu, extraArgs});
	await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 60_000, since: 0});
	const qmp = await QmpClient.connect({socketPath: vm.qmpSocket});
	t.teardown(() => qmp.close());
	const sh = async (command: string, timeoutMs = 30_000) => {
		try {
			return await vm.checks.run(command, {timeoutMs});
		} catch (error) {
			return {output: `(no answer: ${(error as Error).message})`, status: -1};
		}
	};
	const pci = (await sh('for d in /sys/bus/pci/devices/*; do [ "$(cat $d/device)" = 0x1078 ] && echo $d; done')).output
		.trim()
		.split('\n')
		.filter(Boolean);
	const transcriptPath = path.join(vm.runDir, 'console.log');
	return {
		vm,
		qmp,
		pci,
		sh,
		console: () => vm.console.textSince(0),
		transcript: async () => readFile(transcriptPath, 'utf8'),
	};
}

/**
 * Waits until QEMU's own output (the pty) shows `pattern`. The guest's answers come over another
 * serial line (the check channel), so a guest command can return before Node has read what QEMU
 * wrote to its pty earlier: a test that counts QEMU's lines waits for them first.
 */
export async function qemuSaid(vm: QemuVm, pattern: RegExp, what: string): Promise<void> {
	await vm.console.expect(pattern, {what, timeoutMs: 10_000, since: 0});
}
