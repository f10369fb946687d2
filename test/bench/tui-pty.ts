import fs from 'node:fs';
import path from 'node:path';
import xterm from '@xterm/headless';
import pty from 'node-pty';
import {projectRoot} from '../../source/lab/paths.js';

const {Terminal} = xterm;

export const cliPath = path.join(projectRoot, 'dist', 'source', 'cli.js');

export interface TuiPtyOptions {
	cols?: number;
	rows?: number;
	/** Added to the environment (after CI is switched off). */
	env?: Record<string, string>;
	args?: string[];
	/** Options for node itself, before the script (e.g. --cpu-prof to see where idle time goes). */
	nodeArgs?: string[];
	/**
	 * Start the app under a shell that stays the session leader (as `npm start` or a wrapper
	 * script does): a hangup's SIGHUP then reaches the shell, not the app.
	 */
	underShell?: boolean;
}

/** Every app started here; SIGKILLed when the test process exits, whatever ended the test. */
const liveApps = new Set<number>();
let reaperInstalled = false;
function track(pid: number): void {
	liveApps.add(pid);
	if (reaperInstalled) return;
	reaperInstalled = true;
	process.on('exit', () => {
		for (const app of liveApps) {
			try {
				process.kill(app, 'SIGKILL');
			} catch {}
		}
	});
}

export interface PtyExit {
	exitCode: number;
	signal: number | undefined;
}

/**
 * The built TUI in a real pseudo-terminal, its output fed into a headless xterm so a test reads
 * the screen as a person would (cells, not escape sequences).
 */
export class TuiPty {
	readonly pid: number;
	readonly exited: Promise<PtyExit>;
	readonly cols: number;
	readonly rows: number;
	private readonly underShell: boolean;
	private readonly process: pty.IPty;
	private readonly terminal: InstanceType<typeof Terminal>;
	private exitInfo: PtyExit | undefined;
	private bytes = 0;

	constructor(options: TuiPtyOptions = {}) {
		this.underShell = options.underShell ?? false;
		this.cols = options.cols ?? 120;
		this.rows = options.rows ?? 36;
		this.terminal = new Terminal({cols: this.cols, rows: this.rows, allowProposedApi: true, scrollback: 0});
		const env: Record<string, string> = {};
		for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
		// Ink prints only the last frame when it thinks it runs in CI.
		env.CI = 'false';
		env.CONTINUOUS_INTEGRATION = 'false';
		env.TERM = 'xterm-256color';
		Object.assign(env, options.env ?? {});
		const argv = [process.execPath, ...(options.nodeArgs ?? []), cliPath, ...(options.args ?? [])];
		// The trailing `:` keeps sh from exec'ing the app in its place.
		const [file, ...fileArgs] = options.underShell ? ['/bin/sh', '-c', 'trap "" HUP; "$@"; :', 'sh', ...argv] : argv;
		this.process = pty.spawn(file!, fileArgs, {
			name: 'xterm-256color',
			cols: this.cols,
			rows: this.rows,
			cwd: projectRoot,
			env,
		});
		this.pid = this.process.pid;
		track(this.pid);
		this.process.onData(data => {
			this.bytes += data.length;
			this.terminal.write(data);
		});
		// Answers to the app's terminal queries (cursor position etc.) go back like a real terminal's.
		this.terminal.onData(data => {
			if (!this.exitInfo && !this.hungUp) this.process.write(data);
		});
		this.exited = new Promise(resolve => {
			this.process.onExit(({exitCode, signal}) => {
				this.exitInfo = {exitCode, signal};
				liveApps.delete(this.pid);
				resolve(this.exitInfo);
			});
		});
	}

