import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {shellPrompt} from '../../source/expedition/shell.js';
import {runLogged} from '../../source/lab/host/run-logged.js';
import {LabError} from '../../source/lab/lab-error.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {Session} from '../../source/lab/session.js';
import {tempDir} from '../helpers/temp.js';

// /dev/full answers every write with ENOSPC, as a full disk does: a log or transcript linked to
// it is a full disk for the code under test, with the kernel's own error, and nothing else fills.
const fullDisk = (dir: string, name: string) => {
	const file = path.join(dir, name);
	fs.symlinkSync('/dev/full', file);
	return file;
};

const alive = (pid: number) => {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
};

test('a build log on a full disk fails the job with what to clear, and stops the job at once', async t => {
	const dir = tempDir(t);
	const pidFile = path.join(dir, 'pid');
	const started = Date.now();
	const error = await t.throwsAsync(
		runLogged('sh', ['-c', `echo $$ > ${pidFile}; yes compiling | head -c 200000; sleep 60`], {
			logPath: fullDisk(dir, 'build.log'),
			what: 'a build',
		}),
		{instanceOf: LabError},
	);
	t.true(Date.now() - started < 30_000, 'not left to run its course');
	t.regex(error!.message, /^No space left on the disk that holds .*build\.log/);
	t.regex(error!.failure.lastSeen?.[0] ?? '', /^kernelcraft's cache \(.*\) holds /);
	t.regex(error!.failure.hint ?? '', /kernelcraft cache --clear \w+` frees|Free some space/);
	const pid = Number(fs.readFileSync(pidFile, 'utf8'));
	t.false(alive(pid), 'the job was killed');
});

test.serial('a console transcript on a full disk fails the wait with what to clear; the process goes on', async t => {
	const session = new Session({cacheDir: cacheRoot(), panel: false}, () => {});
	t.teardown(() => session.dispose());
	await session.buildKernel('test', new AbortController().signal);
	session.packRootfs();
	const runDir = path.join(tempDir(t), 'vm');
	fs.mkdirSync(runDir, {mode: 0o700});
	fullDisk(runDir, 'console.log');
	const vm = await session.boot({runDir});
	const error = await t.throwsAsync(
		vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0}),
		{
			instanceOf: LabError,
		},
	);
	t.regex(error!.message, /^No space left on the disk that holds .*console\.log/);
	t.true(vm.console.closed);
	// The VM itself is still there to be stopped as usual: nothing crashed on the way.
	t.true(vm.running);
	await session.stopVm();
	t.false(vm.running);
});
