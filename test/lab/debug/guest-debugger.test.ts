import test from 'ava';
import {shellPrompt} from '../../../source/expedition/shell.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {ensureGdbKernel} from '../../../source/lab/debug/gdb.js';
import {cacheRoot} from '../../../source/lab/paths.js';
import type {RunEvent} from '../../../source/runner/events.js';
import {GuestDebugger} from '../../../source/lab/debug/guest-debugger.js';
import {Session} from '../../../source/lab/session.js';
import {isAlive, waitUntil} from '../../helpers/processes.js';

// The gdb pane's host side on a real --debug VM: gdb stops the guest, and the rest of kernelcraft
// knows (the VM's pause, a guest-paused event); a check that waits on the stopped guest does not
// time out; q detaches and leaves no gdb.

test.serial('gdb holds the guest: a guest-paused event, no false timeout, and detaching resumes it', async t => {
	const cacheDir = cacheRoot();
	const events: RunEvent[] = [];
	const session = new Session({cacheDir, panel: false, debug: true}, event => events.push(event));
	t.teardown(() => session.dispose());
	const source = await resolveKernelSource({cacheDir});
	session.kernel = await ensureGdbKernel({source, cacheDir});
	session.packRootfs();
	const vm = await session.boot();
	t.truthy(session.gdbSocket, '--debug boots with the gdbstub');
	t.true(vm.commandLine.some(arg => arg.includes('nokaslr')));
	await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 180_000, since: 0});
	const debug = new GuestDebugger(session, event => events.push(event));
	t.teardown(() => debug.dispose());
	debug.start();
	t.true(
		await waitUntil(() => events.some(event => event.type === 'gdb' && event.state === 'attached'), 300_000),
		'gdb attached',
	);
	const message = await debug.break('__x64_sys_newuname');
	t.regex(message ?? '', /Breakpoint \d+ at/);
	t.regex((await debug.break('no_such_function_here')) ?? '', /No function "no_such_function_here"/);
	// uname stops at the breakpoint; its check waits 5 s at most, but only while the guest can run.
	const uname = vm.checks.run('uname -r', {timeoutMs: 5000});
	t.true(await waitUntil(() => vm.pause.paused, 60_000), 'the VM knows gdb holds it');
	t.true(events.some(event => event.type === 'guest-paused' && event.paused));
	await new Promise(resolve => setTimeout(resolve, 8000));
	t.true(vm.pause.paused, 'still stopped 8 s later');
	const gdbPid = (debug as unknown as {gdb: {pid: number}}).gdb.pid;
	await debug.quit();
	t.false(vm.pause.paused);
	t.true(events.some(event => event.type === 'guest-paused' && !event.paused));
	const result = await uname;
	t.is(result.status, 0, 'the check outlived a pause longer than its timeout');
	t.regex(result.output, /^6\.1\.\d+/);
	t.false(isAlive(gdbPid), 'no gdb left');
});
