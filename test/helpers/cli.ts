import {spawn, type ChildProcess} from 'node:child_process';
import path from 'node:path';
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
}

/** Starts the built CLI as a learner or CI would, collecting its stdout lines. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
	const child = spawn(process.execPath, [cliPath, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
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
	const exit = new Promise<number | string>(resolve => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
	const waitForEvent = (type: string, timeoutMs: number) => new Promise<Record<string, unknown>>((resolve, reject) => {
		const find = () => lines.map(line => safeParse(line)).find(event => event?.type === type);
		const check = () => {
			const found = find();
			if (found) {
				clearTimeout(timer);
				listeners.splice(listeners.indexOf(check), 1);
				resolve(found);
			}
		};
		const timer = setTimeout(() => reject(new Error(`no "${type}" event within ${timeoutMs} ms; last lines: ${lines.slice(-5).join(' | ')} ${stderr.join('')}`)), timeoutMs);
		listeners.push(check);
		check();
	});
	return {child, lines, stderr, exit, waitForEvent};
}

export function safeParse(line: string): Record<string, unknown> | undefined {
	try {
		return JSON.parse(line) as Record<string, unknown>;
	} catch {
		return undefined;
	}
}
