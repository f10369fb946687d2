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
	t.regex(store.warning ?? '', /unreadable .* moved to .*progress\.json\.corrupt-\d+/);
	const aside = fs.readdirSync(dir).find(name => name.startsWith('progress.json.corrupt-'));
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
