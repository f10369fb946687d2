// A small QMP client: one unix socket to one QEMU, commands tagged with ids, events fanned out to
// listeners. Written against QEMU 7.2 (Debian 12) and kept free of anything QEMU-version specific.
//
// Failure contract (what callers may rely on):
// - every promise returned by execute() settles: with the answer, a QmpError (QEMU answered
//   {"error": ...}), a QmpTimeoutError, or a QmpClosedError when the socket closes first;
// - the client never leaves a rejected promise nobody holds, and never throws from socket
//   callbacks (socket errors are recorded and surface as the QmpClosedError's detail);
// - listeners are called synchronously in arrival order; an exception in one is swallowed so a
//   buggy listener cannot wedge the protocol.

import net from 'node:net';
import type {QmpEvent, QmpGreeting} from './qmp-types.js';

export type {QmpEvent, QmpGreeting} from './qmp-types.js';

/** QEMU answered a command with {"error": {"class": ..., "desc": ...}}. */
export class QmpError extends Error {
	override readonly name = 'QmpError';
	constructor(
		readonly command: string,
		/** QMP error class, e.g. "GenericError", "CommandNotFound", "DeviceNotFound". */
		readonly errorClass: string,
		readonly desc: string,
	) {
		super(`QEMU refused '${command}': ${desc} (${errorClass})`);
	}
}

/** The connection closed (QEMU exited, or close() was called) before the answer came. */
export class QmpClosedError extends Error {
	override readonly name = 'QmpClosedError';
	constructor(
		message: string,
		readonly command: string | undefined,
		readonly lastEvent: QmpEvent | undefined,
		/** True when close() was called by us rather than QEMU going away. */
		readonly byClient: boolean,
	) {
		super(message);
	}
}

export class QmpTimeoutError extends Error {
	override readonly name = 'QmpTimeoutError';
	constructor(
		readonly command: string,
		readonly timeoutMs: number,
	) {
		super(`QEMU did not answer '${command}' within ${formatMs(timeoutMs)}`);
	}
}

/** The socket never accepted a connection, or the greeting/handshake failed. */
export class QmpConnectError extends Error {
	override readonly name = 'QmpConnectError';
	constructor(
		message: string,
		readonly socketPath: string,
		readonly cause?: unknown,
	) {
		super(message);
	}
}

export interface QmpConnectOptions {
	/** Path of the socket given to QEMU as `-qmp unix:PATH,server=on,wait=off`. */
	socketPath: string;
	/** Deadline for connect + greeting + qmp_capabilities, from the call. Default 10 s. */
	timeoutMs?: number;
	/** Pause between attempts while the socket does not exist or refuses. Default 50 ms. */
	retryIntervalMs?: number;
	/** Abort the retries, e.g. when the QEMU process exited before creating the socket. */
	signal?: AbortSignal;
	/** Default timeout of execute(). Default 30 s. */
	commandTimeoutMs?: number;
}

export interface ExecuteOptions {
	/** Reject with QmpTimeoutError after this long (the late answer is then ignored). */
	timeoutMs?: number;
}

/** What the samplers need from a QMP connection; tests can pass a fake. */
export interface QmpLike {
	execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: ExecuteOptions): Promise<T>;
}

interface Pending {
	command: string;
	resolve: (value: unknown) => void;
	reject: (error: Error) => void;
	timer?: NodeJS.Timeout;
}

type EventListener = (event: QmpEvent) => void;
type CloseListener = (error: QmpClosedError) => void;

