import {spawn} from 'node:child_process';
import test from 'ava';
import {cliPath} from '../../helpers/cli.js';
import {isAlive, processesMatching} from '../../helpers/processes.js';

// `kernelcraft gdb virtio-hello --walk` end to end: the real CLI, two real gdbs, a real VM.

test.serial(
	'gdb virtio-hello --walk: three stops on one request, the same address on both sides, the answer, nothing left',
	async t => {
		const child = spawn(process.execPath, [cliPath, 'gdb', 'virtio-hello', '--walk'], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		t.teardown(() => {
			if (child.exitCode === null) child.kill('SIGKILL');
		});
		let out = '';
		child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
		const code = await new Promise<number | null>(resolve => {
			const timer = setTimeout(() => child.kill('SIGTERM'), 600_000);
			child.once('exit', exitCode => {
				clearTimeout(timer);
				resolve(exitCode);
			});
		});
		t.is(code, 0, out.slice(-3000));
		t.regex(out, /── stop 1: the driver in vh_queue ──/);
		t.regex(out, /── stop 2: the device in virtqueue_fill ──/);
		t.regex(out, /── stop 3: the driver in vh_vq_done ──/);
		const addresses = [...out.matchAll(/^descriptor 0: addr (0x[0-9a-f]+) len (\d+)/gm)].map(match =>
			match.slice(1).join(' '),
		);
		t.is(addresses.length, 2, out);
		t.is(addresses[0], addresses[1], 'the driver and the device name the same buffer');
		t.regex(out, /answered: Hello, Ada! from kernelcraft QEMU/);
		const pid = Number(/QEMU pid (\d+)/.exec(out)?.[1]);
		if (pid) t.false(isAlive(pid), 'no QEMU left');
		t.deepEqual(
			processesMatching('gdb -nx -iex set pagination off').filter(gdb => isAlive(gdb)),
			[],
			'no gdb left',
		);
	},
);
