import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {deviceGreeting, driverStep, helloRootfsStep} from '../expedition/virtio-hello.js';
import {shellPrompt} from '../expedition/shell.js';
import type {Step} from '../expedition/types.js';
import {resolveKernelSource} from '../lab/build/kernel-source.js';
import {ensureQemu} from '../lab/build/qemu-build.js';
import {
	chooseGdbSocket,
	ensureGdbKernel,
	gdbKernelAppend,
	kernelGdbCommand,
	onPath,
	ptraceBlocker,
	qemuGdbCommand,
	shellLine,
} from '../lab/debug/gdb.js';
import {ownChild} from '../lab/host/child-reaper.js';
import {GdbSession} from '../lab/debug/gdb-session.js';
import type {QemuVm} from '../lab/vm/qemu-vm.js';
import {followOneRequest} from '../expedition/request-walk.js';
import {gdbRequirements, packageStates, requirementsFor} from '../lab/host/requirements.js';
import {findMilestone} from '../expedition/milestones.js';
import {LabError} from '../lab/lab-error.js';
import {devicesDir} from '../lab/paths.js';
import type {RunEvent} from '../runner/events.js';
import {Session} from '../lab/session.js';
import {UsageError} from './args.js';
import {lendTerminal} from './exit-guard.js';
import {HumanRunPrinter} from './human-run-printer.js';

/** The VMs `kernelcraft gdb` boots: milestone 1's, and milestones 4-5's (QEMU with virtio-hello). */
export const gdbMilestones = ['boot', 'virtio-hello'];

export interface GdbCommandOptions {
	milestone?: string;
	/** --qemu: the gdb in this terminal attaches to the QEMU process (built with -g). */
	qemu: boolean;
	/** --walk: follow one request with both gdbs (virtio-hello), printing each stop, then stop. */
	walk?: boolean;
	cacheDir: string;
	kernelSrc?: string;
	qemuSrc?: string;
	accel?: string;
	/** Called with the session once it exists: main stops it on a signal. */
	onSession?: (session: Session) => void;
}

/**
 * `kernelcraft gdb [milestone] [--qemu]`: builds the gdb-flavour kernel (once), boots the
 * milestone's VM with QEMU's gdbstub on a unix socket in the run's 0700 folder, prints the gdb
 * command lines (so an IDE can attach the same way) and runs gdb in this terminal. When gdb exits,
 * the VM is stopped and the socket removed.
 */