export class QmpClient implements QmpLike {
	/**
	 * Connects to QEMU's QMP socket, retrying while it does not exist yet (QEMU creates it shortly
	 * after start), reads the greeting and negotiates capabilities.
	 */
	static async connect(options: QmpConnectOptions): Promise<QmpClient> {
		const timeoutMs = options.timeoutMs ?? 10_000;
		const retryMs = options.retryIntervalMs ?? 50;
		const deadline = Date.now() + timeoutMs;
		const {socketPath, signal} = options;
		let lastError: NodeJS.ErrnoException | undefined;
		let attempts = 0;
		for (;;) {
			if (signal?.aborted) {
				throw new QmpConnectError(
					`gave up connecting to QMP at ${socketPath}: ${abortReason(signal)}`,
					socketPath,
					signal.reason,
				);
			}
			attempts++;
			try {
				const socket = await connectOnce(socketPath, Math.max(1, deadline - Date.now()));
				const client = new QmpClient(socket, options.commandTimeoutMs ?? 30_000);
				try {
					await client.handshake(Math.max(1, deadline - Date.now()));
				} catch (error) {
					await client.close();
					throw new QmpConnectError(`QMP handshake on ${socketPath} failed: ${errorMessage(error)}`, socketPath, error);
				}
				return client;
			} catch (error) {
				if (error instanceof QmpConnectError) throw error;
				const seen = error as NodeJS.ErrnoException;
				// Our own per-attempt timer (a last attempt given a millisecond, a loaded host) says less
				// than what an attempt before it saw (ENOENT: the socket is not there).
				if (!(seen.code === 'ETIMEDOUT' && lastError)) lastError = seen;
				if (!isRetryable(seen)) {
					throw new QmpConnectError(
						`cannot connect to QMP at ${socketPath}: ${errorMessage(error)}`,
						socketPath,
						error,
					);
				}
			}
			const left = deadline - Date.now();
			if (left <= 0) {
				const why =
					lastError?.code === 'ENOENT'
						? 'the socket never appeared'
						: `last error: ${lastError?.code ?? errorMessage(lastError)}`;
				throw new QmpConnectError(
					`QEMU's QMP socket ${socketPath} did not accept a connection within ${formatMs(timeoutMs)} (${attempts} attempts; ${why})`,
					socketPath,
					lastError,
				);
			}
			await sleep(Math.min(retryMs, left), signal);
		}
	}

	/** The greeting QEMU sent (version, capabilities); set once connect() resolved. */
	greeting: QmpGreeting | undefined;
	/** The most recent asynchronous event, e.g. {event: "SHUTDOWN", ...}. */
	lastEvent: QmpEvent | undefined;

	private readonly socket: net.Socket;
	private readonly defaultTimeoutMs: number;
	private readonly pending = new Map<string, Pending>();
	private readonly eventListeners = new Set<EventListener>();
	private readonly closeListeners = new Set<CloseListener>();
	private buffer = '';
	private seq = 0;
	private isClosed = false;
	private closedByClient = false;
	private socketError: Error | undefined;
	private greetingWaiter: {resolve: (g: QmpGreeting) => void; reject: (e: Error) => void} | undefined;
	private closePromise: Promise<void>;
	private closeError: QmpClosedError | undefined;

	private constructor(socket: net.Socket, defaultTimeoutMs: number) {
		this.socket = socket;
		this.defaultTimeoutMs = defaultTimeoutMs;
		socket.setEncoding('utf8'); // a StringDecoder: multi-byte characters split across chunks stay whole
		socket.on('data', (chunk: string) => this.onData(chunk));
		socket.on('error', error => {
			this.socketError = error;
		});
		this.closePromise = new Promise(resolve => {
			socket.once('close', () => {
				this.onClose();
				resolve();
			});
		});
	}

	/** True once the socket closed (for whatever reason). */
	get closed(): boolean {
		return this.isClosed;
	}

	/** Resolves when the connection is gone; never rejects. */
	get whenClosed(): Promise<void> {
		return this.closePromise;
	}

