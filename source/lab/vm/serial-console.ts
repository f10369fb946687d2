import fs from 'node:fs';
import xterm from '@xterm/headless';
import stripAnsi from 'strip-ansi';
import type {Emit} from '../../runner/events.js';
import {LabError} from '../lab-error.js';

const {Terminal} = xterm;

export interface ExpectOptions {
	/** Said while waiting: "the shell prompt". */
	what: string;
	timeoutMs: number;
	/** Only text after this offset counts (default: from now). */
	since?: number;
	step?: string;
	signal?: AbortSignal;
}

interface Waiter {
	check: () => boolean;
}

const keptText = 512 * 1024;
const screenEveryMs = 66;

/**
 * The guest's serial console, fed by the pty QEMU writes to. It keeps two views: a real terminal
 * screen (@xterm/headless, so carriage returns, cursor moves and clears render right) for the
 * TUI, and the plain text stream for expect-style waits. Every byte also goes to the transcript.
 */
export class SerialConsole {
	private readonly terminal: InstanceType<typeof Terminal>;
	private text = '';
	/** Absolute offset of text[0] in everything ever received. */
	private dropped = 0;
	private partialLine = '';
	private readonly waiters = new Set<Waiter>();
	private screenTimer: NodeJS.Timeout | undefined;
	private closedBecause: string | undefined;
	private commandCounter = 0;

	constructor(
		private readonly emit: Emit,
		private readonly transcriptPath: string,
		private readonly write: (data: string) => void,
		cols = 80,
		rows = 24,
	) {
		this.terminal = new Terminal({cols, rows, scrollback: 500, allowProposedApi: true});
	}

	/** Everything received so far, as one offset: pass it as `since` to wait for what comes next. */
	get offset(): number {
		return this.dropped + this.text.length;
	}

	feed(data: string): void {
		fs.appendFileSync(this.transcriptPath, data);
		this.terminal.write(data);
		const plain = stripAnsi(data).replace(/\r/g, '');
		this.text += plain;
		if (this.text.length > keptText) {
			const cut = this.text.length - keptText;
			this.text = this.text.slice(cut);
			this.dropped += cut;
		}
		const lines = (this.partialLine + plain).split('\n');
		this.partialLine = lines.pop() ?? '';
		for (const line of lines) this.emit({type: 'console-line', line});
		this.scheduleScreen();
		for (const waiter of [...this.waiters]) waiter.check();
	}

	/** Keys from the learner or a step, as the guest should receive them. */
	type(data: string): void {
		if (this.closedBecause) return;
		this.write(data);
	}

	resize(cols: number, rows: number): void {
		this.terminal.resize(cols, rows);
		this.scheduleScreen();
	}

	/** The visible screen as rows of text, and the cursor. */
	screen(): {rows: string[]; cursor: {x: number; y: number}} {
		const buffer = this.terminal.buffer.active;
		const rows: string[] = [];
		for (let y = 0; y < this.terminal.rows; y++) rows.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
		return {rows, cursor: {x: buffer.cursorX, y: buffer.cursorY}};
	}

	/** The last lines of plain text, for "what was last seen" in errors. */
	lastLines(count = 12): string[] {
		const lines = (this.text + '').split('\n').filter(line => line.trim() !== '');
		return lines.slice(-count);
	}

	/** Text received since an offset (as much of it as is still kept). */
	textSince(offset: number): string {
		return this.text.slice(Math.max(0, offset - this.dropped));
	}

	/** The VM is gone: every wait fails now, saying why. */
	close(reason: string): void {
		this.closedBecause = reason;
		if (this.screenTimer) clearTimeout(this.screenTimer);
		this.emitScreen();
		for (const waiter of [...this.waiters]) waiter.check();
	}

	/**
	 * Waits until the text after `since` matches. Says what it waits for once a second, and on
	 * timeout fails with the last lines seen, so "it booted but I see nothing" has an answer.
	 */
	expect(pattern: RegExp, options: ExpectOptions): Promise<RegExpExecArray> {
		const since = options.since ?? this.offset;
		const started = Date.now();
		const step = options.step ?? '';
		return new Promise((resolve, reject) => {
			let ticker: NodeJS.Timeout | undefined;
			let timer: NodeJS.Timeout | undefined;
			const done = () => {
				this.waiters.delete(waiter);
				clearInterval(ticker);
				clearTimeout(timer);
				options.signal?.removeEventListener('abort', onAbort);
			};
			const onAbort = () => {
				done();
				const error = new Error('Cancelled.');
				error.name = 'AbortError';
				reject(error);
			};
			const waiter: Waiter = {
				check: () => {
					const match = pattern.exec(this.textSince(since));
					if (match) {
						done();
						resolve(match);
						return true;
					}
					if (this.closedBecause) {
						done();
						reject(new LabError({what: `${this.closedBecause} while waiting for ${options.what}.`, lastSeen: this.lastLines(), hint: 'The full console transcript is in the log.', logPath: this.transcriptPath}));
						return true;
					}
					return false;
				},
			};
			if (waiter.check()) return;
			this.waiters.add(waiter);
			options.signal?.addEventListener('abort', onAbort, {once: true});
			const tell = () => this.emit({type: 'waiting', step, what: options.what, elapsedMs: Date.now() - started, timeoutMs: options.timeoutMs});
			tell();
			ticker = setInterval(tell, 1000);
			timer = setTimeout(() => {
				done();
				reject(new LabError({
					what: `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}.`,
					lastSeen: this.lastLines(),
					hint: 'The lines above are the last the guest printed. A kernel that stops early often lacks a driver or the console= option; the full transcript is in the log.',
					logPath: this.transcriptPath,
				}));
			}, options.timeoutMs);
		});
	}

	/**
	 * Runs a shell command in the guest and returns its output and exit status. kc_run (from the
	 * guest's shrc) frames the output with markers the echoed command line cannot match.
	 */
	async run(command: string, options: {timeoutMs?: number; step?: string; signal?: AbortSignal; what?: string} = {}): Promise<{output: string; status: number}> {
		const id = ++this.commandCounter;
		const since = this.offset;
		this.type(`kc_run ${id} ${shellQuote(command)}\r`);
		const match = await this.expect(new RegExp(`(?:^|\\n)<<kc ${id}\\n([\\s\\S]*?)>>kc ${id} (\\d+)\\n`), {
			what: options.what ?? `\`${command}\` to finish in the guest`,
			timeoutMs: options.timeoutMs ?? 30_000,
			since,
			step: options.step,
			signal: options.signal,
		});
		return {output: match[1]!.replace(/\n$/, ''), status: Number(match[2])};
	}

	private scheduleScreen(): void {
		if (this.screenTimer) return;
		// Throttled: a booting kernel prints thousands of lines, the screen needs ~15 frames a second.
		this.screenTimer = setTimeout(() => {
			this.screenTimer = undefined;
			this.emitScreen();
		}, screenEveryMs);
	}

	private emitScreen(): void {
		// xterm parses writes asynchronously; the write callback would be exact, but a frame that
		// lags by one chunk is invisible at this rate.
		const {rows, cursor} = this.screen();
		this.emit({type: 'console-screen', rows, cursor});
	}
}

/** Single-quotes a string for a POSIX shell. */
export function shellQuote(text: string): string {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}
