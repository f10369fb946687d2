import test from 'ava';
import {render} from 'ink-testing-library';
import {Help} from '../../source/ui/components/Help.js';
import {appKeyFor, KEY_BINDINGS} from '../../source/ui/keys.js';

test('every key bound in keys.ts has a help line, and help shows them all at 80×24', t => {
	const bound = KEY_BINDINGS.flatMap(binding => binding.keys.map(([sequence]) => sequence));
	t.true(bound.length > 0);
	for (const sequence of bound) {
		t.not(appKeyFor(sequence), undefined, `${JSON.stringify(sequence)} is bound`);
		const line = KEY_BINDINGS.find(binding => binding.keys.some(([key]) => key === sequence))!;
		t.truthy(line.label, `${JSON.stringify(sequence)} has a label`);
		t.truthy(line.help, `${JSON.stringify(sequence)} has a help text`);
	}

	// The help box at 80×24 covers the rows between header and footer: 21.
	const {lastFrame} = render(<Help width={80} height={21} />);
	const frame = lastFrame()!;
	for (const {label, help} of KEY_BINDINGS) {
		t.true(frame.includes(label), `help shows ${label}`);
		t.true(frame.includes(help), `help shows "${help}" whole`);
	}
});

test('help names the keys e, s, b, B, i, v, h and d', t => {
	const labels = KEY_BINDINGS.map(binding => binding.label);
	for (const key of ['e', 's', 'b', 'B', 'i', 'v', 'h', 'd']) t.true(labels.includes(key), key);
	t.is(appKeyFor('v'), 'switch-pane');
	t.is(appKeyFor('h'), 'hint');
	t.is(appKeyFor('d'), 'demo');
});