	/**
	 * Runs one command. Rejects with QmpError when QEMU answers with an error, QmpTimeoutError
	 * after timeoutMs, QmpClosedError when the connection closes first.
	 */
	execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: ExecuteOptions): Promise<T> {
		if (this.isClosed) {
			return Promise.reject(this.closedErrorFor(command));
		}
		const id = `kc-${++this.seq}`;
		const message: Record<string, unknown> = {execute: command, id};
		if (args !== undefined) message.arguments = args;
		const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
		return new Promise((resolve, reject) => {
			const pending: Pending = {command, resolve: resolve as (value: unknown) => void, reject};
			if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
				pending.timer = setTimeout(() => {
					this.pending.delete(id);
					reject(new QmpTimeoutError(command, timeoutMs));
				}, timeoutMs);
			}
			this.pending.set(id, pending);
			// Errors of the write surface as 'error' + 'close' on the socket, which rejects this.
			this.socket.write(JSON.stringify(message, bigintReplacer) + '\n');
		});
	}

	/** Subscribes to asynchronous events (or to the close). Returns an unsubscribe function. */
	on(type: 'event', listener: EventListener): () => void;
	on(type: 'close', listener: CloseListener): () => void;
	on(type: 'event' | 'close', listener: EventListener | CloseListener): () => void {
		if (type === 'event') {
			const l = listener as EventListener;
			this.eventListeners.add(l);
			return () => this.eventListeners.delete(l);
		}
		const l = listener as CloseListener;
		if (this.isClosed && this.closeError) {
			const error = this.closeError;
			queueMicrotask(() => safeCall(() => l(error)));
		} else {
			this.closeListeners.add(l);
		}
		return () => this.closeListeners.delete(l);
	}

	/** Same as on('event', listener). */
	subscribe(listener: EventListener): () => void {
		return this.on('event', listener);
	}

	/**
	 * Resolves with the next event named `name` (and matching `predicate`); rejects on timeout or
	 * close. Events that arrived before the call are not considered.
	 */
	waitForEvent(
		name: string,
		options: {timeoutMs?: number; predicate?: (event: QmpEvent) => boolean} = {},
	): Promise<QmpEvent> {
		if (this.isClosed) return Promise.reject(this.closedErrorFor(`event ${name}`));
		const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
		return new Promise((resolve, reject) => {
			const done = () => {
				clearTimeout(timer);
				offEvent();
				offClose();
			};
			const timer = setTimeout(() => {
				done();
				reject(new QmpTimeoutError(`event ${name}`, timeoutMs));
			}, timeoutMs);
			const offEvent = this.on('event', event => {
				if (event.event !== name || (options.predicate && !options.predicate(event))) return;
				done();
				resolve(event);
			});
			const offClose = this.on('close', () => {
				done();
				reject(this.closedErrorFor(`event ${name}`));
			});
		});
	}

	/**
	 * Closes the connection. Pending commands reject with QmpClosedError (byClient: true).
	 * Resolves once the socket is closed; safe to call more than once.
	 */
	async close(): Promise<void> {
		if (!this.isClosed) {
			this.closedByClient = true;
			this.socket.end();
			const force = setTimeout(() => this.socket.destroy(), 500);
			force.unref();
			await this.closePromise;
			clearTimeout(force);
		}
		await this.closePromise;
	}

	private async handshake(timeoutMs: number): Promise<void> {
		const greeting = await new Promise<QmpGreeting>((resolve, reject) => {
			if (this.greeting) return resolve(this.greeting);
			if (this.isClosed)
				return reject(new Error(`QEMU closed the QMP connection before its greeting${this.socketErrorSuffix()}`));
			const timer = setTimeout(() => {
				this.greetingWaiter = undefined;
				reject(new Error(`no QMP greeting within ${formatMs(timeoutMs)}`));
			}, timeoutMs);
			this.greetingWaiter = {
				resolve: g => {
					clearTimeout(timer);
					resolve(g);
				},
				reject: e => {
					clearTimeout(timer);
					reject(e);
				},
			};
		});
		this.greeting = greeting;
		await this.execute('qmp_capabilities', undefined, {timeoutMs});
	}

	private onData(chunk: string): void {
		this.buffer += chunk;
		let newline: number;
		while ((newline = this.buffer.indexOf('\n')) >= 0) {
			const line = this.buffer.slice(0, newline).trim();
			this.buffer = this.buffer.slice(newline + 1);
			if (line) this.onLine(line);
		}
	}

	private onLine(line: string): void {
		let message: Record<string, unknown>;
		try {
			message = parseQmpJson(line) as Record<string, unknown>;
		} catch {
			return; // not JSON: QEMU never sends this on a QMP socket; ignore rather than die
		}
		if (message === null || typeof message !== 'object') return;
		if ('QMP' in message) {
			this.greeting = message as unknown as QmpGreeting;
			const waiter = this.greetingWaiter;
			this.greetingWaiter = undefined;
			waiter?.resolve(this.greeting);
			return;
		}
		if (typeof message.event === 'string') {
			const event = message as unknown as QmpEvent;
			this.lastEvent = event;
			for (const listener of [...this.eventListeners]) safeCall(() => listener(event));
			return;
		}
		const id = message.id;
		if (typeof id !== 'string') return; // every command we send carries an id
		const pending = this.pending.get(id);
		if (!pending) return; // timed out already
		this.pending.delete(id);
		if (pending.timer) clearTimeout(pending.timer);
		if ('error' in message) {
			const error = (message.error ?? {}) as {class?: unknown; desc?: unknown};
			pending.reject(
				new QmpError(pending.command, String(error.class ?? 'GenericError'), String(error.desc ?? 'no description')),
			);
		} else {
			pending.resolve(message.return);
		}
	}

	private onClose(): void {
		this.isClosed = true;
		const waiter = this.greetingWaiter;
		this.greetingWaiter = undefined;
		waiter?.reject(new Error(`QEMU closed the QMP connection before its greeting${this.socketErrorSuffix()}`));
		const pending = [...this.pending.values()];
		this.pending.clear();
		for (const p of pending) {
			if (p.timer) clearTimeout(p.timer);
			p.reject(this.closedErrorFor(p.command));
		}
		this.closeError = this.closedErrorFor(undefined);
		const listeners = [...this.closeListeners];
		this.closeListeners.clear();
		for (const listener of listeners) safeCall(() => listener(this.closeError!));
	}

	private closedErrorFor(command: string | undefined): QmpClosedError {
		const last = describeEvent(this.lastEvent);
		const waiting = command === undefined ? '' : ` while waiting for '${command}'`;
		const message = this.closedByClient
			? `the QMP connection was closed by kernelcraft${waiting} (last event: ${last})`
			: `QEMU closed the QMP connection${waiting} (last event: ${last})${this.socketErrorSuffix()}`;
		return new QmpClosedError(message, command, this.lastEvent, this.closedByClient);
	}

	private socketErrorSuffix(): string {
		// ECONNRESET/EPIPE are just how a killed QEMU looks from here: not worth saying
		const error = this.socketError as NodeJS.ErrnoException | undefined;
		if (!error || error.code === 'ECONNRESET' || error.code === 'EPIPE') return '';
		return `; socket error: ${error.code ?? error.message}`;
	}
}

