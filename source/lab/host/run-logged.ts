import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {isNoSpace, noSpaceError} from '../disk-full.js';
import {LabError} from '../lab-error.js';
import type {JobControl} from './job-control.js';

export interface RunLoggedOptions {
	cwd?: string;
	env?: NodeJS.ProcessEnv;
	/** Every line of stdout and stderr is appended here. */
	logPath: string;
	onLine?: (line: string) => void;
	signal?: AbortSignal;
	/** Names the job in errors, e.g. "the kernel build". */
	what: string;
	/** Picks the lines worth showing when the command fails (default: the last 15). */
	pickErrorLines?: (lines: string[]) => string[];
	hint?: string;
	/**
	 * A build nobody waits for yet (the TUI's background QEMU build): nice 19 and the idle I/O
	 * class, so the learner's VM and foreground builds get the CPU and the disk first.
	 */
	background?: boolean;
	/** Pause and resume from outside (see JobControl); an abort still kills the group. */
	control?: JobControl;
}

const keptLines = 400;

/**
 * Runs a command with its output streamed line by line to a callback and a log file. A failure
 * becomes a LabError naming the job, the lines that matter and the log's path; an abort kills the
 * whole process group (make and its compilers) before rejecting.
 */
export async function runLogged(command: string, args: string[], options: RunLoggedOptions): Promise<string[]> {
	fs.mkdirSync(path.dirname(options.logPath), {recursive: true});
	const log = fs.createWriteStream(options.logPath, {flags: 'a'});
	// A log that cannot be written (a full disk) ends the job: it would fail on the same disk.
	let logError: NodeJS.ErrnoException | undefined;
	let stopForLog = () => {};
	log.on('error', error => {
		logError ??= error;
		stopForLog();
	});
	log.write(`$ ${[command, ...args].join(' ')}\n`);
	const recent: string[] = [];
	return new Promise((resolve, reject) => {
		if (options.signal?.aborted) {
			log.end();
			reject(abortError());
			return;
		}
		const env = options.env ?? process.env;
		if (!findCommand(command, env)) {
			log.end();
			reject(notFound(options.what, command));
			return;
		}
		// In its own process group (so an abort kills make and its compilers together), and killed
		// by the kernel if we die first (setpriv --pdeathsig): a SIGKILLed kernelcraft must not leave
		// a make running in a folder that the next run is about to use.
		const lowered = options.background ? [...backgroundPrefix, command, ...args] : [command, ...args];
		const [program, programArgs] = setprivPath
			? [setprivPath, ['--pdeathsig', 'KILL', '--', ...lowered]]
			: [lowered[0]!, lowered.slice(1)];
		const child = spawn(program, programArgs, {
			cwd: options.cwd,
			env,
			detached: true,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const onAbort = () => {
			if (child.pid) {
				try {
					process.kill(-child.pid, 'SIGKILL');
				} catch {}
			}
		};
		options.signal?.addEventListener('abort', onAbort, {once: true});
		let exited: {code: number | null; signal: NodeJS.Signals | null} | undefined;
		stopForLog = () => {
			onAbort();
			// The log failed after the job ended (its last line): end() will not call back.
			if (exited) settle(exited.code, exited.signal);
		};
		if (logError) onAbort();
		const detach = child.pid && options.control ? options.control.attach(child.pid) : undefined;
		const callOffWatchdog = child.pid ? watchGroup(child.pid) : undefined;
		const pending = {stdout: '', stderr: ''};
		const take = (stream: 'stdout' | 'stderr', chunk: Buffer) => {
			if (!logError) log.write(chunk);
			const text = pending[stream] + chunk.toString('utf8');
			const parts = text.split('\n');
			pending[stream] = parts.pop() ?? '';
			for (const line of parts) emitLine(line);
		};
		const emitLine = (line: string) => {
			recent.push(line);
			if (recent.length > keptLines) recent.shift();
			options.onLine?.(line);
		};
		child.stdout.on('data', (chunk: Buffer) => take('stdout', chunk));
		child.stderr.on('data', (chunk: Buffer) => take('stderr', chunk));
		child.on('error', (error: NodeJS.ErrnoException) => {
			options.signal?.removeEventListener('abort', onAbort);
			detach?.();
			callOffWatchdog?.();
			log.end();
			reject(
				error.code === 'ENOENT'
					? notFound(options.what, command)
					: new LabError({what: `Could not start ${options.what}: ${command}: ${error.message}`}),
			);
		});
		child.on('close', (code, signal) => {
			options.signal?.removeEventListener('abort', onAbort);
			detach?.();
			callOffWatchdog?.();
			for (const rest of [pending.stdout, pending.stderr]) if (rest) emitLine(rest);
			exited = {code, signal};
			if (logError) {
				log.destroy();
				settle(code, signal);
			} else {
				// Settled once the log is on disk: a failure names the log, and whoever reads it at
				// once (the learner, a test) must find every line the job printed.
				log.end(`\n[exit ${code ?? signal}]\n`, () => settle(code, signal));
			}
		});
		const settle = (code: number | null, signal: NodeJS.Signals | null) => {
			if (logError) {
				reject(
					isNoSpace(logError)
						? noSpaceError(options.logPath)
						: new LabError({what: `Could not write ${options.what}'s log ${options.logPath}: ${logError.message}`}),
				);
			} else if (options.signal?.aborted) {
				reject(abortError());
			} else if (code === 0) {
				resolve(recent);
			} else {
				const picked = options.pickErrorLines?.(recent) ?? [];
				reject(
					new LabError({
						what: `${capitalise(options.what)} failed (exit ${code ?? signal}).`,
						lastSeen: picked.length > 0 ? picked : recent.slice(-15),
						logPath: options.logPath,
						hint: options.hint,
					}),
				);
			}
		};
	});
}

/**
 * pdeathsig reaches only the direct child: ninja under qemu-build.sh, or the compilers under make,
 * would go on writing in the cache after a SIGKILLed kernelcraft, with the cache lock already
 * free. A watchdog (sh and cat, in a group of their own) holds a pipe from this process; when the
 * pipe closes because this process died, however it died, it kills the child's whole group.
 * Returns the function that dismisses the watchdog once the child has ended.
 */
function watchGroup(pgid: number): () => void {
	const watchdog = spawn('sh', ['-c', 'cat >/dev/null; kill -KILL -"$0" 2>/dev/null', String(pgid)], {
		stdio: ['pipe', 'ignore', 'ignore'],
		detached: true,
	});
	watchdog.on('error', () => undefined);
	// Neither the watchdog nor its pipe may keep kernelcraft alive.
	watchdog.unref();
	(watchdog.stdin as (NodeJS.WritableStream & {unref?: () => void}) | null)?.unref?.();
	return () => {
		try {
			// Its group: sh and the cat under it.
			if (watchdog.pid) process.kill(-watchdog.pid, 'SIGKILL');
		} catch {}
		watchdog.stdin?.destroy();
	};
}

function notFound(what: string, command: string): LabError {
	return new LabError({
		what: `Could not start ${what}: ${command}: command not found`,
		hint: 'Run `kernelcraft doctor` to see what is missing, then `kernelcraft setup`.',
	});
}

/** The command's path, as execvp would find it, or undefined. */
export function findCommand(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
	if (command.includes('/')) return fs.existsSync(command) ? command : undefined;
	for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':')) {
		const candidate = path.join(dir || '.', command);
		try {
			fs.accessSync(candidate, fs.constants.X_OK);
			if (fs.statSync(candidate).isFile()) return candidate;
		} catch {}
	}
	return undefined;
}

// util-linux's setpriv is on every Debian and Ubuntu system; without it, children are not tied to us.
const setprivPath = findCommand('setpriv');
// nice (coreutils) and ionice (util-linux): the idle I/O class needs no privilege.
const backgroundPrefix = findCommand('ionice') ? ['nice', '-n', '19', 'ionice', '-c', '3'] : ['nice', '-n', '19'];

export function abortError(): Error {
	const error = new Error('Cancelled.');
	error.name = 'AbortError';
	return error;
}

function capitalise(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}
