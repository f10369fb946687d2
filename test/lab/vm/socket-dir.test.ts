import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {shellPrompt} from '../../../source/expedition/shell.js';
import {cacheRoot} from '../../../source/lab/paths.js';
import {Session} from '../../../source/lab/session.js';
import {maxSocketPath, qemuOptionValue, releaseSocketDir, socketDirFor} from '../../../source/lab/vm/socket-dir.js';
import {tempDir} from '../../helpers/temp.js';

test('a run folder short enough keeps its sockets; a deep one gets a private folder, the same each time', t => {
	const short = tempDir(t);
	t.is(socketDirFor(short), short);
	// A run folder as a user named with 40 characters has it.
	const deep = path.join(
		tempDir(t),
		'h'.repeat(40),
		'.cache/kernelcraft/runs/2026-12-07T23-22-43-123Z-virtio-hello',
		'vm-1765149763123',
	);
	t.true(path.join(deep, 'checks.sock').length > maxSocketPath, 'the folder is too deep, as on that machine');
	const dir = socketDirFor(deep);
	t.not(dir, deep);
	t.true(path.join(dir, 'tune-qmp.sock').length <= maxSocketPath, dir);
	t.is(fs.statSync(dir).mode & 0o777, 0o700, 'private to the user');
	t.is(socketDirFor(deep), dir, 'the same folder for the same run folder');
	t.is(
		fs.readFileSync(path.join(deep, 'sockets-are-in.txt'), 'utf8'),
		`${dir}\n`,
		'the run folder says where they went',
	);
	releaseSocketDir(deep);
	t.false(fs.existsSync(dir));
});

test('a comma in a QEMU option value is written twice', t => {
	t.is(qemuOptionValue('/home/a,b/runs/x,y.sock'), '/home/a,,b/runs/x,,y.sock');
	t.is(qemuOptionValue('/plain/path'), '/plain/path');
});

test.serial(
	'a VM boots from a run folder too deep for a socket, with a comma in its name: console, checks, panel and QMP all answer',
	async t => {
		const session = new Session({cacheDir: cacheRoot(), panel: true}, () => {});
		t.teardown(() => session.dispose());
		await session.buildKernel('test', new AbortController().signal);
		session.packRootfs();
		// The run folder's name carries the milestone: one of 40 characters with a comma makes the
		// path as deep as a 40-character home does (and a comma QEMU would otherwise split on).
		const runDir = session.startRun(`socket-test,${'h'.repeat(40)}`);
		t.true(path.join(runDir, 'vm-1765149763123', 'checks.sock').length > maxSocketPath, runDir);
		const vm = await session.boot();
		t.is(vm.runDir.startsWith(runDir), true);
		t.not(vm.socketDir, vm.runDir);
		for (const socket of [vm.qmpSocket, vm.sideSocket]) t.true(socket.length <= maxSocketPath, socket);
		await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
		const {output, status} = await vm.checks.run('echo checks-answer', {timeoutMs: 60_000});
		t.is(status, 0);
		t.regex(output, /checks-answer/);
		await session.panel!.ready;
		t.regex(String(await session.panel!.qomGet<string>('/machine', 'type')), /q35/, 'QMP answers the panel');
		// The guest's statistics come over ttyS1's socket.
		const until = Date.now() + 60_000;
		while (!session.panel!.latestGuest && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 200));
		t.truthy(session.panel!.latestGuest, 'the side channel carries the guest statistics');
		t.true(fs.existsSync(path.join(vm.runDir, 'console.log')), 'the transcript stays in the run folder');
		const socketDir = vm.socketDir;
		await session.stopVm();
		t.false(fs.existsSync(socketDir), 'the socket folder goes with the VM');
	},
);
