import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {GdbSession, typedBreak} from '../../../source/lab/debug/gdb-session.js';
import {helloAbiHeader, helloDriverDir} from '../../../source/expedition/virtio-hello.js';
import {buildKernelModule} from '../../../source/lab/build/kernel-module.js';
import {cacheRoot} from '../../../source/lab/paths.js';
import {Session} from '../../../source/lab/session.js';
import {isAlive, waitUntil} from '../../helpers/processes.js';

// The session's bookkeeping against a real gdb on a real (small) process: `gdb -p` on a sleep.
// The VM tests (gdb-session.test.ts) do the same against the guest kernel and QEMU.

/**
 * virtio_hello.ko, built for the tests' kernel through kernelcraft's own cache (a build that is
 * there already is reused): the tests below need its debug info, whatever ran before them.
 */
async function helloKo(): Promise<string> {
	const session = new Session({cacheDir: cacheRoot(), panel: false}, () => {});
	try {
		const kernel = await session.buildKernel('kernel', new AbortController().signal);
		const build = await buildKernelModule({
			srcDir: helloDriverDir,
			kernel,
			cacheDir: session.cacheDir,
			extraInputs: [helloAbiHeader],
		});
		return build.modules.virtio_hello!;
	} finally {
		await session.dispose();
	}
}

function sleeper(t: ExecutionContext): number {
	const child = spawn('sleep', ['600'], {stdio: 'ignore'});
	t.teardown(() => child.kill('SIGKILL'));
	return child.pid!;
}

