import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {ProgressStore} from '../../source/runner/progress-store.js';
import {tempDir} from '../helpers/temp.js';

test('ticks persist across instances', t => {
	const file = path.join(tempDir(t), 'state', 'progress.json');
	new ProgressStore(file).markVerified('boot', 1234);
	t.deepEqual(new ProgressStore(file).verified(), ['boot']);
	t.deepEqual(fs.readdirSync(path.dirname(file)), ['progress.json'], 'no temporary file is left beside it');
});

test('a corrupt state file is reported and set aside, not fatal and not deleted', t => {
	const dir = tempDir(t);
	const file = path.join(dir, 'progress.json');
	fs.writeFileSync(file, '{"version": 1, "verified": {"boot"');
	const store = new ProgressStore(file);
	t.deepEqual(store.verified(), []);
	t.regex(store.warning ?? '', /unreadable .* moved to .*progress\.json\.corrupt-\d+/);
	const aside = fs.readdirSync(dir).find(name => name.startsWith('progress.json.corrupt-'));
	t.truthy(aside);
	t.is(fs.readFileSync(path.join(dir, aside!), 'utf8'), '{"version": 1, "verified": {"boot"');
	store.markVerified('boot', 1);
	t.deepEqual(new ProgressStore(file).verified(), ['boot']);
});
