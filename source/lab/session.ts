import {releaseSocketDir} from './vm/socket-dir.js';
import {pruneRuns} from './cache-inventory.js';
import fs from 'node:fs';
import path from 'node:path';
import type {KernelBuild} from './build/kernel.js';
import {ensureKernel, listFragments} from './build/kernel.js';
import {chooseGdbSocket, ensureGdbKernel, gdbKernelAppend} from './debug/gdb.js';
import {resolveKernelSource} from './build/kernel-source.js';
import {ensureRootfs, type GuestFile, type Rootfs} from './build/rootfs.js';
import {chooseAccel, type AccelChoice} from './host/accel.js';
import {configsDir} from './paths.js';
import {QemuVm, type VmSpec} from './vm/qemu-vm.js';
import {PanelFeed} from './virtio/panel-feed.js';
import {deviceTraceEvents, qemuTraceArgs} from './virtio/trace-counter.js';
import type {LabEmit} from './lab-events.js';

export interface SessionOptions {
	cacheDir: string;
	/** --kernel-src / KERNEL_SRC. */
	kernelSrc?: string;
	/** --accel / KERNELCRAFT_ACCEL: "tcg" or "kvm"; unset means decide. */
	accel?: string;
	qemu?: string;
	/** Kernel config fragments dir (tests point this at a broken fragment set). */
	kernelConfigDir?: string;
	/** QEMU_SRC / --qemu-src: a QEMU 7.2 tree for the virtio-hello build. */
	qemuSrc?: string;
	/** A module folder to build instead of drivers/hello (--module-src). */
	moduleSrc?: string;
	/**
	 * The learner's exercise folders by exercise id (the TUI and `run --exercise`): a milestone
	 * builds these instead of its reference sources.
	 */
	exerciseDirs?: Record<string, string>;
	/** hello-module's insmod parameters (--module-params), e.g. "whom=Grace times=3". */
	moduleParams?: string;
	/** Sample the virtqueue panel (QMP, trace, guest side channel); on unless false. */
	panel?: boolean;
	/** Panel sampling interval; 250 ms (4 Hz) by default, twice that while the queues are idle. */
	panelIntervalMs?: number;
	/**
	 * The panel is on screen (the TUI): QEMU traces kicks and interrupts in a short window every few
	 * seconds (PanelFeed's duty cycle), so the panel shows kick/s and irq/s, measured in the last
	 * window. Unset (headless runs, benchmarks): the per-request trace
	 * events are on only inside the steps' counting windows (PanelFeed.countKicks).
	 */
	panelShown?: boolean;
	/** Seconds the tune milestone measures each variant for (bench --seconds / --short). */
	tuneSeconds?: number;
	/** The console pane's size, so the guest's terminal matches what the learner sees. */
	consoleSize?: {cols: number; rows: number};
	/**
	 * --debug: milestones build the gdb kernel flavour (DWARF, gdb scripts) and boot it with
	 * nokaslr and QEMU's gdbstub on a unix socket in the run's folder, so gdb can attach (`g`).
	 */
	debug?: boolean;
}

/**
 * What the steps of a run share: the builds done so far, the accelerator, the running VM and the
 * run's private directory. Disposing it stops the VM, whatever state the run ended in.
 */
export class Session {
	kernel: KernelBuild | undefined;
	rootfs: Rootfs | undefined;
	vm: QemuVm | undefined;
	panel: PanelFeed | undefined;
	/** QEMU built with the devices of devices/ (virtio-hello). */
	customQemu: string | undefined;
	/** Static guest programs built on the host, by name. */
	readonly guestPrograms: Record<string, string> = {};
	/** The run's copy of the virtio-blk disk image. */
	disk: string | undefined;
	/** Built .ko files by module name, for the steps that pack and load them. */
	readonly modules: Record<string, string> = {};
	/**
	 * Runs a heavy build of the milestone's own; the TUI's workbench sets it to pause its
	 * background build meanwhile, so two heavy builds never share the CPU.
	 */
	foreground: <T>(work: () => Promise<T>) => Promise<T> = work => work();
	private accelChoice: AccelChoice | undefined;
	private readonly panelAbort = new AbortController();
	private lookInside = false;
	private runDirectory: string | undefined;
	/** The gdbstub's socket of the running VM (--debug). */
	gdbSocket: string | undefined;

	constructor(
		readonly options: SessionOptions,
		readonly emit: LabEmit,
	) {}

	get cacheDir(): string {
		return this.options.cacheDir;
	}

	get qemu(): string {
		return this.options.qemu ?? '/usr/bin/qemu-system-x86_64';
	}

	/**
	 * Logs and transcripts of the run going on: <cache>/runs/<date>-<milestone>. Made on first use
	 * when no run was started (gdb, tests).
	 */
	runDir(milestone = 'run'): string {
		return (this.runDirectory ??= this.makeRunDir(milestone));
	}

	/**
	 * A fresh run folder for a milestone, current from now on. A session lives as long as the TUI and
	 * runs one milestone after another: each keeps its own logs, transcripts and VM folders.
	 */
	startRun(milestone: string): string {
		this.runDirectory = this.makeRunDir(milestone);
		return this.runDirectory;
	}