	/** The app's own pid: the pty's child, or under a shell that shell's child. */
	appPid(): number | undefined {
		if (!this.underShell) return this.pid;
		try {
			const children = fs
				.readFileSync(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8')
				.trim()
				.split(/\s+/)
				.filter(Boolean);
			return children.length > 0 ? Number(children[0]) : undefined;
		} catch {
			return undefined;
		}
	}

	get running(): boolean {
		return this.exitInfo === undefined;
	}

	/** Bytes the app has written to the terminal so far. */
	get outputBytes(): number {
		return this.bytes;
	}

	/** The visible screen, one string per row, trailing blanks trimmed. */
	screenRows(): string[] {
		const buffer = this.terminal.buffer.active;
		const rows: string[] = [];
		for (let y = 0; y < this.rows; y++) rows.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
		return rows;
	}

	screen(): string {
		return this.screenRows().join('\n');
	}

	/** Waits until no output has arrived for 60 ms (at most 1 s: a busy screen never goes quiet). */
	async settle(): Promise<void> {
		const deadline = Date.now() + 1000;
		let seen = this.bytes;
		for (;;) {
			await delay(60);
			await this.flush();
			if (this.bytes === seen || Date.now() > deadline) return;
			seen = this.bytes;
		}
	}

	/** Lets the terminal parse everything received so far. */
	flush(): Promise<void> {
		return new Promise(resolve => this.terminal.write('', resolve));
	}

	write(data: string): void {
		if (this.hungUp) return;
		this.process.write(data);
	}

	/**
	 * The lines of the milestone checklist: the box whose title is "milestones", at the left edge,
	 * down to its bottom border (so the step log's own ticks below never count).
	 */
	checklist(): string[] {
		const rows = this.screenRows();
		const top = rows.findIndex(row => /^│\s*milestones\b/.test(row));
		if (top === -1) return [];
		const width = rows[top]!.indexOf('│', 1);
		const lines: string[] = [];
		for (const row of rows.slice(top + 1)) {
			if (row.startsWith('╰')) break;
			lines.push(row.slice(1, width === -1 ? undefined : width));
		}
		return lines;
	}

	/** The checklist line of a milestone, found by its id or its title's first words, if shown. */
	milestoneLine(name: RegExp): string | undefined {
		return this.checklist().find(line => name.test(line));
	}

	/**
	 * Waits until the screen matches; rejects with the screen as it was when time ran out, or at
	 * once when a predicate throws (e.g. on seeing a failure mark).
	 */
	async waitForScreen(
		pattern: RegExp | (() => boolean),
		timeoutMs: number,
		what = typeof pattern === 'function' ? 'the expected screen' : String(pattern),
	): Promise<string> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			await this.flush();
			const text = this.screen();
			let matched: boolean;
			try {
				matched = typeof pattern === 'function' ? pattern() : pattern.test(text);
			} catch (error) {
				// The predicate saw something that will never turn into what we wait for.
				throw new Error(`${(error as Error).message} while waiting for ${what}. Screen:\n${text}`, {cause: error});
			}
			if (matched) {
				// A frame can reach the pty in several reads: what the test asserts next may be in the
				// part still on its way. Wait for the output to go quiet, then hand back that screen.
				await this.settle();
				return this.screen();
			}
			if (!this.running)
				throw new Error(
					`The TUI exited (${JSON.stringify(this.exitInfo)}) before the screen showed ${what}. Last screen:\n${text}`,
				);
			if (Date.now() > deadline)
				throw new Error(
					`The screen did not show ${what} within ${Math.round(timeoutMs / 1000)} s. Last screen:\n${text}`,
				);
			await delay(100);
		}
	}

	/** Resolves with the exit, or undefined if the app is still running after timeoutMs. */
	async waitForExit(timeoutMs: number): Promise<PtyExit | undefined> {
		return Promise.race([this.exited, delay(timeoutMs).then(() => undefined)]);
	}

	/**
	 * Closes the terminal as a closed window, a killed tmux session or a dropped SSH link does: the
	 * pty's master side goes away (the kernel hangs up the app's session: SIGHUP, then EIO on
	 * every read and write).
	 */
	hangUp(): void {
		this.hungUp = true;
		(this.process as unknown as {destroy(): void}).destroy();
	}

	private hungUp = false;

	/** Last resort for a failed test: SIGKILL the app (its QEMU dies with the pty's hangup). */
	kill(): void {
		// Under a shell the app is the shell's child: kill it first, or it outlives the test.
		const app = this.underShell ? this.appPid() : undefined;
		for (const pid of [app, this.running ? this.pid : undefined]) {
			if (pid === undefined) continue;
			try {
				process.kill(pid, 'SIGKILL');
			} catch {}
		}
	}

	dispose(): void {
		this.kill();
		this.terminal.dispose();
	}
}

/**
 * The QEMU the TUI started: a qemu-system child of the app's process, and its run dir (from the
 * -pidfile argument, <runDir>/qemu.pid).
 */
export function qemuChildOf(parentPid: number): {pid: number; runDir: string} | undefined {
	return qemuChildrenOf(parentPid)[0];
}

/** Every QEMU the process started that still runs (children only: the app spawns QEMU itself). */
export function qemuChildrenOf(parentPid: number): {pid: number; runDir: string}[] {
	const found: {pid: number; runDir: string}[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
			if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== parentPid) continue;
			const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
			if (!path.basename(argv[0] ?? '').startsWith('qemu-system')) continue;
			const pidfile = argv[argv.indexOf('-pidfile') + 1];
			if (argv.includes('-pidfile') && pidfile) found.push({pid: Number(entry), runDir: path.dirname(pidfile)});
		} catch {}
	}
	return found;
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
	const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	// The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	// fields[0] is field 3 (state), so field n is fields[n - 3].
	return Number(fields[14 - 3]) + Number(fields[15 - 3]);
}

export function delay(ms: number): Promise<void> {
	return new Promise(resolve => setTimeout(resolve, ms));
}
