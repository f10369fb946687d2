import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pty from 'node-pty';
import stripAnsi from 'strip-ansi';
import {ownChild} from '../host/child-reaper.js';

/**
 * One gdb in a pseudo-terminal, driven by kernelcraft and by the learner at once.
 *
 * Why the CLI in a pty and not MI: the learner sees this gdb in a pane and may Tab into it and
 * type anything, so its screen must be gdb's own; MI would need every command's output rendered
 * by us. The CLI in all-stop, synchronous mode (gdb's default with a remote target and with -p)
 * gives one reliable signal: gdb prints its prompt only while the target is stopped, and a resume
 * command (continue, step, next, finish...) takes the prompt away until the target stops again.
 * So "the target is stopped" is: the last resume command has been answered by a prompt.
 */

export type GdbSessionEvent =
	| {type: 'output'; data: string}
	/** The target (guest kernel, or QEMU) stopped or resumed. */
	| {type: 'target'; stopped: boolean}
	/** A message of kernelcraft's about a command (e.g. why a breakpoint is pending). */
	| {type: 'note'; text: string}
	| {type: 'exited'; code: number};

export interface GdbSessionOptions {
	/** The gdb command line (kernelGdbCommand / qemuGdbCommand). */
	argv: string[];
	/** Folders of .ko files, to say when a function is a module's that is not loaded yet. */
	modulePaths?: string[];
	/** Continue once attached, so the target runs until a breakpoint (default true). */
	resumeOnAttach?: boolean;
	cols?: number;
	rows?: number;
	onEvent?: (event: GdbSessionEvent) => void;
}

const prompt = /\(gdb\) $/;
/** gdb commands (and their abbreviations) that resume the target. */
const resumeCommands = new Set([
	'c',
	'continue',
	'fg',
	's',
	'step',
	'n',
	'next',
	'si',
	'stepi',
	'ni',
	'nexti',
	'fin',
	'finish',
	'u',
	'until',
	'advance',
	'jump',
]);

export class GdbSession {
	/** Everything gdb printed, as plain text (escape sequences removed). */
	private text = '';
	private targetStopped = false;
	private attached = false;
	private exitCode: number | undefined;
	private readonly process: pty.IPty;
	private readonly disown: () => void;
	private typed = '';
	/**
	 * Length of the transcript when a line (or Ctrl-C) was last sent: only a prompt printed after
	 * it answers it (the one still on screen is the previous command's).
	 */
	private sentAt = 0;
	/** Where and when kernelcraft last sent a resume command (interrupt waits for gdb to take it). */
	private resumedAt = 0;
	private resumedTime = 0;
	/** Length of the transcript when the target last resumed: what gdb printed at the stop follows. */
	private runningFrom = 0;
	private readonly waiters = new Set<() => boolean>();
	readonly exited: Promise<number>;
	/** Resolves once gdb is attached (and, with resumeOnAttach, has resumed the target). */
	readonly ready: Promise<void>;

	constructor(private readonly options: GdbSessionOptions) {
		const [file, ...args] = options.argv;
		// No pager and no "are you sure?": both would wait for a key nobody is asked for.
		const quiet = ['-iex', 'set pagination off', '-iex', 'set confirm off'];
		this.process = pty.spawn(file!, ['-nx', ...quiet, ...args.filter(arg => arg !== '-nx')], {
			name: 'xterm-256color',
			cols: options.cols ?? 100,
			rows: options.rows ?? 30,
			// gdb's own pager would wait for a key inside the pane.
			env: {...process.env, PAGER: 'cat', TERM: 'xterm-256color'},
		});
		this.disown = ownChild(this.process.pid, 'gdb');
		this.exited = new Promise(resolve => {
			this.process.onExit(({exitCode}) => {
				this.disown();
				this.exitCode = exitCode;
				this.setStopped(false);
				this.emit({type: 'exited', code: exitCode});
				this.settle();
				resolve(exitCode);
			});
		});
		this.process.onData(data => this.take(data));
		this.ready = this.attach();
		// Said in the pane (gdb's own output) when nobody awaits it.
		this.ready.catch(() => undefined);
	}

	get pid(): number {
		return this.process.pid;
	}

	/** True while gdb holds the target stopped. */
	get stopped(): boolean {
		return this.targetStopped;
	}

	get running(): boolean {
		return this.exitCode === undefined;
	}

	/**
	 * The function whose breakpoint holds the target now ("vh_queue"), from gdb's own
	 * "Breakpoint 2, vh_queue (vh=..." line; undefined while it runs, or when it stopped for
	 * another reason (Ctrl-C, a step, finish).
	 */
	get breakpointFunction(): string | undefined {
		if (!this.targetStopped) return undefined;
		return breakpointHit(this.text.slice(this.runningFrom));
	}

	/** gdb's output so far as plain text. */
	get transcript(): string {
		return this.text;
	}

	resize(cols: number, rows: number): void {
		if (this.running) this.process.resize(cols, rows);
	}

