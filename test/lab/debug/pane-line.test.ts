import test from 'ava';
import {paneLine} from '../../../source/lab/debug/guest-debugger.js';

test("gdb's lines for the pane: tabs expanded to the next stop, control characters dropped", t => {
	t.is(paneLine('52\t}'), '52      }');
	t.is(paneLine('a\tb\tc'), 'a       b       c');
	t.is(paneLine('x\x07y\x1bz'), 'xyz');
});
