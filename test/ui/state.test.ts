import test from 'ava';
import {
	initialUiState,
	isRunning,
	LOG_LIMIT,
	reduceUi,
	selectedMilestone,
	type UiInput,
	type UiState,
} from '../../source/ui/state.js';
import type {RunEvent} from '../../source/runner/events.js';

const list = [{id: 'boot'}, {id: 'modules'}, {id: 'later'}];

const reduceAll = (state: UiState, inputs: UiInput[]) => inputs.reduce(reduceUi, state);

const started: RunEvent = {
	type: 'milestone-started',
	milestone: 'boot',
	title: 'Boot your kernel',
	steps: [
		{name: 'build', title: 'Build'},
		{name: 'boot', title: 'Boot'},
	],
};

test('initial state marks earlier verified milestones and starts on the list', t => {
	const state = initialUiState(list, ['modules']);
	t.deepEqual(state.milestones, {boot: 'idle', modules: 'verified', later: 'idle'});
	t.is(state.focus, 'list');
	t.is(state.selected, 0);
	t.false(state.vm.running);
	t.false(isRunning(state));
});

test('a milestone runs step by step: running, verified with ms and detail, then verified', t => {
	let state = reduceAll(initialUiState(list), [started, {type: 'step-started', step: 'build', title: 'Build'}]);
	t.is(state.milestones.boot, 'running');
	t.true(isRunning(state));
	t.is(state.currentStep, 'build');
	t.deepEqual(
		state.steps.map(s => s.status),
		['running', 'pending'],
	);

	state = reduceAll(state, [
		{type: 'progress', step: 'build', fraction: 0.5, label: 'CC kernel/fork.o', estimated: true},
		{type: 'waiting', step: 'build', what: 'make', elapsedMs: 3000, timeoutMs: 60_000},
	]);
	t.deepEqual(state.progress, {step: 'build', fraction: 0.5, label: 'CC kernel/fork.o', estimated: true});
	t.is(state.waiting?.elapsedMs, 3000);

	state = reduceUi(state, {type: 'verified', step: 'build', detail: 'bzImage 1.4 MB', ms: 172_000});
	t.like(state.steps[0], {status: 'verified', ms: 172_000, detail: 'bzImage 1.4 MB'});
	t.is(state.progress, undefined, 'the finished step no longer shows progress');
	t.is(state.waiting, undefined);

	state = reduceUi(state, {type: 'milestone-finished', summary: {milestone: 'boot', ok: true, steps: []}});
	t.is(state.milestones.boot, 'verified');
	t.false(isRunning(state));
	t.truthy(state.lastSummary);
});

test('a failed step keeps its failure and fails the milestone', t => {
	const failure = {what: 'no shell prompt within 60 s', hint: 'check the console', lastSeen: ['Kernel panic']};
	const state = reduceAll(initialUiState(list), [
		started,
		{type: 'step-started', step: 'boot', title: 'Boot'},
		{type: 'failed', step: 'boot', failure, ms: 60_000},
		{type: 'milestone-finished', summary: {milestone: 'boot', ok: false, steps: []}},
	]);
	t.like(state.steps[1], {status: 'failed', ms: 60_000, failure});
	t.is(state.milestones.boot, 'failed');
	t.is(state.log.at(-1), '✗ no shell prompt within 60 s');
});

test('a step the start event did not announce is still shown', t => {
	const state = reduceAll(initialUiState(list), [started, {type: 'step-started', step: 'extra', title: 'Extra'}]);
	t.is(state.steps.length, 3);
	t.like(state.steps[2], {name: 'extra', title: 'Extra', status: 'running'});
});

test('the log keeps only the last LOG_LIMIT lines', t => {
	const lines: RunEvent[] = Array.from({length: LOG_LIMIT + 50}, (_, i) => ({
		type: 'log',
		step: 'build',
		line: `line ${i}`,
	}));
	const state = reduceUi(initialUiState(list), {type: 'ui/batch', events: lines});
	t.is(state.log.length, LOG_LIMIT);
	t.is(state.log[0], 'line 50');
	t.is(state.log.at(-1), `line ${LOG_LIMIT + 49}`);
});

