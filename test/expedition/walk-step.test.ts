import test from 'ava';
import {expeditionFor, milestones} from '../../source/expedition/milestones.js';
import {caughtIn, walkStep} from '../../source/expedition/walk-step.js';
import {breakpointHit} from '../../source/lab/debug/gdb-session.js';
import {walkLines} from '../../source/ui/components/VirtqueuePanel.js';
import {initialUiState, reduceUi} from '../../source/ui/state.js';

test('the gdb step is in virtio-hello only with --debug, right after the greeting', t => {
	const plain = expeditionFor({});
	t.is(plain, milestones);
	t.false(plain.some(milestone => milestone.steps.some(step => step.id === 'walk')));
	const debug = expeditionFor({debug: true});
	const hello = debug.find(milestone => milestone.id === 'virtio-hello')!;
	const ids = hello.steps.map(step => step.id);
	t.is(ids[ids.indexOf('greet') + 1], 'walk');
	t.is(ids.filter(id => id === 'walk').length, 1);
	// The other milestones are the same objects, and the plain list is left alone.
	t.is(
		debug.find(milestone => milestone.id === 'boot'),
		milestones.find(milestone => milestone.id === 'boot'),
	);
	t.false(milestones.find(milestone => milestone.id === 'virtio-hello')!.steps.some(step => step.id === walkStep.id));
});

test('breakpointHit: the function of the last breakpoint gdb reported, with or without an address', t => {
	t.is(
		breakpointHit(
			'Continuing.\n\nBreakpoint 2, vh_queue (vh=0xffff888002f1c000, req=0xffff) at drivers/x.c:251\n251\t{\n',
		),
		'vh_queue',
	);
	t.is(breakpointHit('Thread 1 hit Breakpoint 1, 0xffffffff81234567 in do_sys_open (dfd=-100)\n'), 'do_sys_open');
	t.is(
		breakpointHit(
			'Breakpoint 1, vh_queue (vh=0x1) at a.c:1\n(gdb) c\nContinuing.\n\nBreakpoint 3, vh_vq_done (vq=0x2) at a.c:9\n',
		),
		'vh_vq_done',
	);
	t.is(
		breakpointHit('Program received signal SIGINT, Interrupt.\ndefault_idle () at arch/x86/kernel/process.c:730\n'),
		undefined,
	);
	t.is(
		breakpointHit('Breakpoint 1 at 0xffffffffc0000010: file a.c, line 3.\n'),
		undefined,
		'setting one is not hitting it',
	);
});

test('the guided check says what is missing until gdb holds the driver in vh_queue', t => {
	t.deepEqual(caughtIn(false, undefined), {done: false, missing: 'gdb is not attached: press g.'});
	const running = caughtIn(true, undefined);
	t.false(running.done);
	t.regex((running as {missing: string}).missing, /break vh_queue/);
	const elsewhere = caughtIn(true, 'do_sys_open');
	t.false(elsewhere.done);
	t.regex((elsewhere as {missing: string}).missing, /in do_sys_open, not vh_queue: c lets it go/);
	t.true(caughtIn(true, 'vh_queue').done);
});

test('the panel lists each stop of the walk with the indices that side saw, newest stop replacing a rerun', t => {
	let state = initialUiState([{id: 'virtio-hello'}]);
	state = reduceUi(state, {
		type: 'walk-stop',
		step: 'walk',
		n: 1,
		side: 'driver',
		where: 'vh_queue',
		indices: 'avail idx 7, last used idx 6',
		descriptor: '0x2f1c000',
	});
	state = reduceUi(state, {
		type: 'walk-stop',
		step: 'walk',
		n: 2,
		side: 'device',
		where: 'virtqueue_fill',
		indices: 'last avail idx 7, used idx 6; used len 40',
		descriptor: '0x2f1c000',
	});
	t.deepEqual(walkLines(state.walkStops!), [
		'gdb walk: one request',
		'1 driver in vh_queue',
		'  avail idx 7, last used idx 6',
		'  descriptor 0 @ 0x2f1c000',
		'2 device in virtqueue_fill',
		'  last avail idx 7, used idx 6; used len 40',
		'  descriptor 0 @ 0x2f1c000',
	]);
	// The walk run again: its first stop starts the list over.
	state = reduceUi(state, {type: 'walk-stop', step: 'walk', n: 1, side: 'driver', where: 'vh_queue'});
	t.is(state.walkStops!.length, 1);
	// A new milestone run clears it.
	state = reduceUi(state, {type: 'milestone-started', milestone: 'virtio-hello', title: 't', steps: []});
	t.is(state.walkStops, undefined);
});

test('a step that predicts before its task: the answer is kept as answered, no longer asked', t => {
	let state = initialUiState([{id: 'virtio-hello'}]);
	state = reduceUi(state, {type: 'prediction-asked', step: 'walk', question: 'How many?', unit: 'buffers'});
	state = reduceUi(state, {type: 'ui/prediction-input', text: '5'});
	t.falsy(state.prediction?.answered);
	state = reduceUi(state, {type: 'task', step: 'walk', ask: 'Catch one request.'});
	t.true(state.prediction?.answered);
	t.is(state.prediction?.input, '5');
	// Another step's task leaves a prediction alone.
	let other = reduceUi(initialUiState([{id: 'x'}]), {type: 'prediction-asked', step: 'a', question: 'q', unit: 'u'});
	other = reduceUi(other, {type: 'task', step: 'b', ask: 'do it'});
	t.falsy(other.prediction?.answered);
});