export async function gdbCommand(options: GdbCommandOptions, out: NodeJS.WriteStream): Promise<number> {
	const milestone = options.milestone ?? (options.qemu ? 'virtio-hello' : 'boot');
	if (options.walk && milestone !== 'virtio-hello')
		throw new UsageError('--walk follows a virtio-hello request: `kernelcraft gdb virtio-hello --walk`.', 'gdb');
	if (!gdbMilestones.includes(milestone))
		throw new UsageError(
			`kernelcraft gdb runs the VM of ${gdbMilestones.join(' or ')}, not of "${milestone}" (tune runs on virtio-hello's VM).`,
			'gdb',
		);
	if (options.qemu && milestone === 'boot')
		throw new UsageError(
			"--qemu needs the QEMU kernelcraft builds (milestones 4-5): `kernelcraft gdb virtio-hello --qemu`. Debian's QEMU has no debug info.",
			'gdb',
		);
	if (options.accel && options.accel !== 'tcg' && options.accel !== 'kvm')
		throw new UsageError(`--accel takes tcg or kvm, not "${options.accel}".`, 'gdb');
	checkHost(milestone);
	if (options.qemu) {
		const blocker = ptraceBlocker();
		if (blocker) throw new LabError({what: 'gdb cannot attach to QEMU here.', hint: blocker});
	}

	const printer = new HumanRunPrinter(out);
	const emit = (event: RunEvent) => printer.take(event);
	const session = new Session(
		{
			cacheDir: options.cacheDir,
			kernelSrc: options.kernelSrc,
			qemuSrc: options.qemuSrc,
			accel: options.accel,
			panel: false,
		},
		emit,
	);
	options.onSession?.(session);
	const abort = new AbortController();
	let tempSocketDir: string | undefined;
	let runDir: string | undefined;
	try {
		const step = async <T>(id: string, title: string, work: () => Promise<T>, detail: (result: T) => string) => {
			emit({type: 'step-started', step: id, title});
			const started = Date.now();
			const result = await work();
			emit({type: 'verified', step: id, detail: detail(result), ms: Date.now() - started});
			return result;
		};
		const progress = (id: string) => (fraction: number, label: string, estimated: boolean) =>
			emit({type: 'progress', step: id, fraction, label, estimated});
		const onLine = (line: string) => {
			if (/^(waiting for|kernel .* already built|QEMU .* already built)/.test(line)) out.write(`  ${line}\n`);
		};
		const kernel = await step(
			'kernel',
			'Build the gdb kernel (configs/kernel/ + configs/kernel-gdb/: DWARF 5, gdb scripts; built once)',
			async () => {
				const source = await resolveKernelSource({
					given: options.kernelSrc,
					cacheDir: options.cacheDir,
					signal: abort.signal,
					onLine,
				});
				return ensureGdbKernel({
					source,
					cacheDir: options.cacheDir,
					signal: abort.signal,
					onLine,
					onProgress: progress('kernel'),
				});
			},
			built => `${built.release} with debug info, ${built.rebuilt ? 'built now' : 'from the cache'}: ${built.vmlinux}`,
		);
		session.kernel = kernel;
		const modulePaths: string[] = [];
		if (milestone === 'virtio-hello') {
			const qemu = await step(
				'qemu',
				options.qemu
					? 'Build QEMU with virtio-hello and debug info (-g; its own cache entry)'
					: 'Build QEMU with virtio-hello',
				() =>
					ensureQemu({
						given: options.qemuSrc,
						cacheDir: options.cacheDir,
						signal: abort.signal,
						onLine,
						onProgress: progress('qemu'),
						debugInfo: options.qemu,
					}),
				built =>
					`QEMU ${built.version}${options.qemu ? ' with -g' : ''}, ${built.rebuilt ? 'built now' : 'from the cache'}: ${built.binary}`,
			);
			session.customQemu = qemu.binary;
			const figures = {};
			for (const milestoneStep of [driverStep, helloRootfsStep] as Step[])
				await step(
					milestoneStep.id,
					milestoneStep.title,
					() => milestoneStep.run({emit, signal: abort.signal, session, step: milestoneStep.id, figures}),
					detail => detail,
				);
			modulePaths.push(path.dirname(session.modules.virtio_hello!));
		} else {
			await step(
				'rootfs',
				'Pack the root filesystem',
				async () => session.packRootfs(),
				rootfs => rootfs.path,
			);
		}

		runDir = session.runDir(`gdb-${milestone}`);
		const socket = await chooseGdbSocket(runDir);
		if (path.dirname(socket) !== runDir) tempSocketDir = path.dirname(socket);
		const vm = await step(
			'boot',
			'Boot it with the gdbstub (nokaslr)',
			async () => {
				const booted = await session.boot({
					...(session.customQemu ? {qemu: session.customQemu} : {}),
					append: gdbKernelAppend,
					gdbSocket: socket,
					// The milestones' device, as their boot step starts it.
					extraArgs:
						milestone === 'virtio-hello' ? ['-device', `virtio-hello-pci,id=hello0,greeting=${deviceGreeting}`] : [],
				});
				await booted.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
				return booted;
			},
			() => `the guest's shell is up; gdbstub on ${socket}`,
		);
		if (milestone === 'virtio-hello') {
			const loaded = await vm.checks.run('modprobe virtio_hello && ls /dev/virtio-hello*', {timeoutMs: 60_000});
			out.write(
				loaded.status === 0
					? `  virtio_hello is loaded (${loaded.output.trim()})\n`
					: `  modprobe virtio_hello failed: ${loaded.output.trim()}\n`,
			);
		}

		const kernelGdb = kernelGdbCommand({kernel, socket, modulePaths});
		const qemuGdb = qemuGdbCommand({qemu: vm.commandLine[0]!, pid: vm.pid});
		if (options.walk) return await walk({kernelGdb, qemuGdb, modulePaths, vm, out});
		out.write(
			[
				'',
				`The VM is running: QEMU pid ${vm.pid}, gdbstub on ${socket}`,
				`  its console (as it prints): tail -f ${path.join(vm.runDir, 'console.log')}`,
				'gdb on the guest kernel (this exact line works from another terminal or an IDE while the VM runs):',
				`  ${shellLine(kernelGdb)}`,
				...(options.qemu
					? [
							'gdb on QEMU itself (runs here now):',
							`  ${shellLine(qemuGdb)}`,
							`  e.g. break virtio_hello_handle_request, or break virtio-hello.c:LINE: the device is compiled from`,
							`  the copy of ${path.join(devicesDir, 'virtio-hello')} in QEMU's work tree; while this gdb holds QEMU stopped, the guest is frozen too.`,
						]
					: []),
				'Quit gdb (`quit`) to stop the VM. Ctrl-C in gdb interrupts the guest (or QEMU), not kernelcraft.',
				'',
			].join('\n'),
		);
		const code = await runGdb(options.qemu ? qemuGdb : kernelGdb);
		if (code !== 0) {
			out.write(`✗ gdb exited with code ${code}; the VM is stopped.\n`);
			return 1;
		}
		out.write('gdb exited; stopping the VM.\n');
		return 0;
	} finally {
		abort.abort();
		await session.dispose();
		if (tempSocketDir) fs.rmSync(tempSocketDir, {recursive: true, force: true});
		if (runDir) removeSockets(runDir);
	}
}