test.serial('attached, it resumes the target; x stops it, c resumes it; it knows which', async t => {
	const pid = sleeper(t);
	const events: string[] = [];
	const gdb = new GdbSession({
		argv: ['gdb', '-q', '-p', String(pid)],
		onEvent: event => event.type === 'target' && events.push(event.stopped ? 'stopped' : 'running'),
	});
	t.teardown(() => gdb.dispose());
	await gdb.ready;
	t.false(gdb.stopped, 'resumed once attached');
	// Right after the resume: the Ctrl-C must not land before gdb has taken `continue`.
	await gdb.interrupt();
	t.true(gdb.stopped);
	t.regex(await gdb.backtrace(), /#0\s/);
	gdb.continue();
	t.true(await waitUntil(() => !gdb.stopped, 5000));
	t.deepEqual(events, ['stopped', 'running', 'stopped', 'running']);
});

test.serial('break on a function that exists nowhere says so, sets nothing, and the target runs on', async t => {
	const pid = sleeper(t);
	const gdb = new GdbSession({argv: ['gdb', '-q', '-p', String(pid)]});
	t.teardown(() => gdb.dispose());
	await gdb.ready;
	const result = await gdb.break('no_such_function_anywhere');
	t.false(result.set);
	t.regex(result.message, /No function "no_such_function_anywhere"/);
	t.true(await waitUntil(() => !gdb.stopped, 5000), 'resumed after the question');
	t.regex(await gdb.break('not a name').then(r => r.message), /not a function name/);
});

test.serial("break on a module's function before it is loaded: pending, and it says which module and when", async t => {
	// A folder with a real virtio_hello.ko (built for the tests' kernel); gdb on a process that
	// has no such function stands in for a kernel without the module yet.
	const ko = await helloKo();
	const pid = sleeper(t);
	const gdb = new GdbSession({argv: ['gdb', '-q', '-p', String(pid)], modulePaths: [path.dirname(ko)]});
	t.teardown(() => gdb.dispose());
	await gdb.ready;
	const result = await gdb.break('vh_queue');
	t.true(result.set);
	t.true(result.pending);
	t.regex(
		result.message,
		/vh_queue is in virtio_hello\.ko, which is not loaded yet: .*resolves when the module is loaded/,
	);
	// The process runs on after the question: stop it to ask gdb what it holds.
	await gdb.interrupt();
	t.regex(await gdb.command('info breakpoints'), /<PENDING>\s+vh_queue/);
});

test.serial('raw input (Tab into gdb): a typed continue is a resume, the prompt after Ctrl-C a stop', async t => {
	const pid = sleeper(t);
	const gdb = new GdbSession({argv: ['gdb', '-q', '-p', String(pid)], resumeOnAttach: false});
	t.teardown(() => gdb.dispose());
	await gdb.ready;
	t.true(gdb.stopped);
	gdb.write('cont');
	gdb.write('inue\r');
	t.true(await waitUntil(() => gdb.transcript.includes('Continuing.'), 5000));
	t.false(gdb.stopped);
	await new Promise(resolve => setTimeout(resolve, 400));
	gdb.write('\x03');
	t.true(await waitUntil(() => gdb.stopped, 5000));
});

test.serial('quit detaches (the target lives on) and disposing leaves no gdb', async t => {
	const pid = sleeper(t);
	const gdb = new GdbSession({argv: ['gdb', '-q', '-p', String(pid)]});
	await gdb.ready;
	await gdb.quit();
	t.false(gdb.running);
	t.false(isAlive(gdb.pid), 'gdb is gone');
	t.true(isAlive(pid), 'the target runs on');
	t.notRegex(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+t/, 'not left stopped by the tracer');
	const second = new GdbSession({argv: ['gdb', '-q', '-p', String(pid)]});
	await second.ready;
	await second.dispose();
	t.false(isAlive(second.pid));
	t.true(isAlive(pid));
});

test.serial('a typed `break` of a name that exists nowhere is refused with a message, not left pending', async t => {
	const pid = sleeper(t);
	const notes: string[] = [];
	const gdb = new GdbSession({
		argv: ['gdb', '-q', '-p', String(pid)],
		resumeOnAttach: false,
		onEvent: event => event.type === 'note' && notes.push(event.text),
	});
	t.teardown(() => gdb.dispose());
	await gdb.ready;
	gdb.write('break no_such_functoin\r');
	t.true(await waitUntil(() => notes.length > 0, 10_000), 'kernelcraft said something');
	t.regex(notes[0]!, /No function "no_such_functoin"/);
	t.true(await waitUntil(() => gdb.stopped, 5000));
	t.notRegex(await gdb.command('info breakpoints'), /no_such_functoin/, 'nothing pending');
	// A name that exists is set the same way, and other typed lines reach gdb as they are.
	gdb.write('b nanosleep\r');
	t.true(await waitUntil(() => notes.length > 1, 10_000));
	t.regex(notes[1]!, /^Breakpoint \d+ at /m);
	t.regex(await gdb.command('info breakpoints'), /nanosleep/);
});

test.serial(
	"a typed `break` of a module's function not loaded yet is left pending (gdb alone sets nothing)",
	async t => {
		const ko = await helloKo();
		const pid = sleeper(t);
		const notes: string[] = [];
		const gdb = new GdbSession({
			argv: ['gdb', '-q', '-p', String(pid)],
			modulePaths: [path.dirname(ko)],
			resumeOnAttach: false,
			onEvent: event => event.type === 'note' && notes.push(event.text),
		});
		t.teardown(() => gdb.dispose());
		await gdb.ready;
		gdb.write('break vh_queue\r');
		t.true(await waitUntil(() => notes.length > 0, 10_000), 'kernelcraft said something');
		t.regex(notes[0]!, /vh_queue is in virtio_hello\.ko, which is not loaded yet/);
		t.true(await waitUntil(() => gdb.stopped, 5000));
		t.regex(await gdb.command('info breakpoints'), /<PENDING>\s+vh_queue/);
	},
);

test('typedBreak: only a lone break of one name', t => {
	t.is(typedBreak('break vh_queue'), 'vh_queue');
	t.is(typedBreak('  b *0x1234'), undefined, 'an address is not a name');
	t.is(typedBreak('b *vh_queue'), '*vh_queue');
	t.is(typedBreak('br virtio-hello.c:12'), undefined, 'a file:line goes to gdb as typed');
	t.is(typedBreak('break vh_queue if len > 3'), undefined, 'a condition goes to gdb as typed');
	t.is(typedBreak('backtrace'), undefined);
});
