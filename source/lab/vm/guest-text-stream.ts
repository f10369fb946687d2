import fs from 'node:fs';
import stripAnsi from 'strip-ansi';
import type {LabEmit} from '../lab-events.js';
import {isNoSpace, noSpaceError} from '../disk-full.js';
import {LabError} from '../lab-error.js';
import {abortError} from '../host/run-logged.js';
import {guestTimeout, type GuestPause} from './guest-pause.js';

export interface ExpectOptions {
	/** Said while waiting: "the shell prompt". */
	what: string;
	timeoutMs: number;
	/** Only text after this offset counts (default: from now). */
	since?: number;
	step?: string;
	signal?: AbortSignal;
	/** No "waiting for" events (for short internal probes that report their own wait). */
	quiet?: boolean;
}

interface Waiter {
	check: () => boolean;
}

const keptText = 512 * 1024;

/**
 * A line the guest never ends (a program printing without newlines) is handed on in pieces of
 * this many characters: what is kept of it, and the work each chunk costs, stay bounded.
 */
export const maxLineChars = 16 * 1024;

/**
 * QEMU's own error lines among the console's last lines: QEMU prints them on the pty it shares
 * with ttyS0 before it exits ("qemu-system-x86_64: -device xyz: 'xyz' is not a valid device model
 * name"), so they are why a VM that never booted stopped.
 */
export function qemuErrorLines(lines: string[]): string[] {
	return lines.map(line => line.trim()).filter(line => /^qemu(-system-[\w.-]+)?: /.test(line));
}

/** The hint for a VM that QEMU refused to start, by what it said. */
function qemuRefusedHint(said: string[]): string {
	if (said.some(line => /is not a valid device model name/.test(line))) {
		return "That QEMU has no such device. kernelcraft's own QEMU (milestones 4 and 5) is built with only the devices listed in devices/qemu-devices.mak: add the device's CONFIG_ line there (its hw/*/Kconfig names it) and run the milestone again, which rebuilds QEMU.";
	}
	return 'QEMU refused its command line (the full command is qemu-command.txt in the run directory); the full transcript is in the log.';
}

/**
 * What a guest prints on one serial line, as plain text, with expect-style waits on top. Every
 * byte also goes to a transcript file. Used for the learner's console (ttyS0) and, with framed
 * commands added (CheckStream), for the check channel: a serial line of its own, so checks never
 * mix with kernel messages or with what the learner types, and the learner never sees them.
 */
export class GuestTextStream {
	private text = '';
	/** Absolute offset of text[0] in everything ever received. */
	private dropped = 0;
	private partialLine = '';
	/** An escape sequence cut by a chunk boundary (e.g. ESC[6n as "ESC[" + "6n"), kept for the next chunk. */
	private escapeTail = '';
	private readonly waiters = new Set<Waiter>();
	private closedBecause: string | undefined;
	/** Set when the transcript could not be written: what waits then fail with. */
	private writeFailure: LabError | undefined;
	/** The VM's pause: time the guest is held stopped (gdb) does not count against a wait. */
	pause: GuestPause | undefined;

	constructor(
		private readonly emit: LabEmit,
		readonly transcriptPath: string,
		private readonly write: (data: string) => void,
		/** Called with each complete line (ANSI stripped). */
		private readonly onLine?: (line: string) => void,
	) {}

	/** Everything received so far, as one offset: pass it as `since` to wait for what comes next. */
	get offset(): number {
		return this.dropped + this.text.length;
	}

	get closed(): boolean {
		return this.closedBecause !== undefined;
	}

