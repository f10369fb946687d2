import fs from 'node:fs';
import path from 'node:path';
import pty from 'node-pty';
import type {AccelChoice} from '../host/accel.js';
import type {LabEmit} from '../lab-events.js';
import {ownChild} from '../host/child-reaper.js';
import {gdbstubArgs} from '../debug/gdb.js';
import {LabError} from '../lab-error.js';
import {bootPhases, type BootPhases} from './boot-phases.js';
import {CheckChannel} from './check-channel.js';
import {GuestPause} from './guest-pause.js';
import {qemuOptionValue, releaseSocketDir, socketDirFor} from './socket-dir.js';
import {SerialConsole} from './serial-console.js';

export interface VmSpec {
	qemu: string;
	kernel: string;
	initrd: string;
	/** Kernel command line added after the console settings. */
	append?: string;
	accel: AccelChoice;
	/** -machine (default q35: PCIe, which the virtio milestones and hotplug need). */
	machine?: string;
	/** -bios: the firmware image (default: qboot when fastBoot is on and it is installed). */
	bios?: string;
	/**
	 * The boot-time cuts (default on): qboot instead of SeaBIOS, and no local-APIC timer
	 * calibration on one CPU. `npm run bench` turns them off to measure what each one is worth.
	 */
	fastBoot?: boolean;
	memoryMb?: number;
	smp?: number;
	/** -device/-drive/-chardev arguments a milestone adds. */
	extraArgs?: string[];
	/** QEMU's gdbstub on this unix socket (`kernelcraft gdb`); never a TCP port. */
	gdbSocket?: string;
	/** Private run directory (made 0700): QMP socket, transcript, pidfile. */
	runDir: string;
	cols?: number;
	rows?: number;
}

export interface VmExit {
	exitCode: number | null;
	signal: number | undefined;
}

/**
 * qboot (Debian's qemu-system-data): a firmware that sets up only what Linux needs (memory map,
 * MP table, PCI) and jumps to the -kernel image, where SeaBIOS runs a whole PC BIOS first.
 */
export const qbootRom = '/usr/share/qemu/qboot.rom';

/**
 * The base command line: no default devices; serial lines ttyS0 = the console on stdio (the pty),
 * ttyS1 = the guest's statistics for the panel, ttyS2 = the check shell; QMP on a socket.
 */
export function qemuArgs(spec: VmSpec, socketDir: string): string[] {
	const socketLine = (id: string) => [
		'-chardev',
		`socket,id=${id},path=${qemuOptionValue(path.join(socketDir, `${id}.sock`))},server=on,wait=off`,
		'-serial',
		`chardev:${id}`,
	];
	// tsc=reliable: under TCG on a loaded host the clocksource watchdog sees the vCPU starve,
	// marks the TSC unstable and falls back to jiffies, after which guest time runs many times
	// too fast (seen: 259 s of uptime after 10 s). TCG's TSC follows host time, so trust it.
	const fast = spec.fastBoot !== false;
	const bios = spec.bios ?? (fast && fs.existsSync(qbootRom) ? qbootRom : undefined);
	// nolapic_timer: the kernel would otherwise calibrate the local APIC timer against the PIT,
	// then verify it, ten ticks each (HZ=100: ~0.25 s of a TCG boot). TCG's vCPU has no TSC-deadline
	// timer, which is what spares a real machine that. On one CPU the PIT gives the tick instead.
	const tuning = fast && (spec.smp ?? 1) === 1 ? ['nolapic_timer'] : [];
	const append = ['console=ttyS0', 'panic=-1', 'tsc=reliable', ...tuning, spec.append ?? ''].join(' ').trim();
	return [
		'-nodefaults',
		'-no-user-config',
		'-display',
		'none',
		'-machine',
		spec.machine ?? 'q35',
		'-accel',
		spec.accel.accel,
		...(bios ? ['-bios', bios] : []),
		...(spec.accel.accel === 'kvm' ? ['-cpu', 'host'] : []),
		'-m',
		String(spec.memoryMb ?? 256),
		'-smp',
		String(spec.smp ?? 1),
		'-L',
		'/usr/share/qemu',
		'-L',
		'/usr/share/seabios',
		'-kernel',
		spec.kernel,
		'-initrd',
		spec.initrd,
		'-append',
		append,
		'-serial',
		'stdio',
		...socketLine('side'),
		...socketLine('checks'),
		'-qmp',
		`unix:${qemuOptionValue(path.join(socketDir, 'qmp.sock'))},server=on,wait=off`,
		'-pidfile',
		path.join(spec.runDir, 'qemu.pid'),
		// `reboot -f` in the guest then ends QEMU instead of restarting the machine.
		'-no-reboot',
		...(spec.gdbSocket ? gdbstubArgs(spec.gdbSocket) : []),
		...(spec.extraArgs ?? []),
	];
}

/**
 * One QEMU process inside a pseudo-terminal: its serial console is the pty, so the guest sees a
 * real terminal and the learner can type into it. Owned by the reaper from the moment it starts.
 */
