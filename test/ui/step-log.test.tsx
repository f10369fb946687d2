import test from 'ava';
import {render} from 'ink-testing-library';
import {StepLog} from '../../source/ui/components/StepLog.js';
import type {StepState} from '../../source/ui/state.js';

function steps(count: number, running: number): StepState[] {
	return Array.from({length: count}, (_, index) => ({
		name: `s${index}`,
		title: `Step number ${index + 1}`,
		status: index < running ? 'verified' : index === running ? 'running' : 'pending',
		...(index < running ? {ms: 1000, detail: `proof ${index + 1}`} : {}),
	}));
}

test('with more steps than rows, the running step and its progress stay in view', t => {
	// 8 steps, 6 of them verified with a detail line: 14 step rows plus the progress in 8 rows.
	const {lastFrame} = render(
		<StepLog
			title="Long"
			steps={steps(8, 6)}
			progress={{step: 's6', fraction: 0.5, label: 'halfway', estimated: false}}
			log={['a log line']}
			width={60}
			height={11}
		/>,
	);
	const frame = lastFrame()!;
	t.regex(frame, /▸ Step number 7/, 'the running step is shown');
	t.regex(frame, /50% halfway/, 'with its progress');
	t.regex(frame, /⋮ \d+ more above/, 'the first row says there is more above');
	t.notRegex(frame, /Step number 1\b/, 'the oldest steps gave way');
	t.is(frame.split('\n').length, 11, 'the pane keeps its height');
});

test('once every step is done, the newest one is in view', t => {
	const done = steps(8, 8);
	const {lastFrame} = render(<StepLog title="Long" steps={done} log={[]} width={60} height={8} />);
	t.regex(lastFrame()!, /✔ Step number 8/);
	t.regex(lastFrame()!, /proof 8/);
});

test('steps that fit are all shown, with the newest log lines below', t => {
	const {lastFrame} = render(
		<StepLog title="Short" steps={steps(2, 1)} log={['old', 'newest']} width={60} height={8} />,
	);
	const frame = lastFrame()!;
	t.regex(frame, /✔ Step number 1/);
	t.regex(frame, /▸ Step number 2/);
	t.regex(frame, /newest/);
	t.notRegex(frame, /more above/);
});

test('a milestone the host cannot run yet: the pane lists every missing package, wrapped, and the key s', t => {
	const needs = [
		'build-essential',
		'bc',
		'flex',
		'bison',
		'libelf-dev',
		'libssl-dev',
		'cpio',
		'ccache',
		'linux-source-6.1',
		'busybox-static',
		'e2fsprogs',
		'qemu-system-x86',
	];
	const {lastFrame} = render(
		<StepLog title="Boot" steps={steps(4, 0)} log={[]} blocked={{milestone: 'boot', needs}} width={50} height={12} />,
	);
	const frame = lastFrame()!;
	const text = frame
		.split('\n')
		.map(row => row.replace(/^│/, '').replace(/│$/, '').trim())
		.join(' ');
	for (const pkg of needs) t.true(text.includes(pkg), `${pkg} is listed`);
	t.regex(text, /boot cannot run yet/);
	t.regex(text, /Press s to set up the host/);
	t.notRegex(frame, /Step number 1/, 'the blocked message, not steps that cannot run');
	t.true(
		frame.split('\n').every(row => row.length <= 50),
		'wrapped to the pane, never cut',
	);
	t.notRegex(frame, /…/, 'nothing was cut');
});
