import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {
	buildHelloClient,
	helloAbiHeader,
	helloDriverDir,
	helloRootfsStep,
	qemuStep,
	helloBuildSteps,
} from '../../source/expedition/virtio-hello.js';
import {shellPrompt} from '../../source/expedition/shell.js';
import type {StepLogic} from '../../source/expedition/types.js';
import {buildKernelModule} from '../../source/lab/build/kernel-module.js';
import {ensureKernel, listFragments, type KernelBuild} from '../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../source/lab/build/kernel-source.js';
import {cacheRoot, configsDir} from '../../source/lab/paths.js';
import {QmpClient} from '../../source/lab/vm/qmp.js';
import type {QemuVm} from '../../source/lab/vm/qemu-vm.js';
import {Session} from '../../source/lab/session.js';

/**
 * Which kernel the driver tests boot: "debug" (configs/kernel/ + configs/kernel-debug/: lockdep,
 * atomic-sleep checks, kmemleak, failslab) unless KERNELCRAFT_DRIVER_KERNEL=normal.
 */
export type KernelFlavour = 'normal' | 'debug';
export const driverKernelFlavour: KernelFlavour =
	process.env.KERNELCRAFT_DRIVER_KERNEL === 'normal' ? 'normal' : 'debug';

/**
 * The driver source the debug flavour builds: the repository's, or another tree given in
 * KERNELCRAFT_HELLO_DRIVER_SRC (to check that the tests fail on a driver without a fix; its
 * Kbuild must then find the ABI header by an absolute -I).
 */
const driverSourceDir = process.env.KERNELCRAFT_HELLO_DRIVER_SRC ?? helloDriverDir;

export const debugFragments = () => [
	...listFragments(path.join(configsDir, 'kernel')),
	...listFragments(path.join(configsDir, 'kernel-debug')),
];

/** The debug kernel: the normal fragments plus configs/kernel-debug/, so it is cached under its own key. */
export async function ensureDebugKernel(
	cacheDir: string,
	signal: AbortSignal,
	onLine?: (line: string) => void,
): Promise<KernelBuild> {
	const source = await resolveKernelSource({cacheDir, signal, onLine});
	return ensureKernel({source, fragments: debugFragments(), cacheDir, signal, onLine});
}

export interface DriverVm {
	session: Session;
	vm: QemuVm;
	qmp: QmpClient;
	flavour: KernelFlavour;
	/** Runs a command on the guest's check shell. */
	sh(command: string, timeoutMs?: number): Promise<{output: string; status: number}>;
	/** insmod path of virtio_hello.ko in the guest. */
	driver: string;
}

const driverOnDebug: StepLogic = {
	// The driver and its client, built for the debug kernel.
	id: 'driver',
	async run(ctx) {
		const kernel = ctx.session.kernel!;
		const build = await buildKernelModule({
			srcDir: driverSourceDir,
			kernel,
			cacheDir: ctx.session.cacheDir,
			extraInputs: [helloAbiHeader],
			signal: ctx.signal,
		});
		ctx.session.modules.virtio_hello = build.modules.virtio_hello!;
		const client = await buildHelloClient(ctx.session.cacheDir, ctx.signal);
		ctx.session.guestPrograms['hello-client'] = client.path;
		return 'built';
	},
};

/**
 * A VM with QEMU-with-virtio-hello, the driver and the client on the chosen kernel, booted with
 * the devices a test asks for. The panel is off so the test holds QEMU's QMP connection itself.
 */
export async function bootDriverVm(
	t: ExecutionContext,
	extraArgs: string[],
	flavour: KernelFlavour = driverKernelFlavour,
): Promise<DriverVm> {
	const session = new Session({cacheDir: cacheRoot(), panel: false}, () => {});
	t.teardown(() => session.dispose());
	const abort = new AbortController();
	t.teardown(() => abort.abort());
	const figures = {};
	const run = (step: StepLogic) => step.run({emit: () => {}, signal: abort.signal, session, step: step.id, figures});
	if (flavour === 'normal') {
		for (const step of helloBuildSteps) await run(step);
	} else {
		session.kernel = await ensureDebugKernel(session.cacheDir, abort.signal);
		for (const step of [qemuStep, driverOnDebug, helloRootfsStep]) await run(step);
	}
	const vm = await session.boot({qemu: session.customQemu, extraArgs});
	await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
	const qmp = await QmpClient.connect({socketPath: vm.qmpSocket});
	t.teardown(() => qmp.close());
	const driver = `/lib/modules/${session.kernel!.release}/extra/virtio_hello.ko`;
	const sh = (command: string, timeoutMs = 60_000) => vm.checks.run(command, {timeoutMs});
	// Leak suspects from boot are not the driver's: scan once and forget them.
	await sh(
		'if [ -e /sys/kernel/debug/kmemleak ]; then echo scan > /sys/kernel/debug/kmemleak; echo clear > /sys/kernel/debug/kmemleak; fi',
		120_000,
	);
	return {session, vm, qmp, flavour, driver, sh};
}

/** What a kernel prints when something is wrong, whatever the debug options that caught it. */
export const kernelComplaint =
	/BUG:|WARNING:|Oops|general protection|possible (recursive|circular) locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|scheduling while atomic|INFO: task \S+ blocked|kmemleak: \d+ new suspected|UBSAN|KASAN/;

/**
 * Reports that are not the driver's. Linux 6.1's pciehp takes pci_rescan_remove_lock and then
 * ctrl->reset_lock when it unconfigures a slot, the reverse of its reset path, and lockdep says
 * so on the first surprise-free hot-unplug of any device, whatever its driver.
 */
export const pciehpUnplugSplat =
	/possible circular locking dependency detected[\s\S]{0,400}is trying to acquire lock:\s*\n[^\n]*\(&ctrl->reset_lock\)[^\n]*pciehp_unconfigure_device[^\n]*\n[\s\S]{0,200}already holding lock:\s*\n[^\n]*\(pci_rescan_remove_lock\)/;

/**
 * The kernel log holds no complaint, and (when the kernel has kmemleak) a scan finds no leak.
 * Returns the log for further checks.
 */
export async function assertKernelClean(
	t: ExecutionContext,
	vm: DriverVm,
	options: {allowPciehpUnplugSplat?: boolean} = {},
): Promise<string> {
	const {sh} = vm;
	if ((await sh('test -e /sys/kernel/debug/kmemleak')).status === 0) {
		// An object is reported only once it is old enough (5 s) and seen unreferenced by a scan.
		await sh('sleep 6; echo scan > /sys/kernel/debug/kmemleak', 120_000);
		const leaks = (await sh('cat /sys/kernel/debug/kmemleak', 60_000)).output.trim();
		t.is(leaks, '', 'kmemleak reports no leak');
	}
	const log = (await sh('dmesg')).output;
	const complaints = [...log.matchAll(new RegExp(kernelComplaint.source, 'g'))].filter(match => {
		// A report's own lines follow its first one: judge the report by what it says about itself.
		const report = log.slice(match.index, match.index + 1200);
		return !(
			options.allowPciehpUnplugSplat &&
			pciehpUnplugSplat.test(log.slice(Math.max(0, match.index - 100), match.index + 1200)) &&
			/circular locking/.test(report)
		);
	});
	const first = complaints[0];
	t.is(complaints.length, 0, first ? log.slice(Math.max(0, first.index - 200), first.index + 1500) : '');
	return log;
}
