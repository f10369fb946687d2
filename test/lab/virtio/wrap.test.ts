import test from 'ava';
import {idx16, idxAdvance, idxAfter, idxDelta, idxDiff, idxPending} from '../../../source/lab/virtio/wrap.js';

test('idx16 folds any integer into 0..65535', t => {
	t.is(idx16(0), 0);
	t.is(idx16(65535), 65535);
	t.is(idx16(65536), 0);
	t.is(idx16(65537 + 65536), 1);
	t.is(idx16(-1), 65535);
});

test('idxDelta counts forward across the wrap', t => {
	t.is(idxDelta(0, 0), 0);
	t.is(idxDelta(10, 15), 5);
	t.is(idxDelta(65530, 4), 10);
	t.is(idxDelta(65535, 0), 1);
	t.is(idxDelta(1, 0), 65535);
	t.is(idxDelta(70000, 70010), 10); // unnormalised inputs
});

test('idxDiff is signed, for counters that may go back', t => {
	t.is(idxDiff(4, 65530), -10);
	t.is(idxDiff(65530, 4), 10);
	t.is(idxDiff(0, 32767), 32767);
	t.is(idxDiff(0, 32768), -32768);
	t.true(idxAfter(3, 65534));
	t.false(idxAfter(65534, 3));
	t.false(idxAfter(7, 7));
});

test('idxPending: entries between consumer and producer', t => {
	t.is(idxPending(53, 53), 0);
	t.is(idxPending(65535, 2), 3);
});

test('idxAdvance: forward steps count, backward steps are resets', t => {
	t.deepEqual(idxAdvance(100, 164), {delta: 64, reset: false});
	t.deepEqual(idxAdvance(65500, 36), {delta: 72, reset: false});
	t.deepEqual(idxAdvance(53, 2), {delta: 2, reset: true}); // reset, then 2 requests
	t.deepEqual(idxAdvance(53, 0), {delta: 0, reset: true});
	t.deepEqual(idxAdvance(0, 32767), {delta: 32767, reset: false});
});
