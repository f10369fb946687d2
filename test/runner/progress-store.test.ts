import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {projectRoot} from '../../source/lab/paths.js';
import {ProgressStore} from '../../source/runner/progress-store.js';
import {tempDir} from '../helpers/temp.js';

test('ticks persist across instances', async t => {
	const file = path.join(tempDir(t), 'state', 'progress.json');
	await new ProgressStore(file).markVerified('boot', 1234);
	t.deepEqual(new ProgressStore(file).verified(), ['boot']);
	t.deepEqual(fs.readdirSync(path.dirname(file)), ['progress.json'], 'no temporary or lock file is left beside it');
});

test('a corrupt state file is reported and set aside, not fatal and not deleted', async t => {
	const dir = tempDir(t);
	const file = path.join(dir, 'progress.json');
	fs.writeFileSync(file, '{"version": 1, "verified": {"boot"');
	const store = new ProgressStore(file);
	t.deepEqual(store.verified(), []);
	t.regex(store.warning ?? '', /unreadable .* moved to .*progress\.json\.unreadable-\d+/);
	const aside = fs.readdirSync(dir).find(name => name.startsWith('progress.json.unreadable-'));
	t.truthy(aside);
	t.is(fs.readFileSync(path.join(dir, aside!), 'utf8'), '{"version": 1, "verified": {"boot"');
	await store.markVerified('boot', 1);
	t.deepEqual(new ProgressStore(file).verified(), ['boot']);
});

/** A separate node process that ticks `milestones` one after another through the real store. */
function tickInChild(file: string, milestones: string[]): Promise<number | null> {
	const store = path.join(projectRoot, 'dist', 'source', 'runner', 'progress-store.js');
	const script = `const {ProgressStore} = await import(${JSON.stringify(store)}); const s = new ProgressStore(${JSON.stringify(file)}); for (const m of ${JSON.stringify(milestones)}) await s.markVerified(m, 1);`;
	const child = spawn(process.execPath, ['--input-type=module', '-e', script], {stdio: 'inherit'});
	return new Promise(resolve => child.on('exit', code => resolve(code)));
}

test('processes ticking at once keep every tick, and a store opened earlier (a TUI left open) sees them and adds its own', async t => {
	const file = path.join(tempDir(t), 'state', 'progress.json');
	const leftOpen = new ProgressStore(file);
	const names = (prefix: string) => Array.from({length: 25}, (_, index) => `${prefix}-${index}`);
	const codes = await Promise.all([
		tickInChild(file, names('a')),
		tickInChild(file, names('b')),
		tickInChild(file, names('c')),
	]);
	t.deepEqual(codes, [0, 0, 0]);
	await leftOpen.markVerified('from-the-tui', 1);
	const expected = [...names('a'), ...names('b'), ...names('c'), 'from-the-tui'].sort();
	t.deepEqual(new ProgressStore(file).verified().sort(), expected, 'no tick was lost');
	t.deepEqual(leftOpen.verified().sort(), expected, 'the store opened first reads what the others wrote');
});

test('a file that turns unreadable while the app runs is set aside before the next tick, with a notice, not written over', async t => {
	const dir = tempDir(t);
	const file = path.join(dir, 'progress.json');
	const notices: string[] = [];
	const store = new ProgressStore(file, text => notices.push(text));
	await store.markVerified('boot', 1);
	await store.updateStep('boot', 'kernel', record => ({...record, hints: 2}));
	// Another process writes it while this one runs: a newer kernelcraft's format, then a hand edit.
	const newer = JSON.stringify({version: 2, done: {boot: {}, 'hello-module': {}}});
	fs.writeFileSync(file, newer);
	await store.markVerified('hello-module', 1);
	t.is(notices.length, 1);
	t.regex(notices[0]!, /version 2, from a newer kernelcraft.*moved to .*progress\.json\.unreadable-\d+/);
	const asides = () => fs.readdirSync(dir).filter(name => name.startsWith('progress.json.unreadable-'));
	t.is(fs.readFileSync(path.join(dir, asides()[0]!), 'utf8'), newer, 'the newer file is kept as it was');
	t.deepEqual(store.verified(), ['hello-module'], 'the tick that found it is kept, in a fresh file');
	await new Promise(resolve => setTimeout(resolve, 5));
	fs.writeFileSync(file, '{"version": 1, "verified": {"boot": ');
	await store.updateStep('boot', 'qemu', record => ({...record, hints: 1}));
	t.is(notices.length, 2);
	t.is(asides().length, 2, 'each unreadable file has its own copy');
	t.deepEqual(store.steps('boot'), {qemu: {hints: 1}});
	// A readable file is never set aside.
	await store.markVerified('virtio-blk', 1);
	t.is(notices.length, 2);
});
