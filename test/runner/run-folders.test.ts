import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type {Milestone} from '../../source/expedition/types.js';
import {Workbench} from '../../source/runner/workbench.js';
import {tempDir} from '../helpers/temp.js';

/** A milestone whose one step writes a log into the run folder and answers with the folder. */
function recordsRunDir(id: string): Milestone {
	return {
		id,
		title: id,
		summary: '',
		steps: [
			{
				id: 'where',
				title: 'Where am I',
				lesson: '',
				async run(ctx) {
					const dir = ctx.session.runDir();
					fs.writeFileSync(path.join(dir, 'step.log'), id);
					return dir;
				},
			},
		],
	};
}

test('one workbench (a TUI session) gives each milestone run its own run folder, named after it', async t => {
	const cacheDir = tempDir(t);
	const workbench = new Workbench({
		milestones: [recordsRunDir('first'), recordsRunDir('second')],
		cacheDir,
		stateFile: path.join(cacheDir, 'progress.json'),
		keepVm: true,
	});
	t.teardown(() => workbench.dispose());

	const first = await workbench.run('first');
	const second = await workbench.run('second');
	const again = await workbench.run('first');
	t.true(first.ok && second.ok && again.ok);
	const dirs = [first, second, again].map(summary => summary.steps[0]!.detail!);
	t.is(new Set(dirs).size, 3, `three runs, three folders: ${dirs.join(' ')}`);
	t.regex(path.basename(dirs[0]!), /-first$/);
	t.regex(path.basename(dirs[1]!), /-second$/);
	t.regex(path.basename(dirs[2]!), /-first$/);
	for (const dir of dirs) t.is(path.dirname(dir), path.join(cacheDir, 'runs'));
	t.is(fs.readFileSync(path.join(dirs[1]!, 'step.log'), 'utf8'), 'second', "each run's logs stay in its folder");
	t.is(fs.readFileSync(path.join(dirs[0]!, 'step.log'), 'utf8'), 'first');
});

test('a run whose folder cannot be made ends as it started: failed, then finished, with why', async t => {
	const cacheDir = tempDir(t);
	// runs/ is a file: the run folder cannot be made (as on a disk that refuses it).
	fs.writeFileSync(path.join(cacheDir, 'runs'), 'not a folder');
	const workbench = new Workbench({
		milestones: [recordsRunDir('first')],
		cacheDir,
		stateFile: path.join(cacheDir, 'progress.json'),
		keepVm: false,
	});
	t.teardown(() => workbench.dispose());
	const events: string[] = [];
	workbench.subscribe(event => events.push(event.type));
	const summary = await workbench.run('first');
	t.false(summary.ok);
	t.is(summary.steps[0]?.name, 'set-up');
	t.regex(summary.steps[0]?.detail ?? '', /runs/);
	const ends = events.filter(type => ['milestone-started', 'failed', 'milestone-finished'].includes(type));
	t.deepEqual(ends, ['milestone-started', 'failed', 'milestone-finished']);
});

test('a run that passes but whose tick cannot be saved says so, naming the file', async t => {
	const cacheDir = tempDir(t);
	fs.writeFileSync(path.join(cacheDir, 'state'), 'a file where the state folder should be');
	const stateFile = path.join(cacheDir, 'state', 'progress.json');
	const workbench = new Workbench({milestones: [recordsRunDir('first')], cacheDir, stateFile, keepVm: false});
	t.teardown(() => workbench.dispose());
	const error = await t.throwsAsync(workbench.run('first'));
	t.regex(error!.message, /^first passed, but its tick could not be saved in .*state\/progress\.json: /);
});