	/**
	 * Keys from the learner (Tab into gdb), as they come. A typed `break NAME` at the prompt goes
	 * through break() instead: for a function of a module not loaded yet, gdb alone (confirm off:
	 * it declines its own "make it pending?" question) only says it is not defined, and sets
	 * nothing; break() names the module and leaves the breakpoint pending until insmod, and says
	 * when a name exists nowhere.
	 */
	write(data: string): void {
		if (!this.running) return;
		let pass = '';
		for (const char of data) {
			if (char === '\r' || char === '\n') {
				const name = this.targetStopped ? typedBreak(this.typed) : undefined;
				if (name) {
					// Ctrl-U empties gdb's line (the typed text never runs); break() then sets it.
					this.process.write(`${pass}\x15`);
					pass = '';
					this.typed = '';
					void this.break(name).catch(() => undefined);
					continue;
				}
				this.sent();
				this.noteCommand(this.typed);
				this.typed = '';
			} else if (char === '\x7f' || char === '\b') this.typed = this.typed.slice(0, -1);
			else if (char === '\x03') {
				this.typed = '';
				this.sent();
			} else if (char >= ' ') this.typed += char;
			pass += char;
		}
		if (pass) this.process.write(pass);
	}

	/**
	 * Runs one command at the prompt and resolves with what it printed, once gdb prompts again
	 * (for a resume command: once the target has stopped again, which may take as long as the
	 * learner's program takes to reach the breakpoint).
	 */
	async command(line: string, timeoutMs = 60_000): Promise<string> {
		await this.waitForPrompt(timeoutMs);
		const from = this.text.length;
		this.sent();
		this.noteCommand(line);
		this.process.write(`${line}\r`);
		await this.waitFor(() => this.atPrompt(), timeoutMs, line);
		return this.text
			.slice(from)
			.replace(prompt, '')
			.replace(/^[^\n]*\n/, '');
	}

	continue(): void {
		this.resume('continue');
	}

	step(): void {
		this.resume('step');
	}

	next(): void {
		this.resume('next');
	}

	finish(): void {
		this.resume('finish');
	}

	backtrace(): Promise<string> {
		return this.command('backtrace');
	}

	/** Stops the target (Ctrl-C in gdb) and resolves once gdb prompts. */
	async interrupt(timeoutMs = 30_000): Promise<void> {
		if (this.targetStopped || !this.running) return;
		// A Ctrl-C that reaches gdb before it has taken the resume command is a "Quit" at the
		// prompt, and the target resumes after it: wait until gdb has read the line (its echo
		// ended) and had a moment to resume.
		await this.waitFor(
			() => this.text.indexOf('\n', this.resumedAt) !== -1 && Date.now() - this.resumedTime >= 300,
			timeoutMs,
			'the resume command',
		);
		if (this.targetStopped) return;
		this.sent();
		// A second Ctrl-C would ask gdb to give up on the target (and, without confirm, it would):
		// one only, however long the target takes (a guest frozen by a stopped QEMU answers late).
		this.process.write('\x03');
		await this.waitForPrompt(timeoutMs);
	}

	/**
	 * A breakpoint on a function by name. gdb itself only says "not defined" for a module's
	 * function before insmod; this says which module has it and that the breakpoint resolves when
	 * the module is loaded (lx-symbols reloads symbols on every module load), or that no such
	 * function exists anywhere. A running target is stopped for it, then resumed.
	 */
	async break(
		name: string,
		options: {condition?: string} = {},
	): Promise<{set: boolean; pending: boolean; message: string}> {
		if (!/^\*?[\w.:]+$/.test(name)) {
			const message = `"${name}" is not a function name.`;
			this.emit({type: 'note', text: message});
			return {set: false, pending: false, message};
		}
		const wasRunning = !this.targetStopped;
		if (wasRunning) await this.interrupt();
		await this.command('set breakpoint pending off');
		const said = await this.command(`break ${name}`);
		let result: {set: boolean; pending: boolean; message: string};
		const number = /^Breakpoint (\d+) at /m.exec(said)?.[1];
		if (number) {
			// Only the stops the caller wants: gdb tests the condition at each hit and goes on.
			if (options.condition) await this.command(`condition ${number} ${options.condition}`);
			result = {set: true, pending: false, message: said.trim()};
		} else {
			const module = moduleDefining(name.replace(/^\*/, ''), this.options.modulePaths ?? []);
			if (module) {
				await this.command('set breakpoint pending on');
				await this.command(`break ${name}`);
				result = {
					set: true,
					pending: true,
					message: `${name} is in ${module}, which is not loaded yet: the breakpoint is pending and resolves when the module is loaded (insmod/modprobe).`,
				};
			} else
				result = {
					set: false,
					pending: false,
					message: `No function "${name}" in the kernel${this.options.modulePaths?.length ? ' or its modules' : ''}: no breakpoint set.`,
				};
		}
		this.emit({type: 'note', text: result.message});
		if (wasRunning) this.continue();
		return result;
	}

	/**
	 * Detaches (the target runs on) and quits gdb. A target that is running is stopped first:
	 * gdb detaches only at its prompt.
	 */
	async quit(timeoutMs = 20_000): Promise<void> {
		if (!this.running) return;
		try {
			if (this.attached) {
				await this.interrupt(timeoutMs);
				await this.command('detach', timeoutMs);
			}
			this.process.write('quit\r');
			await Promise.race([this.exited, delay(timeoutMs)]);
		} catch {}
		this.kill();
	}