	feed(data: string): void {
		// After close, what still comes is kept (QEMU's last words can follow its exit): only a
		// transcript that cannot be written ends the stream for good.
		if (this.writeFailure) return;
		try {
			fs.appendFileSync(this.transcriptPath, data);
		} catch (error) {
			// A transcript that cannot be written (a full disk) is the end of this line: every wait
			// fails saying why, instead of an exception out of the pty's data callback.
			const failure = isNoSpace(error)
				? noSpaceError(this.transcriptPath)
				: new LabError({what: `Could not write the transcript ${this.transcriptPath}: ${(error as Error).message}`});
			this.writeFailure = failure;
			this.close(failure.message);
			return;
		}
		data = this.escapeTail + data;
		// eslint-disable-next-line no-control-regex -- ESC is exactly the byte this looks for.
		const cut = /\x1b(\[[0-?]*[ -/]*)?$/.exec(data);
		this.escapeTail = cut ? cut[0] : '';
		if (cut) data = data.slice(0, cut.index);
		const plain = stripAnsi(data).replace(/\r/g, '');
		this.text += plain;
		if (this.text.length > keptText) {
			const cut = this.text.length - keptText;
			this.text = this.text.slice(cut);
			this.dropped += cut;
		}
		// Only the new text is split: the line in progress is joined to its first piece, so a long
		// line costs its length once, not once per chunk.
		const pieces = plain.split('\n');
		pieces[0] = this.partialLine + pieces[0];
		let rest = pieces.pop() ?? '';
		const lines: string[] = [];
		for (const piece of pieces)
			for (let at = 0; at === 0 || at < piece.length; at += maxLineChars)
				lines.push(piece.slice(at, at + maxLineChars));
		while (rest.length > maxLineChars) {
			lines.push(rest.slice(0, maxLineChars));
			rest = rest.slice(maxLineChars);
		}
		this.partialLine = rest;
		if (this.onLine) for (const line of lines) this.onLine(line);
		for (const waiter of [...this.waiters]) waiter.check();
	}

	type(data: string): void {
		if (this.closedBecause) return;
		this.write(data);
	}

	/** The last lines of plain text, for "what was last seen" in errors. */
	lastLines(count = 12): string[] {
		return this.text
			.split('\n')
			.filter(line => line.trim() !== '')
			.slice(-count);
	}

	/** Text received since an offset (as much of it as is still kept). */
	textSince(offset: number): string {
		return this.text.slice(Math.max(0, offset - this.dropped));
	}

	/** The line is gone (QEMU exited): every wait fails now, saying why. */
	close(reason: string): void {
		this.closedBecause = reason;
		for (const waiter of [...this.waiters]) waiter.check();
	}

	/**
	 * Waits until the text after `since` matches. Says what it waits for once a second, and on
	 * timeout fails with the last lines seen, so "it booted but I see nothing" has an answer.
	 */
	expect(pattern: RegExp, options: ExpectOptions): Promise<RegExpExecArray> {
		const since = options.since ?? this.offset;
		const started = Date.now();
		const pausedBefore = this.pause?.pausedMs(started) ?? 0;
		const step = options.step ?? '';
		return new Promise((resolve, reject) => {
			let ticker: NodeJS.Timeout | undefined;
			let cancelTimer: (() => void) | undefined;
			const done = () => {
				this.waiters.delete(waiter);
				clearInterval(ticker);
				cancelTimer?.();
				options.signal?.removeEventListener('abort', onAbort);
			};
			const onAbort = () => {
				done();
				reject(abortError());
			};
			const waiter: Waiter = {
				check: () => {
					const match = pattern.exec(this.textSince(since));
					if (match) {
						done();
						resolve(match);
						return true;
					}
					if (this.writeFailure) {
						done();
						reject(this.writeFailure);
						return true;
					}
					if (this.closedBecause) {
						done();
						const qemuSaid = qemuErrorLines(this.lastLines());
						reject(
							new LabError({
								what:
									qemuSaid.length > 0
										? `${this.closedBecause} before ${options.what}: ${qemuSaid.join(' ')}`
										: `${this.closedBecause} while waiting for ${options.what}.`,
								lastSeen: this.lastLines(),
								hint: qemuSaid.length > 0 ? qemuRefusedHint(qemuSaid) : 'The full transcript is in the log.',
								logPath: this.transcriptPath,
							}),
						);
						return true;
					}
					return false;
				},
			};
			if (waiter.check()) return;
			if (options.signal?.aborted) return onAbort();
			this.waiters.add(waiter);
			options.signal?.addEventListener('abort', onAbort, {once: true});
			const tell = () =>
				this.emit({
					type: 'waiting',
					step,
					what: options.what,
					// The time the guest could run: a pause (gdb) does not count.
					elapsedMs: Date.now() - started - ((this.pause?.pausedMs() ?? 0) - pausedBefore),
					timeoutMs: options.timeoutMs,
				});
			if (!options.quiet) {
				tell();
				ticker = setInterval(tell, 1000);
			}
			cancelTimer = guestTimeout(this.pause, options.timeoutMs, () => {
				done();
				reject(
					new LabError({
						what: `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}.`,
						lastSeen: this.lastLines(),
						hint: 'The lines above are the last the guest printed. A kernel that stops early often lacks a driver or the console= option; the full transcript is in the log.',
						logPath: this.transcriptPath,
					}),
				);
			});
		});
	}
}

/** Single-quotes a string for a POSIX shell. */
export function shellQuote(text: string): string {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}
