import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {acquireLock, lockHeld} from '../../source/lab/build/cache-lock.js';
import {clearCache, pruneRuns} from '../../source/lab/cache-inventory.js';
import {cacheUsage} from '../../source/lab/cache-usage.js';
import {tempDir} from '../helpers/temp.js';

const old = new Date(Date.now() - 3_600_000);

function makeRun(cache: string, name: string, bytes: number, when = old): void {
	const dir = path.join(cache, 'runs', name);
	fs.mkdirSync(dir, {recursive: true});
	fs.writeFileSync(path.join(dir, 'virtio-trace.log'), Buffer.alloc(bytes));
	fs.utimesSync(dir, when, when);
}

test('runs are pruned oldest first once past the cap, keeping the newest few whatever their size', t => {
	const cache = tempDir(t);
	for (let day = 1; day <= 8; day++) makeRun(cache, `2026-11-0${day}-run`, 400);
	const removed = pruneRuns(cache, 2000, 3);
	// Newest first: 400, 800, …, 2000 fit under the cap; the three oldest push past it.
	t.deepEqual(removed.sort(), ['2026-11-01-run', '2026-11-02-run', '2026-11-03-run']);
	t.is(fs.readdirSync(path.join(cache, 'runs')).length, 5);
});

test('a recent run is never pruned: it may belong to a kernelcraft that is running', t => {
	const cache = tempDir(t);
	makeRun(cache, '2026-11-01-run', 5000, new Date());
	for (let day = 2; day <= 4; day++) makeRun(cache, `2026-11-0${day}-run`, 10);
	t.deepEqual(pruneRuns(cache, 100, 1), []);
});

test('cache lists each kind with its size, and --clear of one kind waits for a build in progress, then removes only that kind', async t => {
	const cache = tempDir(t);
	makeRun(cache, '2026-11-01-run', 1000);
	fs.mkdirSync(path.join(cache, 'kernel', 'abc'), {recursive: true});
	fs.writeFileSync(path.join(cache, 'kernel', 'abc', 'bzImage'), Buffer.alloc(3000));
	fs.mkdirSync(path.join(cache, 'qemu', 'bin'), {recursive: true});
	const usage = Object.fromEntries(cacheUsage(cache).map(kind => [kind.kind, kind.bytes]));
	t.is(usage.runs, 1000);
	t.is(usage.kernels, 3000);

	const release = await acquireLock(path.join(cache, 'kernel', 'abc.lock'), {what: 'building the kernel'});
	const lines: string[] = [];
	let cleared = false;
	const clearing = clearCache(cache, 'kernels', line => lines.push(line)).then(freed => {
		cleared = true;
		return freed;
	});
	await new Promise(resolve => setTimeout(resolve, 1000));
	t.false(cleared, 'clearing waits while the build holds its lock');
	t.true(fs.existsSync(path.join(cache, 'kernel', 'abc', 'bzImage')));
	await release();
	t.is(await clearing, 3000);
	t.false(fs.existsSync(path.join(cache, 'kernel', 'abc')));
	t.true(lines.some(line => line.includes('waiting for the process using abc')));
	t.true(fs.existsSync(path.join(cache, 'runs', '2026-11-01-run')), 'other kinds are untouched');
});

test('--clear keeps a scratch build of a live process, waits for a nested entry another process holds, and leaves lock files', async t => {
	const cache = tempDir(t);
	const bin = path.join(cache, 'qemu', 'exercise-bin');
	const held = path.join(bin, '0123456789abcdef');
	const free = path.join(bin, 'fedcba9876543210');
	for (const dir of [held, free]) fs.mkdirSync(dir, {recursive: true});
	fs.writeFileSync(path.join(held, 'qemu-system-x86_64'), Buffer.alloc(2000));
	fs.writeFileSync(path.join(free, 'qemu-system-x86_64'), Buffer.alloc(500));
	fs.writeFileSync(`${free}.lock`, '');
	// Another process, as a second kernelcraft would be: it holds one entry's lock for 1.5 s and is
	// building another entry in a scratch folder named after its pid.
	const other = spawn('sh', ['-c', `flock -x '${held}.lock' sleep 1.5; exec sleep 60`], {stdio: 'ignore'});
	t.teardown(() => other.kill('SIGKILL'));
	await waitFor(() => lockHeld(`${held}.lock`));
	const scratch = path.join(cache, 'qemu', `work.scratch-${other.pid}-0badcafe`);
	fs.mkdirSync(scratch);
	fs.writeFileSync(path.join(scratch, 'half-built.o'), Buffer.alloc(100));
	const lines: string[] = [];
	const started = Date.now();
	const freed = await clearCache(cache, 'qemu', line => lines.push(line));
	t.true(Date.now() - started >= 1000, 'it waited for the process holding the entry');
	t.false(fs.existsSync(held), 'removed once its holder let go');
	t.false(fs.existsSync(free));
	t.is(freed, 2500);
	t.true(fs.existsSync(path.join(scratch, 'half-built.o')), 'the build in progress is kept');
	t.true(
		lines.some(line => line.includes(`a build in progress (pid ${other.pid})`)),
		lines.join('\n'),
	);
	t.true(fs.existsSync(`${held}.lock`) && fs.existsSync(`${free}.lock`), 'lock files stay');
	// Once that process is gone, its scratch folder is a leftover like any other.
	other.kill('SIGKILL');
	await new Promise(resolve => other.once('exit', resolve));
	await clearCache(cache, 'qemu', () => {});
	t.false(fs.existsSync(scratch));
});

async function waitFor(ready: () => boolean): Promise<void> {
	const until = Date.now() + 5000;
	while (!ready() && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 20));
}
