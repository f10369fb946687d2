import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {acquireLock} from '../../source/lab/build/cache-lock.js';
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
