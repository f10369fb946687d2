import path from 'node:path';
import {kernelGdbCommand, type GdbKernel} from './gdb.js';
import {GdbSession} from './gdb-session.js';
import {LabError} from '../lab-error.js';
import type {LabEmit} from '../lab-events.js';
import type {Session} from '../session.js';

/** Lines of gdb's output the pane is sent (it shows as many as fit). */
const keptLines = 200;
/** gdb prints in bursts (a backtrace, lx-symbols' list): the pane is told at most this often. */
const screenEveryMs = 50;

/**
 * gdb on the session's running VM, for the TUI's gdb pane: one GdbSession on the gdbstub, its
 * output sent as `gdb` events, and its stops told to the rest of kernelcraft: the VM's pause (so
 * waits on the guest do not time out), the panel (it freezes) and a `guest-paused` event (the
 * header says so).
 */
export class GuestDebugger {
	private gdb: GdbSession | undefined;
	private screenTimer: NodeJS.Timeout | undefined;
	private note: string | undefined;
	/** From start() until gdb has attached (or failed to). */
	private attaching = false;

	constructor(
		private readonly session: Session,
		private readonly emit: LabEmit,
	) {}

	get active(): boolean {
		return this.gdb?.running === true;
	}

	/** Attaches gdb to the running VM; it must have been booted with the gdbstub (--debug). */
	start(size: {cols: number; rows: number} = {cols: 80, rows: 20}): void {
		if (this.active) return;
		const {vm, gdbSocket, kernel} = this.session;
		if (!vm?.running || !gdbSocket || !kernel || !('vmlinux' in kernel))
			throw new LabError({
				what: 'This VM has no gdbstub: it was not booted on the debug kernel.',
				hint: 'Start kernelcraft with --debug: milestones then boot the gdb kernel (built once) with the gdbstub, and g attaches gdb.',
			});
		const modulePaths = [...new Set(Object.values(this.session.modules).map(file => path.dirname(file)))];
		const argv = kernelGdbCommand({kernel: kernel as GdbKernel, socket: gdbSocket, modulePaths});
		this.note = `attaching to ${gdbSocket} (reading vmlinux's debug info takes a while)`;
		this.attaching = true;
		const gdb = new GdbSession({
			argv,
			modulePaths,
			cols: size.cols,
			rows: size.rows,
			onEvent: event => {
				if (event.type === 'target') {
					// The pane's title and the header change together.
					this.paused(event.stopped);
					clearTimeout(this.screenTimer);
					this.screenTimer = undefined;
					return this.screenNow();
				}
				if (event.type === 'note') this.note = event.text;
				if (event.type === 'exited') {
					this.paused(false);
					this.note = `gdb exited (code ${event.code}); the guest runs on.`;
				}
				this.screenSoon();
			},
		});
		this.gdb = gdb;
		void gdb.ready.then(
			() => {
				this.attaching = false;
				this.note = undefined;
				this.screenSoon();
			},
			(error: Error) => {
				this.attaching = false;
				this.note = error.message.split('\n')[0];
				void gdb.dispose();
				this.screenSoon();
			},
		);
		this.screenSoon();
	}

	/**
	 * The pane's gdb, attached: started if it is not running yet (a step that follows a request
	 * uses the learner's own gdb, so every stop shows in the pane).
	 */
	async attached(): Promise<GdbSession> {
		if (!this.active) this.start();
		const gdb = this.gdb!;
		await gdb.ready;
		return gdb;
	}

	/** The function whose breakpoint holds the guest now, if one does. */
	get breakpointFunction(): string | undefined {
		return this.gdb?.breakpointFunction;
	}

	/** The guest frozen by something else than this gdb (QEMU's own gdb holding QEMU stopped). */
	hold(paused: boolean, by: string): void {
		this.paused(paused, by);
	}

	continue(): void {
		this.gdb?.continue();
	}

	step(): void {
		this.gdb?.step();
	}

	next(): void {
		this.gdb?.next();
	}

	finish(): void {
		this.gdb?.finish();
	}

	/** Stops the guest where it is (Ctrl-C in gdb). */
	interrupt(): void {
		void this.gdb?.interrupt().catch(() => undefined);
	}

	backtrace(): void {
		if (this.gdb?.stopped) void this.gdb.backtrace().catch(() => undefined);
	}

	async break(name: string): Promise<string | undefined> {
		return (await this.gdb?.break(name))?.message;
	}

	/** Keys typed into the pane (Tab into gdb). */
	write(data: string): void {
		this.gdb?.write(data);
	}

	resize(cols: number, rows: number): void {
		this.gdb?.resize(cols, rows);
	}

	/** Detaches (the guest runs on) and quits gdb. */
	async quit(): Promise<void> {
		const gdb = this.gdb;
		if (!gdb) return;
		await gdb.quit();
		this.paused(false);
		this.gdb = undefined;
		this.screenNow('gone');
	}

	async dispose(): Promise<void> {
		clearTimeout(this.screenTimer);
		await this.gdb?.dispose();
		this.paused(false);
		this.gdb = undefined;
	}

	private paused(paused: boolean, by = 'gdb'): void {
		const vm = this.session.vm;
		if (!vm || vm.pause.paused === paused) return;
		vm.pause.set(paused);
		this.session.panel?.hold(paused);
		this.emit({type: 'guest-paused', paused, by});
	}

	private screenSoon(): void {
		this.screenTimer ??= setTimeout(() => {
			this.screenTimer = undefined;
			this.screenNow();
		}, screenEveryMs);
	}

	private screenNow(state?: 'gone'): void {
		const gdb = this.gdb;
		this.emit({
			type: 'gdb',
			state: state ?? (!gdb?.running ? 'gone' : this.attaching ? 'starting' : 'attached'),
			lines: (gdb?.transcript ?? '').split('\n').slice(-keptLines).map(paneLine),
			stopped: gdb?.stopped ?? false,
			...(this.note ? {note: this.note} : {}),
		});
	}
}

/**
 * A line of gdb's as the pane can draw it: tabs expanded (gdb lists sources with "52\t}", and a
 * tab is one character that takes up to eight cells: the row would wrap and push the screen
 * down), other control characters dropped.
 */
export function paneLine(line: string): string {
	let out = '';
	for (const char of line) {
		if (char === '\t') out += ' '.repeat(8 - (out.length % 8));
		else if (char >= ' ' && char !== '\x7f') out += char;
	}
	return out;
}
