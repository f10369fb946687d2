import test from 'ava';
import {helpText, parseArgs, UsageError} from '../../source/cli/args.js';
import {commands} from '../../source/cli/commands.js';

test('no command means the TUI', t => {
	t.is(parseArgs([], commands, 'tui').command, 'tui');
});

test('run takes a milestone, --json and an option with a value', t => {
	const parsed = parseArgs(['run', 'boot', '--json', '--kernel-src=/src/linux'], commands, 'tui');
	t.is(parsed.command, 'run');
	t.deepEqual(parsed.positionals, ['boot']);
	t.true(parsed.flags.has('--json'));
	t.is(parsed.options.get('--kernel-src'), '/src/linux');
});

test('unknown commands and options are errors that name them', t => {
	t.throws(() => parseArgs(['frobnicate'], commands, 'tui'), {
		instanceOf: UsageError,
		message: /Unknown command "frobnicate"/,
	});
	t.throws(() => parseArgs(['run', 'boot', '--fast'], commands, 'tui'), {
		instanceOf: UsageError,
		message: /Unknown option --fast for "run"/,
	});
	t.throws(() => parseArgs(['run'], commands, 'tui'), {message: /"run" needs <milestone>/});
	t.throws(() => parseArgs(['run', 'boot', '--kernel-src'], commands, 'tui'), {message: /--kernel-src needs a value/});
	t.throws(() => parseArgs(['status', 'extra'], commands, 'tui'), {message: /Unexpected argument "extra"/});
});

test('--help works for every command and lists its options', t => {
	for (const spec of commands) {
		t.true(parseArgs(spec.name === 'tui' ? ['--help'] : [spec.name, '--help'], commands, 'tui').flags.has('--help'));
		for (const option of [...Object.keys(spec.flags), ...Object.keys(spec.options)])
			t.true(helpText(spec).includes(option), `${spec.name} help lists ${option}`);
	}
});
