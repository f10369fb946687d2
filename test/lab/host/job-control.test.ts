import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {JobControl} from '../../../source/lab/host/job-control.js';
import {runLogged} from '../../../source/lab/host/run-logged.js';
import {procStat, until} from '../../helpers/processes.js';
import {tempDir} from '../../helpers/temp.js';

/** Every process of a group, from /proc (field 3 after the name is the pgid). */
function groupMembers(pgid: number): number[] {
	return fs
		.readdirSync('/proc')
		.filter(name => /^\d+$/.test(name))
		.map(Number)
		.filter(pid => procStat(pid)?.[2] === String(pgid));
}

test('a background job runs at nice 19, stops whole on pause, goes on after resume, and dies on abort', async t => {
	const control = new JobControl();
	const abort = new AbortController();
	const lines: string[] = [];
	// A shell that starts a child now and then, as make does: the whole group must stop.
	const job = runLogged('bash', ['-c', 'while :; do sleep 0.05; echo tick; done'], {
		logPath: path.join(tempDir(t), 'job.log'),
		what: 'a test job',
		background: true,
		control,
		signal: abort.signal,
		onLine: line => lines.push(line),
	});
	const settled = job.catch((error: unknown) => error);
	await until(() => lines.length >= 3, 'the job to print');
	const [pgid] = control.runningGroups;
	if (pgid === undefined) return t.fail('the job attached no process group');
	t.is(procStat(pgid)?.[16], '19', 'nice 19');

	control.pause();
	await until(() => groupMembers(pgid).every(pid => procStat(pid)?.[0] === 'T'), 'every process of the group to stop');
	const seen = lines.length;
	await new Promise(resolve => setTimeout(resolve, 500));
	t.true(lines.length <= seen + 1, 'no output while paused (one line may have been in the pipe)');

	control.resume();
	await until(() => lines.length >= seen + 3, 'output again after resume');
	t.false(control.paused);

	control.pause();
	abort.abort();
	const error = (await settled) as Error;
	t.is(error.name, 'AbortError', 'an abort kills a paused job too');
	await until(() => groupMembers(pgid).length === 0, 'the group to be gone');
	t.deepEqual(control.runningGroups, [], 'and forgotten');
});

test('a process group started while the job is paused is stopped at once', async t => {
	const control = new JobControl();
	control.pause();
	const abort = new AbortController();
	const lines: string[] = [];
	const job = runLogged('bash', ['-c', 'echo started; sleep 0.2; echo later'], {
		logPath: path.join(tempDir(t), 'job.log'),
		what: 'a test job',
		control,
		signal: abort.signal,
		onLine: line => lines.push(line),
	});
	const settled = job.catch((error: unknown) => error);
	await until(() => control.runningGroups.length === 1, 'the job to start');
	const [pgid] = control.runningGroups;
	await until(() => procStat(pgid!)?.[0] === 'T', 'the new group to be stopped');
	await new Promise(resolve => setTimeout(resolve, 600));
	t.false(lines.includes('later'), 'it did not run on while paused');
	control.resume();
	t.deepEqual(await settled, ['started', 'later']);
});
