import fs from 'node:fs';
import {killAllChildren} from '../lab/host/child-reaper.js';

/**
 * How the app ends when its terminal or its reader goes away, or when it is told to stop.
 *
 * - SIGHUP (the terminal hung up), or EIO/EPIPE on stdout/stderr (a closed terminal or a closed
 *   pipe): the output is dead. From then on nothing is written there (a write would fail again and
 *   raise a new error), the VM is stopped and the app exits.
 * - SIGINT/SIGTERM: stop the VM and exit; a second signal, or the deadline, exits at once.
 * - An uncaught error: said once, if stderr still works, then the same shutdown. An error raised
 *   while shutting down never starts a second one: that is the loop a dead terminal used to cause.
 *
 * Whatever happens, exit runs the child reaper, which SIGKILLs any QEMU still registered.
 */

export interface ExitGuardOptions {
	/** Stops what the command runs (the workbench's VM); awaited up to `deadlineMs`. */
	shutdown: () => Promise<void>;
	/** How long a shutdown may take before the app exits anyway. Default 5000 ms. */
	deadlineMs?: number;
	/** Exit with this code (tests). Default process.exit. */
	exit?: (code: number) => void;
}

/** Exit codes: as a shell reports a process killed by that signal. */
const signalCodes: Record<string, number> = {SIGHUP: 129, SIGINT: 130, SIGPIPE: 141, SIGTERM: 143};

const deadOutput = new WeakSet<NodeJS.WritableStream>();

/** True once a write to the stream has failed with EIO/EPIPE (or the terminal hung up). */
export function outputDead(stream: NodeJS.WritableStream): boolean {
	return deadOutput.has(stream);
}

/** Turns the stream's writes into no-ops: nothing reaches a dead terminal or a closed pipe again. */
function silence(stream: NodeJS.WriteStream): void {
	if (deadOutput.has(stream)) return;
	deadOutput.add(stream);
	const mute = ((...args: unknown[]) => {
		const callback = args.find(arg => typeof arg === 'function') as (() => void) | undefined;
		if (callback) queueMicrotask(callback);
		return true;
	}) as typeof stream.write;
	stream.write = mute;
}

/** Writes to stderr unless it is dead; never throws. */
export function sayToStderr(text: string): void {
	if (deadOutput.has(process.stderr)) return;
	try {
		process.stderr.write(text);
	} catch {}
}

/** False once the terminal on fd has hung up. */
export function terminalAlive(fd: number): boolean {
	try {
		fs.writeSync(fd, Buffer.alloc(0));
		return true;
	} catch (error) {
		return !isDeadOutputError(error);
	}
}

function isDeadOutputError(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	return (
		code === 'EIO' || code === 'EPIPE' || code === 'ENXIO' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED'
	);
}

/** How many children hold the terminal now (see lendTerminal). */
let terminalLent = 0;

/**
 * Runs `work` while a child (gdb) owns the terminal: Ctrl-C there reaches the whole foreground
 * process group, and it is the child's (gdb interrupts its target); the app must not stop for it.
 * SIGTERM and a hangup still stop everything.
 */
export async function lendTerminal<T>(work: () => Promise<T>): Promise<T> {
	terminalLent++;
	try {
		return await work();
	} finally {
		terminalLent--;
	}
}

export class ExitGuard {
	private stopping = false;
	private hungUp = false;
	/** Which of fds 0-2 were terminals when the app started. */
	private readonly ttyFds = [process.stdin, process.stdout, process.stderr].map(stream => Boolean(stream.isTTY));
	private watchdog: NodeJS.Timeout | undefined;
	// Listeners of any event of any emitter, as EventEmitter itself types them.
	// eslint-disable-next-line @typescript-eslint/no-explicit-any
	private readonly listeners: [string | symbol, (...args: any[]) => void, NodeJS.EventEmitter][] = [];
	private readonly deadlineMs: number;
	private readonly exit: (code: number) => void;

	constructor(private readonly options: ExitGuardOptions) {
		this.deadlineMs = options.deadlineMs ?? 5000;
		this.exit = options.exit ?? ((code: number) => process.exit(code));
	}

