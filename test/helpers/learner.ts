import fs from 'node:fs';
import path from 'node:path';
import type {ExecutionContext} from 'ava';
import type {ProgressFile} from '../../source/runner/progress-store.js';
import {findExercise} from '../../source/expedition/exercises.js';
import {projectRoot} from '../../source/lab/paths.js';
import {TuiPty} from '../bench/tui-pty.js';
import {tempDir} from './temp.js';

// A scripted learner in a real pseudo-terminal: the TUI with a progress file and an exercise
// workspace of its own, and the moves a learner makes (type into the guest, read the lesson).

export interface Learner {
	app: TuiPty;
	progressFile: string;
	progress(): ProgressFile;
}

/**
 * The TUI with a progress file and exercise workspace of its own. `solved`: exercises whose
 * learner copy is the reference solution (the exercises are tested on their own elsewhere).
 */
export async function startLearner(t: ExecutionContext, solved: string[] = [], args: string[] = []): Promise<Learner> {
	const dir = tempDir(t);
	const progressFile = path.join(dir, 'progress.json');
	const workspace = path.join(dir, 'exercises');
	// An exercise the learner has solved: the reference's files with TODOs in the learner's folder
	// (the workspace fills in the rest from the skeleton and never overwrites these).
	for (const id of solved) {
		const exercise = findExercise(id)!;
		fs.mkdirSync(path.join(workspace, id), {recursive: true});
		for (const file of exercise.files)
			fs.copyFileSync(path.join(projectRoot, exercise.reference, file), path.join(workspace, id, file));
	}
	const app = new TuiPty({
		cols: 120,
		rows: 40,
		args,
		env: {KERNELCRAFT_STATE: progressFile, KERNELCRAFT_WORKSPACE: workspace},
	});
	t.teardown(() => app.dispose());
	await app.waitForScreen(() => app.milestoneLine(/\bboot\b/i) !== undefined, 20_000, 'the checklist');
	return {
		app,
		progressFile,
		progress: () => JSON.parse(fs.readFileSync(progressFile, 'utf8')) as ProgressFile,
	};
}

/** The milestone's checklist mark (▸ running, ✔ verified); throws on ✗ so a failure ends the wait. */
export function markOf(app: TuiPty, name: RegExp): string | undefined {
	const mark = app.milestoneLine(name)?.charAt(1);
	if (mark === '✗') throw new Error(`the milestone ${name} failed (✗)`);
	return mark;
}

/**
 * The lesson pane's text as one line: the bottom-right box, its rows joined, so a sentence the
 * pane wrapped reads whole.
 */
export function lessonText(app: TuiPty): string {
	const rows = app.screenRows();
	let top = -1;
	rows.forEach((row, index) => {
		if ((row.match(/╭/g) ?? []).length >= 2) top = index;
	});
	if (top === -1) return '';
	const left = rows[top]!.lastIndexOf('╭') + 1;
	const lines: string[] = [];
	for (const row of rows.slice(top + 1)) {
		if (row.charAt(left - 1) === '╰') break;
		lines.push(row.slice(left).replace(/│\s*$/, '').trim());
	}
	return lines.join(' ').replace(/\s+/g, ' ');
}

export async function waitForLesson(app: TuiPty, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
	let text = '';
	await app.waitForScreen(() => pattern.test((text = lessonText(app))), timeoutMs, what);
	return text;
}

/** Tab into the guest's shell, type a line, Ctrl-] back to the app. */
export async function typeInGuest(app: TuiPty, line: string): Promise<void> {
	// The footer says where the keys go (the lesson also names Ctrl-], so it cannot tell).
	app.write('\t');
	await app.waitForScreen(/keys go to the guest/, 5000, 'the console focused');
	app.write(`${line}\r`);
	app.write('\x1d');
	await app.waitForScreen(() => !/keys go to the guest/.test(app.screen()), 5000, 'the list focused again');
}

/**
 * Moves the checklist's selection to a milestone with j/k, as a learner would. A key sent before
 * the screen listens for keys (it is drawn first) is lost, so a key the selection did not follow
 * within a second is sent again.
 */
export async function selectMilestone(app: TuiPty, name: RegExp): Promise<void> {
	const lines = () => app.checklist();
	const selected = () => lines().findIndex(line => line.charAt(0) === '›');
	const target = () => lines().findIndex(line => name.test(line));
	await app.waitForScreen(() => target() >= 0 && selected() >= 0, 20_000, 'the checklist with a selection');
	for (let tries = 0; selected() !== target() && tries < 20; tries++) {
		const from = selected();
		app.write(from < target() ? 'j' : 'k');
		await app.waitForScreen(() => selected() !== from, 1000, 'the selection moving').catch(() => undefined);
	}
	await app.waitForScreen(() => app.milestoneLine(name)?.charAt(0) === '›', 5000, `${String(name)} selected`);
}

/**
 * Runs virtio-hello as the learner: selects it (fourth in the list), starts it, loads the driver
 * and greets the device from the console, each when its task asks. `buildMs`: how long the
 * builds before the first task may take (cold: the kernel, QEMU, the learner's copies).
 */
export async function loadAndGreet(app: TuiPty, buildMs: number): Promise<void> {
	await selectMilestone(app, /virtio-hello/i);
	app.write('\r');
	await waitForLesson(app, /Your turn: Load the driver yourself/, buildMs, "probe's task");
	await typeInGuest(app, 'insmod /lib/modules/$(uname -r)/extra/virtio_hello.ko');
	await waitForLesson(app, /Your turn: Greet the device/, 60_000, "greet's task");
	await typeInGuest(app, 'hello-client greet Grace');
}