	/** quit(), and whatever happens, no gdb left. */
	async dispose(): Promise<void> {
		await this.quit(5000);
	}

	private kill(): void {
		if (!this.running) return;
		try {
			process.kill(this.process.pid, 'SIGKILL');
		} catch {}
	}

	private resume(command: string): void {
		if (!this.targetStopped) return;
		this.sent();
		this.resumedAt = this.text.length;
		this.resumedTime = Date.now();
		this.noteCommand(command);
		this.process.write(`${command}\r`);
	}

	/** Loading vmlinux and lx-symbols' module scan take a while: minutes on a busy machine. */
	private async attach(): Promise<void> {
		await this.waitForPrompt(300_000);
		this.attached = /Remote debugging using|Attaching to /.test(this.text);
		if (!this.attached) throw new Error(`gdb did not attach:\n${this.text.slice(-1500)}`);
		this.setStopped(true);
		if (this.options.resumeOnAttach !== false) this.continue();
	}

	private noteCommand(line: string): void {
		const word = line.trim().split(/\s+/)[0] ?? '';
		if (resumeCommands.has(word) && this.targetStopped) this.setStopped(false);
		if (word === 'detach' || word === 'disconnect') {
			this.attached = false;
			this.setStopped(false);
		}
	}

	private take(data: string): void {
		this.text += stripAnsi(data).replace(/\r/g, '');
		if (this.text.length > 1_000_000) {
			const cut = this.text.length - 500_000;
			this.text = this.text.slice(cut);
			this.sentAt = Math.max(0, this.sentAt - cut);
			this.runningFrom = Math.max(0, this.runningFrom - cut);
		}
		this.emit({type: 'output', data});
		if (this.attached && this.atPrompt()) this.setStopped(true);
		this.settle();
	}

	private setStopped(stopped: boolean): void {
		if (stopped === this.targetStopped) return;
		this.targetStopped = stopped;
		if (!stopped) this.runningFrom = this.text.length;
		this.emit({type: 'target', stopped});
	}

	private waitForPrompt(timeoutMs: number): Promise<void> {
		return this.waitFor(() => this.atPrompt(), timeoutMs, "gdb's prompt");
	}

	/** gdb waits at a prompt printed after the last line sent. */
	private atPrompt(): boolean {
		return this.text.length > this.sentAt && prompt.test(this.text);
	}

	private sent(): void {
		this.sentAt = this.text.length;
	}

	private waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
		return new Promise((resolve, reject) => {
			const check = () => {
				if (condition()) {
					clearTimeout(timer);
					clearInterval(poll);
					resolve();
					return true;
				}
				if (!this.running) {
					clearTimeout(timer);
					clearInterval(poll);
					reject(new Error(`gdb exited while waiting for ${what}`));
					return true;
				}
				return false;
			};
			// Output wakes the check; the poll is for conditions on time.
			const poll = setInterval(() => {
				if (check()) this.waiters.delete(check);
			}, 100);
			const timer = setTimeout(() => {
				this.waiters.delete(check);
				clearInterval(poll);
				reject(
					new Error(
						`gdb did not come back from ${what} within ${timeoutMs / 1000} s; it last said:\n${this.text.slice(-600)}`,
					),
				);
			}, timeoutMs);
			if (!check()) this.waiters.add(check);
		});
	}

	private settle(): void {
		for (const waiter of [...this.waiters]) if (waiter()) this.waiters.delete(waiter);
	}

	private emit(event: GdbSessionEvent): void {
		this.options.onEvent?.(event);
	}
}

/** The function of a typed `break NAME` / `b NAME` (nothing else on the line), if the line is one. */
export function typedBreak(line: string): string | undefined {
	return /^\s*(?:b|br|bre|brea|break)\s+(\*?[A-Za-z_][\w.]*)\s*$/.exec(line)?.[1];
}

/** The function named by the last breakpoint hit gdb printed in `output`, if any. */
export function breakpointHit(output: string): string | undefined {
	let name: string | undefined;
	for (const match of output.matchAll(
		/^(?:Thread \d+ hit )?(?:Temporary )?[Bb]reakpoint \d+, (?:0x[0-9a-f]+ in )?([\w.]+) \(/gm,
	))
		name = match[1];
	return name;
}

/** The .ko file among `folders` whose symbol table defines `name`, if any. */
export function moduleDefining(name: string, folders: string[]): string | undefined {
	for (const folder of folders) {
		let files: string[];
		try {
			files = fs.readdirSync(folder).filter(file => file.endsWith('.ko'));
		} catch {
			continue;
		}
		for (const file of files) {
			try {
				const symbols = execFileSync('nm', ['--defined-only', path.join(folder, file)], {encoding: 'utf8'});
				if (symbols.split('\n').some(line => line.split(' ')[2] === name)) return file;
			} catch {}
		}
	}
	return undefined;
}

function delay(ms: number): Promise<void> {
	return new Promise(resolve => setTimeout(resolve, ms));
}
