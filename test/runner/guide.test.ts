import test from 'ava';
import {Guide} from '../../source/runner/guide.js';

test('a prediction resolves with the learner’s number; answer() is false when nothing is asked', async t => {
	const guide = new Guide();
	t.false(guide.answer(3), 'no step asks yet');
	const asked = guide.prediction('predict-small', new AbortController().signal);
	t.is(guide.asking, 'predict-small');
	t.true(guide.answer(32));
	t.is(await asked, 32);
	t.is(guide.asking, undefined);
	t.false(guide.answer(4), 'answered once only');
});

test('d (demo) ends the wait for a prediction and for a task, and later waits return at once', async t => {
	const guide = new Guide();
	const signal = new AbortController().signal;
	const asked = guide.prediction('integrity', signal);
	const paused = guide.pause(60_000, signal);
	guide.demo();
	t.is(await asked, undefined, 'no number: kernelcraft runs the step');
	t.true(await paused, 'the task wait reports demo, long before its 60 s');
	t.is(guide.current, 'demo');
	t.is(await guide.prediction('next', signal), undefined);
	t.true(await guide.pause(60_000, signal));
	guide.reset();
	t.is(guide.current, 'guided', 'a new run is guided again');
	t.false(await guide.pause(1, signal), 'a plain pause ends by its time');
});

test('cancel (abort) rejects the waits with an AbortError', async t => {
	const guide = new Guide();
	const controller = new AbortController();
	const asked = guide.prediction('predict-big', controller.signal);
	const paused = guide.pause(60_000, controller.signal);
	controller.abort();
	await t.throwsAsync(asked, {name: 'AbortError'});
	await t.throwsAsync(paused, {name: 'AbortError'});
	t.is(guide.asking, undefined);
});