	install(): this {
		for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
			this.on(process, signal, () => this.onSignal(signal));
		for (const stream of [process.stdout, process.stderr]) {
			this.on(stream, 'error', (error: unknown) => this.onOutputError(stream, error));
		}
		// A hung-up terminal makes reads fail too (Ink reads keys from stdin); in raw mode no key
		// ends the input, so an end of input on a terminal is the terminal going away.
		this.on(process.stdin, 'error', (error: unknown) => {
			if (isDeadOutputError(error)) this.onHangup();
		});
		if (process.stdin.isTTY) this.on(process.stdin, 'end', () => this.onHangup());
		// The hangup's SIGHUP goes to the session leader only: run under a shell or a wrapper the
		// app may never get it, and an idle screen writes nothing that would fail. A zero-byte
		// write costs nothing on a live terminal and fails with EIO on a hung-up one.
		if (process.stdout.isTTY) {
			this.watchdog = setInterval(() => {
				if (!terminalAlive(1)) this.onHangup();
			}, 1000);
			this.watchdog.unref();
		}
		this.on(process, 'uncaughtException', (error: unknown) => this.onCrash(error));
		this.on(process, 'unhandledRejection', (error: unknown) => this.onCrash(error));
		return this;
	}

	uninstall(): void {
		if (this.watchdog) clearInterval(this.watchdog);
		for (const [event, listener, emitter] of this.listeners) emitter.off(event, listener);
		this.listeners.length = 0;
	}

	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as EventEmitter.on types it
	private on(emitter: NodeJS.EventEmitter, event: string | symbol, listener: (...args: any[]) => void): void {
		emitter.on(event, listener);
		this.listeners.push([event, listener, emitter]);
	}

	private onSignal(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void {
		if (signal === 'SIGHUP') return this.onHangup();
		if (signal === 'SIGINT' && terminalLent > 0) return;
		if (this.stopping) {
			// Told twice: no more waiting for a clean stop.
			this.finish(signalCodes[signal]!);
			return;
		}
		this.stop(signalCodes[signal]!);
	}

	/** The controlling terminal went away: everything bound to it is dead. */
	private onHangup(): void {
		this.hungUp = true;
		if (this.watchdog) clearInterval(this.watchdog);
		for (const stream of [process.stdout, process.stderr]) if (stream.isTTY) silence(stream);
		this.stop(signalCodes.SIGHUP!);
	}

	private onOutputError(stream: NodeJS.WriteStream, error: unknown): void {
		silence(stream);
		if (isDeadOutputError(error)) {
			// A closed terminal takes both streams with it; a closed pipe only the one.
			if (stream.isTTY) for (const other of [process.stdout, process.stderr]) if (other.isTTY) silence(other);
			this.stop((error as NodeJS.ErrnoException).code === 'EPIPE' ? signalCodes.SIGPIPE! : signalCodes.SIGHUP!);
			return;
		}
		this.onCrash(error);
	}

	private onCrash(error: unknown): void {
		if (isDeadOutputError(error)) {
			// A write to a dead stream that surfaced as an exception, not as a stream 'error'.
			for (const stream of [process.stdout, process.stderr])
				if (stream.isTTY || (error as NodeJS.ErrnoException).code === 'EPIPE') silence(stream);
			this.stop(signalCodes.SIGHUP!);
			return;
		}
		if (this.stopping) return; // already on the way out; one report is enough
		sayToStderr(`kernelcraft: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
		this.stop(70);
	}

	private stop(code: number): void {
		if (this.stopping) return;
		this.stopping = true;
		const deadline = setTimeout(() => this.finish(code), this.deadlineMs);
		deadline.unref();
		let shutdown: Promise<void>;
		try {
			shutdown = this.options.shutdown();
		} catch {
			shutdown = Promise.resolve();
		}
		shutdown.catch(() => undefined).finally(() => this.finish(code));
	}

	private finished = false;

	private finish(code: number): void {
		if (this.finished) return;
		this.finished = true;
		killAllChildren();
		// On exit Node restores the terminal modes it saw at start and aborts when that fails, as it
		// does on a hung-up terminal. It skips descriptors that are closed.
		const hungUp = this.hungUp || this.ttyFds.some((tty, fd) => tty && !terminalAlive(fd));
		if (hungUp) {
			for (const [fd, tty] of this.ttyFds.entries()) {
				if (!tty) continue;
				try {
					fs.closeSync(fd);
				} catch {}
			}
		}
		this.exit(code);
	}
}
