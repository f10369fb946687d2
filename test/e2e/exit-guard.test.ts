import {spawn} from 'node:child_process';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import test from 'ava';
import {projectRoot} from '../../source/lab/paths.js';

// The app's exit paths in a real child process, without a VM: the shutdown it is given stands for
// stopping QEMU. Each case ends within its deadline or the test fails (the child is killed then).

const guardUrl = pathToFileURL(path.join(projectRoot, 'dist', 'source', 'cli', 'exit-guard.js')).href;

interface Ended {
	code: number | null;
	signal: string | null;
	stderr: string;
}

function runGuarded(
	body: string,
	options: {closePipes?: boolean; signals?: {afterMs: number; signal: NodeJS.Signals}[]; deadlineMs?: number} = {},
): Promise<Ended> {
	const script = `import {ExitGuard} from ${JSON.stringify(guardUrl)};\n${body}`;
	const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: ['ignore', 'pipe', 'pipe']});
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
	child.stdout.on('data', () => undefined);
	if (options.closePipes) {
		// The reader goes away as soon as the child has started writing.
		child.stdout.once('data', () => {
			child.stdout.destroy();
			child.stderr.destroy();
		});
	}
	// Signals go once the guard is installed (the child says "ready"), one after the other.
	child.stdout.once('data', () => {
		for (const {afterMs, signal} of options.signals ?? []) setTimeout(() => child.kill(signal), afterMs).unref();
	});
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(
				new Error(
					`the guarded child still ran after ${options.deadlineMs ?? 10_000} ms; stderr: ${stderr.slice(-500)}`,
				),
			);
		}, options.deadlineMs ?? 10_000);
		child.on('exit', (code, signal) => {
			clearTimeout(timer);
			resolve({code, signal, stderr});
		});
	});
}

test('a closed stdout pipe ends the app through its shutdown, quietly, with 141', async t => {
	const ended = await runGuarded(
		`
		let stopped = false;
		new ExitGuard({shutdown: async () => { stopped = true; }}).install();
		process.on('exit', () => { if (!stopped) process.exitCode = 99; });
		setInterval(() => process.stdout.write('event\\n'), 5);
	`,
		{closePipes: true},
	);
	t.is(ended.code, 141);
	t.notRegex(ended.stderr, /unexpected error|EPIPE|\n\s+at /);
});

test('an error while both pipes are closed is reported nowhere and cannot loop', async t => {
	// Every write fails, and each failure used to be handled as a new crash that wrote again.
	const ended = await runGuarded(
		`
		new ExitGuard({shutdown: () => new Promise(resolve => setTimeout(resolve, 200))}).install();
		process.stdout.write('started\\n');
		setInterval(() => {
			process.stderr.write('progress\\n');
			process.stdout.write('event\\n');
		}, 5);
		setTimeout(() => { throw new Error('a bug, after the reader left'); }, 100);
	`,
		{closePipes: true},
	);
	t.true(ended.code === 141 || ended.code === 70, `exit ${ended.code}`);
});

test('SIGTERM ends the app even when its shutdown never finishes: the deadline exits', async t => {
	const ended = await runGuarded(
		`
		new ExitGuard({shutdown: () => new Promise(() => undefined), deadlineMs: 500}).install();
		setInterval(() => undefined, 1000);
		process.stdout.write('ready\\n');
	`,
		{signals: [{afterMs: 300, signal: 'SIGTERM'}]},
	);
	// The shutdown never resolves: only the deadline can have ended it.
	t.is(ended.code, 143);
});

test('a second SIGTERM exits at once, without waiting for the shutdown', async t => {
	const ended = await runGuarded(
		`
		new ExitGuard({shutdown: () => new Promise(() => undefined), deadlineMs: 60_000}).install();
		setInterval(() => undefined, 1000);
		process.stdout.write('ready\\n');
	`,
		{
			signals: [
				{afterMs: 300, signal: 'SIGTERM'},
				{afterMs: 600, signal: 'SIGTERM'},
			],
		},
	);
	t.is(ended.code, 143);
});

test('an unexpected error is said once on stderr, then the app stops and exits 70', async t => {
	const ended = await runGuarded(`
		new ExitGuard({shutdown: async () => undefined}).install();
		setInterval(() => undefined, 1000);
		process.stdout.write('ready\\n');
		setTimeout(() => { throw new Error('kc-bug'); }, 50);
		setTimeout(() => { throw new Error('kc-second-bug'); }, 51);
	`);
	t.is(ended.code, 70, ended.stderr);
	t.is(ended.stderr.match(/unexpected error/g)?.length, 1);
	t.regex(ended.stderr, /kc-bug/);
});
