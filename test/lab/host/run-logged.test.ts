import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {runLogged} from '../../../source/lab/host/run-logged.js';
import {LabError} from '../../../source/lab/lab-error.js';
import {projectRoot} from '../../../source/lab/paths.js';
import {isAlive, until} from '../../helpers/processes.js';
import {tempDir} from '../../helpers/temp.js';

test('a SIGKILLed kernelcraft takes its children and their children with it', async t => {
	const dir = tempDir(t);
	const pidFile = path.join(dir, 'grandchild.pid');
	// A process that uses runLogged as a build does: a shell whose own child does the work, as
	// qemu-build.sh runs ninja and make runs the compilers.
	const script = `
		import {runLogged} from ${JSON.stringify(path.join(projectRoot, 'dist/source/lab/host/run-logged.js'))};
		await runLogged('bash', ['-c', 'sleep 300 & echo $! > ${pidFile}; wait'], {logPath: ${JSON.stringify(path.join(dir, 'log'))}, what: 'a build'});
	`;
	const holder = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: 'ignore'});
	t.teardown(() => holder.kill('SIGKILL'));
	await until(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim() !== '', 'the build to start');
	const grandchild = Number(fs.readFileSync(pidFile, 'utf8'));
	t.true(isAlive(grandchild));
	holder.kill('SIGKILL');
	await until(() => !isAlive(grandchild), 'the grandchild to be gone');
	t.false(isAlive(grandchild), 'nothing of the build is left running');
});

test('a finished build leaves no watchdog behind', async t => {
	const before = watchdogs();
	const running = runLogged('sleep', ['1'], {logPath: path.join(tempDir(t), 'log'), what: 'a job'});
	await until(() => watchdogs() >= before + 2, 'the running job to have its watchdog (sh and cat)');
	await running;
	for (let i = 0; i < 5; i++) await runLogged('true', [], {logPath: path.join(tempDir(t), 'log'), what: 'a quick job'});
	await until(() => watchdogs() <= before, 'the watchdogs to go');
	t.true(watchdogs() <= before);
});

/** A mark in this test process's environment: every process it starts inherits it. */
const mark = `KERNELCRAFT_TEST_MARK=run-logged-${process.pid}-${Date.now()}`;
process.env.KERNELCRAFT_TEST_MARK = mark.split('=')[1];

/**
 * This test's watchdog processes: the sh running the watchdog script and the cat under it (a cat
 * is what a dismissal that killed only the sh would leave), found by the inherited mark.
 */
function watchdogs(): number {
	const read = (pid: string, file: string) => {
		try {
			return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
		} catch {
			return undefined;
		}
	};
	return fs
		.readdirSync('/proc')
		.filter(name => /^\d+$/.test(name))
		.filter(pid => {
			const cmdline = read(pid, 'cmdline') ?? '';
			if (cmdline !== 'cat\0' && !cmdline.includes('cat >/dev/null; kill -KILL')) return false;
			return read(pid, 'environ')?.split('\0').includes(mark) ?? false;
		}).length;
}

test('a failed job is told once its log is on disk: every line it printed, and its exit', async t => {
	const dir = tempDir(t);
	const logPath = path.join(dir, 'job.log');
	// Far more than one write's worth, the last line printed just before the exit.
	const script =
		'i=0; while [ $i -lt 20000 ]; do echo "line $i of the job" >&2; i=$((i+1)); done; echo last-words >&2; exit 3';
	const error = await t.throwsAsync(runLogged('sh', ['-c', script], {logPath, what: 'a loud job'}), {
		instanceOf: LabError,
	});
	t.regex(error!.message, /A loud job failed \(exit 3\)/);
	const log = fs.readFileSync(logPath, 'utf8');
	t.regex(log, /line 19999 of the job\nlast-words\n/);
	t.regex(log, /\[exit 3\]\n$/);
});
