import {spawn, type ChildProcess} from 'node:child_process';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {projectRoot} from '../../source/lab/paths.js';

export const cliPath = path.join(projectRoot, 'dist', 'source', 'cli.js');

export interface CliRun {
	child: ChildProcess;
	lines: string[];
	stderr: string[];
	/** Resolves with the exit code (or the signal name) once the CLI has exited. */
	exit: Promise<number | string>;
	/** Resolves with the first JSON event of this type. */
	waitForEvent(type: string, timeoutMs: number): Promise<Record<string, unknown>>;
	/**
	 * Resolves with the exit code (or signal name); past the deadline the CLI is killed (SIGTERM,
	 * then SIGKILL 5 s later) and the promise rejects, naming what it was waiting for.
	 */
	waitForExit(timeoutMs: number): Promise<number | string>;
	/** SIGKILL the CLI if it still runs (its QEMU then exits on its own closed pty). */
	kill(): void;
}

/**
 * Every CLI a test started, killed when the test ends (ava teardown, when given a context) and in
 * any case when the test process exits or is told to stop: a test that times out or throws never
 * leaves its child behind.
 */
const started = new Set<ChildProcess>();

function killStarted(): void {
	for (const child of started) {
		try {
			child.kill('SIGKILL');
		} catch {}
	}
	started.clear();
}

let reaperInstalled = false;
function installReaper(): void {
	if (reaperInstalled) return;
	reaperInstalled = true;
	process.on('exit', killStarted);
	for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
		process.once(signal, () => {
			killStarted();
			process.kill(process.pid, signal);
		});
	}
}

/**
 * Starts the built CLI as a learner or CI would, collecting its stdout lines. With the test's
 * context, the CLI is killed at the test's teardown if it still runs.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, t?: ExecutionContext): CliRun {
	installReaper();
	const child = spawn(process.execPath, [cliPath, ...args], {
		env: {...process.env, ...env},
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	started.add(child);
	const kill = () => {
		if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	};
	t?.teardown(kill);
	const lines: string[] = [];
	const stderr: string[] = [];
	const listeners: (() => void)[] = [];
	let pending = '';
	child.stdout!.on('data', (chunk: Buffer) => {
		const parts = (pending + chunk.toString('utf8')).split('\n');
		pending = parts.pop() ?? '';
		lines.push(...parts);
		for (const listener of [...listeners]) listener();
	});
	child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
	const exit = new Promise<number | string>(resolve =>
		child.on('exit', (code, signal) => {
			started.delete(child);
			resolve(code ?? signal ?? -1);
		}),
	);
	const waitForExit = async (timeoutMs: number) => {
		let timer: NodeJS.Timeout | undefined;
		const late = new Promise<never>((_, reject) => {
			timer = setTimeout(() => {
				child.kill('SIGTERM');
				setTimeout(kill, 5000).unref();
				reject(
					new Error(
						`kernelcraft ${args.join(' ')} still ran after ${timeoutMs} ms (killed); last lines: ${lines.slice(-5).join(' | ')} ${stderr.join('').slice(-1000)}`,
					),
				);
			}, timeoutMs);
		});
		try {
			return await Promise.race([exit, late]);
		} finally {
			clearTimeout(timer);
		}
	};
	const waitForEvent = (type: string, timeoutMs: number) =>
		new Promise<Record<string, unknown>>((resolve, reject) => {
			const find = () => lines.map(line => safeParse(line)).find(event => event?.type === type);
			const check = () => {
				const found = find();
				if (found) {
					clearTimeout(timer);
					listeners.splice(listeners.indexOf(check), 1);
					resolve(found);
				}
			};
			const timer = setTimeout(
				() =>
					reject(
						new Error(
							`no "${type}" event within ${timeoutMs} ms; last lines: ${lines.slice(-5).join(' | ')} ${stderr.join('')}`,
						),
					),
				timeoutMs,
			);
			listeners.push(check);
			check();
		});
	return {child, lines, stderr, exit, waitForEvent, waitForExit, kill};
}

export function safeParse(line: string): Record<string, unknown> | undefined {
	try {
		return JSON.parse(line) as Record<string, unknown>;
	} catch {
		return undefined;
	}
}