/** "SHUTDOWN {"guest":false,"reason":"host-signal"}", shortened; "none" when there was none. */
export function describeEvent(event: QmpEvent | undefined): string {
	if (!event) return 'none';
	const data = event.data && Object.keys(event.data).length > 0 ? ' ' + JSON.stringify(event.data, bigintReplacer) : '';
	const text = event.event + data;
	return text.length > 120 ? text.slice(0, 117) + '...' : text;
}

const bigMark = '\u0000kc-bigint:';

/**
 * JSON.parse for QMP lines, except that integer literals which a double cannot hold exactly
 * (QEMU prints uint64 values such as descriptor addresses as bare integers) become bigint.
 */
export function parseQmpJson(text: string): unknown {
	let rewritten: string | undefined;
	let copied = 0;
	let i = 0;
	const n = text.length;
	while (i < n) {
		const c = text.charCodeAt(i);
		if (c === 0x22) {
			// a string: skip it, honouring escapes
			i++;
			while (i < n) {
				const d = text.charCodeAt(i);
				if (d === 0x5c) i += 2;
				else if (d === 0x22) {
					i++;
					break;
				} else i++;
			}
			continue;
		}
		if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
			const start = i++;
			while (i < n && isNumberChar(text.charCodeAt(i))) i++;
			const literal = text.slice(start, i);
			if (literal.length >= 16 && /^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
				rewritten = (rewritten ?? '') + text.slice(copied, start) + JSON.stringify(bigMark + literal);
				copied = i;
			}
			continue;
		}
		i++;
	}
	if (rewritten === undefined) return JSON.parse(text);
	rewritten += text.slice(copied);
	return JSON.parse(rewritten, (_key, value: unknown) =>
		typeof value === 'string' && value.startsWith(bigMark) ? BigInt(value.slice(bigMark.length)) : value,
	);
}

function isNumberChar(c: number): boolean {
	// digits . e E + -
	return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

function bigintReplacer(_key: string, value: unknown): unknown {
	return typeof value === 'bigint' ? value.toString() : value;
}

function connectOnce(socketPath: string, timeoutMs: number): Promise<net.Socket> {
	return new Promise((resolve, reject) => {
		const socket = net.createConnection({path: socketPath});
		const timer = setTimeout(() => {
			socket.destroy();
			const error: NodeJS.ErrnoException = new Error('connect timed out');
			error.code = 'ETIMEDOUT';
			reject(error);
		}, timeoutMs);
		const onError = (error: Error) => {
			clearTimeout(timer);
			socket.destroy();
			reject(error);
		};
		socket.once('error', onError);
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.off('error', onError);
			resolve(socket);
		});
	});
}

function isRetryable(error: NodeJS.ErrnoException | undefined): boolean {
	// ENOENT: not created yet; ECONNREFUSED: a stale socket file or not listening yet;
	// EAGAIN: backlog full; ETIMEDOUT: our own per-attempt timer.
	return ['ENOENT', 'ECONNREFUSED', 'EAGAIN', 'ETIMEDOUT'].includes(error?.code ?? '');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise(resolve => {
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		}
		signal?.addEventListener('abort', done, {once: true});
	});
}

function safeCall(fn: () => void): void {
	try {
		fn();
	} catch {
		// a listener's bug must not break the protocol stream
	}
}

function abortReason(signal: AbortSignal): string {
	const reason: unknown = signal.reason;
	return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
}

function errorMessage(error: unknown): string {
	if (error instanceof Error)
		return (error as NodeJS.ErrnoException).code
			? `${(error as NodeJS.ErrnoException).code}: ${error.message}`
			: error.message;
	return String(error);
}

function formatMs(ms: number): string {
	return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}
