import test from 'ava';
import {compilerErrorLines} from '../../../source/lab/build/kernel.js';
import {describeMismatch, findUnhonoured, parseConfig} from '../../../source/lab/build/kernel-config.js';

test('parses set and unset options with their origin', t => {
	const requests = parseConfig('# comment\nCONFIG_A=y\n\n# CONFIG_B is not set\nCONFIG_C="text"\n', 'frag.config');
	t.deepEqual(requests, [
		{symbol: 'CONFIG_A', value: 'y', origin: 'frag.config:2'},
		{symbol: 'CONFIG_B', value: null, origin: 'frag.config:4'},
		{symbol: 'CONFIG_C', value: '"text"', origin: 'frag.config:5'},
	]);
});

test('finds the options Kconfig did not honour, and only those', t => {
	const requests = parseConfig('CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=m\n', 'f');
	const final = 'CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_D=m\n';
	const mismatches = findUnhonoured(requests, final);
	t.deepEqual(
		mismatches.map(m => [m.request.symbol, m.actual]),
		[
			['CONFIG_B', null],
			['CONFIG_C', 'y'],
		],
	);
});

test('describes a missing option as a typo and a dropped one by its dependencies', t => {
	const [mismatch] = findUnhonoured(parseConfig('CONFIG_NOPE=y', 'x.config'), '');
	t.regex(
		describeMismatch(mismatch!, undefined),
		/CONFIG_NOPE=y asked for in x\.config:1, but it is not set \(no such option/,
	);
	t.regex(describeMismatch(mismatch!, 'PCI && MMU'), /depends on: PCI && MMU/);
});

test('picks gcc error lines and the source line gcc prints after them', t => {
	const lines = [
		'  CC      a.o',
		'a.c:3:5: error: expected ; before }',
		'    3 | int x',
		'  CC b.o',
		'make[1]: *** [a.o] Error 1',
	];
	t.deepEqual(compilerErrorLines(lines), [
		'a.c:3:5: error: expected ; before }',
		'    3 | int x',
		'make[1]: *** [a.o] Error 1',
	]);
});
