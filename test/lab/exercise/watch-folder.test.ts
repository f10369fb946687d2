import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {watchFolder} from '../../../source/lab/exercise/watch-folder.js';
import {tempDir} from '../../helpers/temp.js';

const delay = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function watched(t: Parameters<typeof tempDir>[0]) {
	const dir = tempDir(t);
	fs.writeFileSync(path.join(dir, 'hello.c'), 'one\n');
	const saves: string[][] = [];
	const watch = watchFolder({dir, files: ['hello.c'], onChange: files => saves.push(files), debounceMs: 50});
	t.teardown(() => watch.close());
	return {dir, saves, watch};
}

test('a save by rename (as vim writes) counts once, and the watch survives it', async t => {
	const {dir, saves} = watched(t);
	const file = path.join(dir, 'hello.c');
	for (const text of ['two\n', 'three\n']) {
		fs.writeFileSync(path.join(dir, '4913'), '');
		fs.rmSync(path.join(dir, '4913'));
		fs.writeFileSync(`${file}.tmp`, text);
		fs.renameSync(`${file}.tmp`, file);
		await delay(300);
	}
	t.deepEqual(saves, [['hello.c'], ['hello.c']]);
});

test('a save in place (as nano writes) counts; a save without changes and other files do not', async t => {
	const {dir, saves} = watched(t);
	fs.writeFileSync(path.join(dir, 'hello.c'), 'two\n');
	await delay(300);
	fs.writeFileSync(path.join(dir, 'hello.c'), 'two\n');
	fs.writeFileSync(path.join(dir, '.hello.c.swp'), 'swap');
	fs.writeFileSync(path.join(dir, 'hello.c~'), 'backup');
	await delay(300);
	t.deepEqual(saves, [['hello.c']]);
});

test('after close() nothing more is reported', async t => {
	const {dir, saves, watch} = watched(t);
	watch.close();
	fs.writeFileSync(path.join(dir, 'hello.c'), 'two\n');
	await delay(300);
	t.deepEqual(saves, []);
});