/** --walk: both gdbs in ptys, the three stops printed as they come, both detached at the end. */
async function walk(options: {
	kernelGdb: string[];
	qemuGdb: string[];
	modulePaths: string[];
	vm: QemuVm;
	out: NodeJS.WriteStream;
}): Promise<number> {
	const {out, vm} = options;
	const kernel = new GdbSession({argv: options.kernelGdb, modulePaths: options.modulePaths});
	let qemu: GdbSession | undefined;
	try {
		out.write(`The VM is running: QEMU pid ${vm.pid}\n`);
		out.write('Attaching gdb to the guest kernel (reading vmlinux takes a while)…\n');
		await kernel.ready;
		out.write('Attaching gdb to QEMU…\n');
		qemu = new GdbSession({argv: options.qemuGdb});
		await qemu.ready;
		const {answer} = await followOneRequest({
			kernelGdb: kernel,
			qemuGdb: qemu,
			send: () => vm.checks.run('hello-client greet Ada', {timeoutMs: 600_000}),
			say: ({n, side, where, printed}) => out.write(`\n── stop ${n}: the ${side} in ${where} ──\n${printed.trim()}\n`),
		});
		out.write(`\nhello-client greet Ada answered: ${answer!.output.trim()}\n`);
		return answer!.status === 0 ? 0 : 1;
	} finally {
		await qemu?.dispose();
		await kernel.dispose();
	}
}

/** gdb and the packages the milestone needs, before anything is built; names `kernelcraft setup`. */
function checkHost(milestone: string): void {
	const needed = [...gdbRequirements, ...requirementsFor(findMilestone(milestone) ?? {id: milestone})];
	const missing = [
		...new Set(
			packageStates(needed)
				.filter(state => !state.installed)
				.map(state => state.pkg),
		),
	];
	if (missing.length > 0)
		throw new LabError({
			what: `kernelcraft gdb needs ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed.`,
			hint: 'Run `kernelcraft setup` (it installs Debian packages after asking), then run this again.',
		});
	if (!onPath('gdb'))
		throw new LabError({
			what: 'gdb is not on PATH.',
			hint: "Run `kernelcraft setup` (it installs Debian's gdb), or add the folder that holds gdb to PATH.",
		});
}

/** Runs gdb with this terminal (stdio inherited); Ctrl-C is gdb's meanwhile. Resolves its exit code. */
function runGdb(argv: string[]): Promise<number> {
	return lendTerminal(
		() =>
			new Promise<number>((resolve, reject) => {
				const child = spawn(argv[0]!, argv.slice(1), {stdio: 'inherit'});
				const disown = child.pid ? ownChild(child.pid, 'gdb') : () => undefined;
				child.once('error', error => {
					disown();
					reject(new LabError({what: `Could not start gdb: ${error.message}`, hint: 'Run `kernelcraft doctor`.'}));
				});
				child.once('exit', (code, signal) => {
					disown();
					resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 0) : 1));
				});
			}),
	);
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
	return {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15}[signal as string];
}

/** QEMU leaves its listening sockets behind when it is killed: the run keeps logs, not sockets. */
function removeSockets(dir: string): void {
	const walk = (folder: string) => {
		for (const entry of fs.readdirSync(folder, {withFileTypes: true})) {
			const full = path.join(folder, entry.name);
			if (entry.isDirectory()) walk(full);
			else if (entry.isSocket()) fs.rmSync(full, {force: true});
		}
	};
	try {
		walk(dir);
	} catch {}
}
