// Starts a real, paused QEMU for tests, and makes sure it dies with the test (t.teardown).
import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {ExecutionContext} from 'ava';

export const qemuBinary = process.env.KERNELCRAFT_QEMU ?? '/usr/bin/qemu-system-x86_64';

export interface TestQemu {
	dir: string;
	socketPath: string;
	child: ChildProcess;
	pid: number;
	/** Resolves when the process is gone. */
	exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
	stderr(): string;
	kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The devices every test VM has: a virtio-rng and a virtio-blk on a null block backend. */
export const virtioDevices = [
	'-device',
	'virtio-rng-pci',
	'-blockdev',
	'null-co,node-name=null0,size=1048576',
	'-device',
	'virtio-blk-pci,drive=null0',
];

export interface StartOptions {
	/** Arguments after the common ones. Default: virtioDevices. */
	args?: string[];
	/** Start paused with -S (default true). */
	paused?: boolean;
	/** Directory to use instead of a fresh temporary one (it is not removed). */
	dir?: string;
}

export async function startQemu(t: ExecutionContext, options: StartOptions = {}): Promise<TestQemu> {
	const ownDir = options.dir === undefined;
	const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'kc-qmp-')));
	const socketPath = path.join(dir, 'qmp.sock');
	const args = [
		...(options.paused === false ? [] : ['-S']),
		'-nodefaults',
		'-display',
		'none',
		'-qmp',
		`unix:${socketPath},server=on,wait=off`,
		...(options.args ?? virtioDevices),
	];
	const child = spawn(qemuBinary, args, {stdio: ['ignore', 'ignore', 'pipe']});
	let stderr = '';
	child.stderr!.setEncoding('utf8');
	child.stderr!.on('data', (chunk: string) => {
		stderr += chunk;
	});
	const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>(resolve => {
		child.once('exit', (code, signal) => resolve({code, signal}));
	});
	const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
	spawnError.catch(() => undefined);
	const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
		if (child.exitCode === null && child.signalCode === null) child.kill(signal);
		await exited;
	};
	t.teardown(async () => {
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGCONT'); // in case a test stopped it
			child.kill('SIGKILL');
		}
		await Promise.race([exited, spawnError.catch(() => undefined)]);
		if (ownDir) await rm(dir, {recursive: true, force: true});
	});
	await Promise.race([new Promise<void>(resolve => child.once('spawn', () => resolve())), spawnError]);
	return {dir, socketPath, child, pid: child.pid!, exited, stderr: () => stderr, kill};
}

export function haveQemu(): boolean {
	return existsSync(qemuBinary);
}