export class QemuVm {
	readonly console: SerialConsole;
	/** The guest's check shell on ttyS2: what steps run their checks through. */
	readonly checks: CheckChannel;
	/** The socket of ttyS1, where the guest writes the statistics the panel shows. */
	readonly sideSocket: string;
	readonly qmpSocket: string;
	/** The VM's own folder: its console transcript, command line, logs. */
	readonly runDir: string;
	/** Where its sockets are: runDir, unless that is too deep for a unix socket path (socket-dir.ts). */
	readonly socketDir: string;
	readonly pid: number;
	readonly startedAt: number;
	readonly exited: Promise<VmExit>;
	readonly commandLine: string[];
	/** Set while a debugger holds the guest stopped: waits on the guest do not count that time. */
	readonly pause = new GuestPause();
	private readonly process: pty.IPty;
	private exitInfo: VmExit | undefined;
	private stopping = false;

	private constructor(spec: VmSpec, emit: LabEmit) {
		fs.mkdirSync(spec.runDir, {recursive: true, mode: 0o700});
		fs.chmodSync(spec.runDir, 0o700);
		for (const file of [spec.kernel, spec.initrd]) {
			if (!fs.existsSync(file)) throw new LabError({what: `Cannot boot: ${file} is missing.`});
		}
		this.runDir = spec.runDir;
		this.socketDir = socketDirFor(spec.runDir);
		this.qmpSocket = path.join(this.socketDir, 'qmp.sock');
		const args = qemuArgs(spec, this.socketDir);
		this.commandLine = [spec.qemu, ...args];
		fs.writeFileSync(
			path.join(spec.runDir, 'qemu-command.txt'),
			this.commandLine.map(arg => (/[\s']/.test(arg) ? `'${arg}'` : arg)).join(' ') + '\n',
		);
		const cols = spec.cols ?? 80;
		const rows = spec.rows ?? 24;
		this.startedAt = Date.now();
		try {
			this.process = pty.spawn(spec.qemu, args, {
				name: 'xterm-256color',
				cols,
				rows,
				cwd: spec.runDir,
				env: process.env as Record<string, string>,
			});
		} catch (error) {
			throw new LabError({
				what: `Could not start QEMU (${spec.qemu}): ${(error as Error).message}`,
				hint: 'Run `kernelcraft doctor`.',
			});
		}
		this.pid = this.process.pid;
		const disown = ownChild(this.pid, 'qemu');
		this.console = new SerialConsole(
			emit,
			path.join(spec.runDir, 'console.log'),
			data => this.process.write(data),
			cols,
			rows,
			this.startedAt,
		);
		this.console.pause = this.pause;
		this.process.onData(data => this.console.feed(data));
		this.checks = new CheckChannel(
			path.join(this.socketDir, 'checks.sock'),
			path.join(spec.runDir, 'checks.log'),
			emit,
			this.pause,
		);
		this.sideSocket = path.join(this.socketDir, 'side.sock');
		this.exited = new Promise(resolve => {
			this.process.onExit(({exitCode, signal}) => {
				disown();
				releaseSocketDir(spec.runDir);
				this.exitInfo = {exitCode, signal};
				const reason = this.stopping
					? 'QEMU was stopped'
					: `QEMU exited (code ${exitCode}${signal ? `, signal ${signal}` : ''})`;
				this.console.close(reason);
				this.checks.close(reason);
				emit({type: 'vm-stopped', exitCode, reason});
				resolve(this.exitInfo);
			});
		});
		emit({type: 'vm-started', pid: this.pid, runDir: spec.runDir, accel: spec.accel.accel});
	}

	static start(spec: VmSpec, emit: LabEmit): QemuVm {
		return new QemuVm(spec, emit);
	}

	/** Where the boot's time went, QEMU start to `promptAt` (undefined if a phase mark is missing). */
	bootPhases(promptAt = Date.now()): BootPhases | undefined {
		return bootPhases(this.console.marks, promptAt);
	}

	get running(): boolean {
		return this.exitInfo === undefined;
	}

	resize(cols: number, rows: number): void {
		if (!this.running) return;
		this.process.resize(cols, rows);
		this.console.resize(cols, rows);
	}

	/** Asks the guest to power off (`reboot -f` + -no-reboot) and waits for QEMU to exit. */
	async shutdownFromGuest(timeoutMs = 10_000): Promise<VmExit> {
		this.console.type('reboot -f\r');
		const exit = await Promise.race([this.exited, delay(timeoutMs).then(() => undefined)]);
		if (!exit) {
			await this.stop();
			throw new LabError({
				what: `The guest did not power off within ${timeoutMs / 1000} s of \`reboot -f\`; QEMU was stopped.`,
				lastSeen: this.console.lastLines(),
			});
		}
		return exit;
	}

	/** Stops QEMU from the host: SIGTERM (QEMU shuts down cleanly), then SIGKILL after 3 s. */
	async stop(): Promise<void> {
		if (!this.running) return;
		this.stopping = true;
		try {
			process.kill(this.pid, 'SIGTERM');
		} catch {}
		const exit = await Promise.race([this.exited, delay(3000).then(() => undefined)]);
		if (!exit) {
			try {
				process.kill(this.pid, 'SIGKILL');
			} catch {}
			await this.exited;
		}
	}
}

function delay(ms: number): Promise<void> {
	return new Promise(resolve => setTimeout(resolve, ms).unref());
}