test('vm, accel, console and virtio events land in the state; vm-stopped clears devices and console focus', t => {
	let state = reduceAll(initialUiState(list), [
		{type: 'accel', choice: {accel: 'tcg', reason: 'no vmx/svm CPU flag'}},
		{type: 'vm-started', pid: 42, runDir: '/tmp/run', accel: 'tcg'},
		{type: 'console-screen', rows: ['~ # '], cursor: {x: 4, y: 0}},
		{
			type: 'virtio',
			devices: [{path: '/p', name: 'virtio-blk', status: [], features: [], queues: []}],
			guest: {interrupts: {'virtio0-requests': 7}},
			at: 1,
		},
		{type: 'ui/focus', focus: 'console'},
	]);
	t.deepEqual(state.accel, {accel: 'tcg', reason: 'no vmx/svm CPU flag'});
	t.like(state.vm, {running: true, pid: 42, accel: 'tcg'});
	t.deepEqual(state.console, {rows: ['~ # '], cursor: {x: 4, y: 0}});
	t.is(state.devices.length, 1);
	t.is(state.guest?.interrupts['virtio0-requests'], 7);
	t.is(state.focus, 'console');

	state = reduceUi(state, {type: 'vm-stopped', exitCode: 0, reason: 'guest rebooted'});
	t.like(state.vm, {running: false, stoppedReason: 'guest rebooted'});
	t.deepEqual(state.devices, []);
	t.is(state.focus, 'list', 'nothing to type into any more');
	t.deepEqual(state.console.rows, ['~ # '], 'the last screen stays readable');
});

test('console-line changes nothing (the pane draws console-screen)', t => {
	const state = initialUiState(list);
	t.is(reduceUi(state, {type: 'console-line', line: 'hello'}), state);
});

test('selection moves and clamps at both ends', t => {
	let state = initialUiState(list);
	t.is(reduceUi(state, {type: 'ui/move', delta: -1}), state, 'no change at the top');
	state = reduceAll(state, [
		{type: 'ui/move', delta: 1},
		{type: 'ui/move', delta: 1},
		{type: 'ui/move', delta: 1},
	]);
	t.is(state.selected, 2);
	t.is(selectedMilestone(state), 'later');
});

test('help, look-inside and notices toggle', t => {
	let state = reduceAll(initialUiState(list), [
		{type: 'ui/toggle-help'},
		{type: 'ui/toggle-look-inside'},
		{type: 'ui/notice', text: 'hi'},
	]);
	t.true(state.helpShown);
	t.true(state.lookInside);
	t.is(state.notice, 'hi');
	state = reduceAll(state, [
		{type: 'ui/toggle-help'},
		{type: 'ui/toggle-look-inside'},
		{type: 'ui/notice', text: undefined},
	]);
	t.false(state.helpShown);
	t.false(state.lookInside);
	t.is(state.notice, undefined);
});

test('a new run resets the steps and progress of the previous one', t => {
	const state = reduceAll(initialUiState(list), [
		started,
		{type: 'step-started', step: 'build', title: 'Build'},
		{type: 'progress', step: 'build', fraction: 0.2, label: 'x', estimated: false},
		{type: 'milestone-finished', summary: {milestone: 'boot', ok: false, steps: []}},
		{...started, milestone: 'modules', title: 'Modules', steps: [{name: 'insmod', title: 'Load'}]},
	]);
	t.is(state.activeMilestone, 'modules');
	t.deepEqual(
		state.steps.map(s => [s.name, s.status]),
		[['insmod', 'pending']],
	);
	t.is(state.progress, undefined);
	t.is(state.milestones.boot, 'failed');
	t.is(state.milestones.modules, 'running');
});