	private makeRunDir(milestone: string): string {
		const stamp = new Date().toISOString().replace(/[:.]/g, '-');
		const runs = path.join(this.cacheDir, 'runs');
		// Runs add up (traces, transcripts, disk images): old ones go before a new one starts.
		pruneRuns(this.cacheDir);
		fs.mkdirSync(runs, {recursive: true, mode: 0o700});
		// Two runs in the same millisecond still get a folder each: mkdir fails on one that exists.
		for (let attempt = 1; ; attempt++) {
			const dir = path.join(runs, `${stamp}${attempt > 1 ? `-${attempt}` : ''}-${milestone}`);
			try {
				fs.mkdirSync(dir, {mode: 0o700});
				return dir;
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			}
		}
	}

	async accel(): Promise<AccelChoice> {
		if (!this.accelChoice) {
			this.accelChoice = await chooseAccel(this.qemu, this.options.accel);
			this.emit({type: 'accel', choice: this.accelChoice});
		}
		return this.accelChoice;
	}

	get chosenAccel(): AccelChoice | undefined {
		return this.accelChoice;
	}

	async buildKernel(step: string, signal: AbortSignal): Promise<KernelBuild> {
		this.kernel = await this.foreground(async () => {
			const source = await resolveKernelSource({
				given: this.options.kernelSrc,
				cacheDir: this.cacheDir,
				signal,
				onLine: line => this.emit({type: 'log', step, line}),
			});
			const onLine = (line: string) => this.emit({type: 'log', step, line});
			if (this.options.debug)
				return ensureGdbKernel({
					source,
					cacheDir: this.cacheDir,
					signal,
					onLine,
					onProgress: (fraction, label, estimated) => this.emit({type: 'progress', step, fraction, label, estimated}),
				});
			return ensureKernel({
				source,
				fragments: listFragments(this.options.kernelConfigDir ?? path.join(configsDir, 'kernel')),
				cacheDir: this.cacheDir,
				signal,
				onLine: line => this.emit({type: 'log', step, line}),
				onProgress: (fraction, label, estimated) => this.emit({type: 'progress', step, fraction, label, estimated}),
			});
		});
		return this.kernel;
	}

	packRootfs(extras: GuestFile[] = []): Rootfs {
		if (!this.kernel) throw new Error('packRootfs before buildKernel');
		this.rootfs = ensureRootfs({kernelBuildDir: this.kernel.buildDir, cacheDir: this.cacheDir, extras});
		return this.rootfs;
	}

	/** Boots the built kernel and rootfs; a VM still running from an earlier step is stopped first. */
	async boot(extra: Partial<VmSpec> = {}): Promise<QemuVm> {
		if (!this.kernel || !this.rootfs) throw new Error('boot before buildKernel/packRootfs');
		await this.stopVm();
		const accel = await this.accel();
		const size = this.options.consoleSize;
		const runDir = path.join(this.runDir(), `vm-${Date.now()}`);
		const panelOn = this.options.panel !== false;
		const traceLog = path.join(runDir, 'virtio-trace.log');
		const live = this.options.panelShown === true;
		if (this.options.debug && !extra.gdbSocket) {
			fs.mkdirSync(runDir, {recursive: true, mode: 0o700});
			extra = {
				...extra,
				gdbSocket: await chooseGdbSocket(runDir),
				append: [gdbKernelAppend, extra.append ?? ''].join(' ').trim(),
			};
		}
		this.gdbSocket = extra.gdbSocket;
		const panelArgs = panelOn ? qemuTraceArgs(traceLog, deviceTraceEvents, {counting: live}) : [];
		const vm = QemuVm.start(
			{
				qemu: this.qemu,
				kernel: this.kernel.bzImage,
				initrd: this.rootfs.path,
				accel,
				runDir,
				cols: size?.cols,
				rows: size?.rows,
				...extra,
				append: [panelOn ? '' : 'kc.panel=0', extra.append ?? ''].join(' ').trim(),
				extraArgs: [...panelArgs, ...(extra.extraArgs ?? [])],
			},
			this.emit,
		);
		this.vm = vm;
		if (panelOn) {
			const panel = new PanelFeed({
				qmpSocket: vm.qmpSocket,
				traceLog,
				sideSocket: vm.sideSocket,
				intervalMs: this.options.panelIntervalMs ?? 250,
				emit: this.emit,
				signal: this.panelAbort.signal,
				liveCounters: live,
				countingFromStart: live,
			});
			panel.lookInside = this.lookInside;
			this.panel = panel;
			void vm.exited.then(() => panel.stop());
		}
		return vm;
	}

	/** Carried over to every VM booted later, so the learner's choice survives a reboot. */
	setLookInside(on: boolean): void {
		this.lookInside = on;
		if (this.panel) this.panel.lookInside = on;
	}

	async stopVm(): Promise<void> {
		const vm = this.vm;
		const panel = this.panel;
		this.vm = undefined;
		this.panel = undefined;
		this.gdbSocket = undefined;
		await panel?.stop();
		await vm?.stop();
	}

	async dispose(): Promise<void> {
		this.panelAbort.abort();
		await this.stopVm();
		// The run folder's own sockets (tune's second QMP), when they had to live elsewhere.
		if (this.runDirectory) releaseSocketDir(this.runDirectory);
	}
}
