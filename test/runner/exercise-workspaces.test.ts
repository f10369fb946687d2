import fs from 'node:fs';
import test from 'ava';
import type {MilestoneSummary} from '../../source/runner/events.js';
import {ExerciseWorkspaces} from '../../source/runner/exercise-workspaces.js';
import {tempDir} from '../helpers/temp.js';

const failedAt = (step: string): MilestoneSummary => ({
	milestone: 'hello-module',
	ok: false,
	accel: 'tcg',
	steps: [{name: step, title: step, ok: false, ms: 1, detail: 'failed'}],
});

test('e opens the TODO whose check failed last, else the first TODO comment left', t => {
	const workspaces = new ExerciseWorkspaces(tempDir(t));
	const first = workspaces.editTarget('hello-module')!;
	const lines = fs.readFileSync(first.file, 'utf8').split('\n');
	t.regex(lines[first.line! - 1]!, /TODO 1:/, 'before any run: TODO 1');
	workspaces.noteRun(failedAt('rmmod'));
	const target = workspaces.editTarget('hello-module')!;
	t.regex(lines[target.line! - 1]!, /TODO 2:/, 'rmmod failed: TODO 2, which rmmod verifies');
	workspaces.noteRun(failedAt('modinfo'));
	t.is(workspaces.editTarget('hello-module')!.line, first.line, 'modinfo failed: TODO 1');
	t.is(workspaces.editTarget('boot'), undefined, 'a milestone without an exercise has nothing to open');
});

test('a watched exercise reports saves until close()', async t => {
	const workspaces = new ExerciseWorkspaces(tempDir(t));
	const saves: string[][] = [];
	workspaces.watch('hello-module', files => saves.push(files));
	workspaces.watch('hello-module', files => saves.push(files));
	t.is(workspaces.watching, 1, 'watched once, however often asked');
	const file = workspaces.editTarget('hello-module')!.file;
	fs.appendFileSync(file, '/* saved */\n');
	await new Promise(resolve => setTimeout(resolve, 400));
	t.deepEqual(saves, [[file]]);
	workspaces.close();
	t.is(workspaces.watching, 0);
	fs.appendFileSync(file, '/* again */\n');
	await new Promise(resolve => setTimeout(resolve, 400));
	t.is(saves.length, 1, 'nothing after close()');
});

test('virtio-hello watches both of its exercises: a save in either re-runs the milestone', async t => {
	const workspaces = new ExerciseWorkspaces(tempDir(t));
	const saves: string[][] = [];
	workspaces.watch('virtio-hello', files => saves.push(files));
	t.is(workspaces.watching, 2, 'the driver and the device');
	const dirs = workspaces.dirsFor('virtio-hello');
	const device = `${dirs['virtio-device']}/virtio-hello.c`;
	const driver = `${dirs['virtio-driver']}/virtio_hello_core.c`;
	fs.appendFileSync(device, '/* saved */\n');
	await new Promise(resolve => setTimeout(resolve, 400));
	fs.appendFileSync(driver, '/* saved */\n');
	await new Promise(resolve => setTimeout(resolve, 400));
	t.deepEqual(saves, [[device], [driver]]);
	workspaces.close();
});
