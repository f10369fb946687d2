import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
	composeMilestone,
	composeStep,
	lessons,
	lessonsDir,
	sharedLessonsFile,
} from '../../source/expedition/compose.js';
import {ContentError, parseLessons} from '../../source/expedition/lesson-content.js';
import {expeditionFor, milestones} from '../../source/expedition/milestones.js';
import type {StepLogic} from '../../source/expedition/types.js';
import {projectRoot} from '../../source/lab/paths.js';

const run = async () => 'done';
const shared = parseLessons('shared.md', '# boot: Boot it\n\n## lesson\n\nThe shared lesson.\n');

test("every milestone's steps have their title and lesson from the lesson files", t => {
	for (const milestone of expeditionFor({debug: true})) {
		t.truthy(milestone.title, milestone.id);
		t.truthy(milestone.summary, milestone.id);
		for (const step of milestone.steps) {
			t.truthy(step.title, `${milestone.id}/${step.id}`);
			t.truthy(step.lesson, `${milestone.id}/${step.id}`);
			if (step.task) t.truthy(step.task.ask, `${milestone.id}/${step.id}: a task says what to do`);
			if (step.predict) t.truthy(step.predict.question && step.predict.unit && step.predict.why);
		}
	}
});

test('every lesson file belongs to a milestone, and every shared step is used by one', t => {
	const files = fs.readdirSync(lessonsDir).filter(file => file.endsWith('.md'));
	t.deepEqual(files.sort(), [...milestones.map(m => `${m.id}.md`), 'shared.md'].sort());
	const used = new Set(milestones.flatMap(m => m.steps.map(step => step.id)));
	for (const id of lessons(sharedLessonsFile).steps.keys()) t.true(used.has(id), `shared step ${id}`);
});

test('every named text in a lesson file is used by the code', t => {
	const code = fs
		.readdirSync(path.join(projectRoot, 'source', 'expedition'))
		.filter(file => file.endsWith('.ts'))
		.map(file => fs.readFileSync(path.join(projectRoot, 'source', 'expedition', file), 'utf8'))
		.join('\n');
	for (const milestone of milestones)
		for (const name of lessons(path.join(lessonsDir, `${milestone.id}.md`)).texts.keys()) {
			// Exercise texts are looked up by pattern (exercises.ts): exercise-<id>[-todo-<n>].
			if (/^exercise-/.test(name)) continue;
			t.true(code.includes(`'${name}'`), `${milestone.id}.md: text ${name}`);
		}
});

test('a shared step takes its text from shared.md, with the lines a milestone adds', t => {
	const own = parseLessons(
		'm.md',
		'---\ntitle: M\nsummary: S\n---\n# boot: Boot it\n\n## more\n\nThis time, a disk.\n',
	);
	const milestone = composeMilestone({id: 'm', steps: [{id: 'boot', run}]}, [], own, shared);
	t.is(milestone.steps[0]!.lesson, 'The shared lesson.\nThis time, a disk.');
	t.is(milestone.title, 'M');
});

const mismatches: Array<[string, StepLogic, string, RegExp]> = [
	[
		'a step the learner does, with no task text',
		{id: 'a', run, task: {check: async () => ({done: true, detail: ''})}},
		'# a: A\n\n## lesson\n\nx\n',
		/needs a "## task"/,
	],
	[
		'a task text for a step without a check',
		{id: 'a', run},
		'# a: A\n\n## lesson\n\nx\n\n## task\n\ndo it\n',
		/drop its "## task"/,
	],
	[
		'a prediction without its why',
		{id: 'a', run, predict: {actual: () => 1}},
		'# a: A\n\n## lesson\n\nx\n\n## question\n\nhow many?\n\n## unit\n\nrequests\n',
		/needs "## question", "## unit" and "## why"/,
	],
	['no lesson', {id: 'a', run}, '# a: A\n\n## hints\n\n- h\n', /has no "## lesson"/],
	['four hints', {id: 'a', run}, '# a: A\n\n## lesson\n\nx\n\n## hints\n\n- 1\n- 2\n- 3\n- 4\n', /more than three/],
	['a step with no section anywhere', {id: 'b', run}, '# a: A\n\n## lesson\n\nx\n', /no "# b: <title>" section/],
];

for (const [what, logic, source, message] of mismatches)
	test(`a lesson file that does not match its code is refused: ${what}`, t => {
		t.throws(() => composeStep(logic, parseLessons('/l/m.md', source), shared), {
			instanceOf: ContentError,
			message,
		});
	});

test('a section for a step the milestone does not have is refused at its line', t => {
	const own = parseLessons('/l/m.md', '---\ntitle: M\nsummary: S\n---\n\n# gone: Removed step\n\n## lesson\n\nx\n');
	const error = t.throws(() => composeMilestone({id: 'm', steps: []}, [], own, shared), {instanceOf: ContentError});
	t.is(error!.message, '/l/m.md:6: milestone "m" has no step "gone"');
});

test('the program reports a broken lesson file by file and line, without a stack trace', async t => {
	const {spawnSync} = await import('node:child_process');
	const file = path.join(lessonsDir, 'boot.md');
	const original = fs.readFileSync(file, 'utf8');
	// A copy of the program whose lesson file is broken: the repository's own files stay as they are.
	const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-lessons-'));
	t.teardown(() => fs.rmSync(copy, {recursive: true, force: true}));
	fs.cpSync(path.join(projectRoot, 'dist', 'source'), path.join(copy, 'dist', 'source'), {recursive: true});
	fs.cpSync(
		path.join(projectRoot, 'source', 'expedition', 'lessons'),
		path.join(copy, 'source', 'expedition', 'lessons'),
		{
			recursive: true,
		},
	);
	fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(copy, 'node_modules'));
	fs.writeFileSync(
		path.join(copy, 'source', 'expedition', 'lessons', 'boot.md'),
		original.replace('## lesson', '## lessons'),
	);
	const result = spawnSync(process.execPath, [path.join(copy, 'dist', 'source', 'cli.js'), 'status'], {
		encoding: 'utf8',
	});
	t.is(result.status, 2);
	t.regex(result.stderr, /lesson file .*boot\.md:\d+: a step has no field "lessons"/);
	t.notRegex(result.stderr, /at .*\.js:\d+/, 'no stack trace');
});
