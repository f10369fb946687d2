import test from 'ava';
import {appKeyFor, consoleKeys, firstKey, LEAVE_CONSOLE} from '../../source/ui/keys.js';

test('raw sequences map to the app commands', t => {
	t.is(appKeyFor('\u001B[A'), 'up');
	t.is(appKeyFor('\u001BOB'), 'down');
	t.is(appKeyFor('\r'), 'enter');
	t.is(appKeyFor('\t'), 'tab');
	t.is(appKeyFor('\u0003'), 'quit');
	t.is(appKeyFor('q'), 'quit');
	t.is(appKeyFor('x'), undefined);
	t.is(appKeyFor('toString'), undefined, 'no prototype keys');
});

test('console keys pass through unchanged until Ctrl-]', t => {
	t.deepEqual(consoleKeys('\u007F'), {send: '\u007F', leave: false});
	t.deepEqual(consoleKeys('\u001B[3~'), {send: '\u001B[3~', leave: false});
	t.deepEqual(consoleKeys(LEAVE_CONSOLE), {send: '', leave: true});
	t.deepEqual(consoleKeys(`ls${LEAVE_CONSOLE}rest`), {send: 'ls', leave: true});
});

test('a chunk of keys splits into single keys; escape sequences and CR LF stay whole', t => {
	t.deepEqual(firstKey('i\r'), ['i', '\r']);
	t.deepEqual(firstKey('\r\nq'), ['\r\n', 'q']);
	t.deepEqual(firstKey('\u001B[A'), ['\u001B[A', '']);
	t.deepEqual(firstKey('😀j'), ['😀', 'j'], 'one code point, not one UTF-16 unit');
	t.deepEqual(firstKey('x'), ['x', '']);
});
