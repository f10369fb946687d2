import anyTest from 'ava';
import {render} from 'ink-testing-library';
import type {RunEvent} from '../../source/runner/events.js';
import {App} from '../../source/ui/components/App.js';
import {computeLayout} from '../../source/ui/layout.js';
import {FakeWorkbench, MILESTONES, until} from './fake-workbench.js';

// Ink instances share the event loop: run these one at a time.
const test = anyTest.serial;

function start(workbench = new FakeWorkbench()) {
	const app = render(<App workbench={workbench} milestones={MILESTONES} columns={80} rows={24} frameIntervalMs={0} />);
	const frame = () => app.lastFrame() ?? '';
	const shows = (pattern: RegExp) => until(() => pattern.test(frame()));
	return {workbench, ...app, frame, shows};
}

const VM_UP: RunEvent = {type: 'vm-started', pid: 1, runDir: '/tmp/run', accel: 'tcg'};
const SCREEN: RunEvent = {type: 'console-screen', rows: ['~ # uname -r'], cursor: {x: 4, y: 0}};

test('at 80×24 the checklist, console, ring panel and steps+lesson are all reachable with v', async t => {
	const {stdin, frame, shows, workbench, unmount} = start();
	workbench.emit(VM_UP, SCREEN);
	t.true(await shows(/~ # uname -r/), 'the console is the first main pane');
	t.regex(frame(), /milestones[\s\S]*1\. boot/, 'the checklist is beside it');
	t.regex(frame(), /\[console\] v switch/, 'the footer names the pane and the key');
	t.notRegex(frame(), /virtqueues/);
	t.true(frame().split('\n').length <= 23, 'one row shorter than the terminal');
	t.false(
		frame()
			.split('\n')
			.some(line => line.length > 80),
		'nothing wider than the terminal',
	);

	stdin.write('v');
	t.true(await shows(/virtqueues/), 'v shows the ring panel');
	t.regex(frame(), /\[ring panel\] v switch/);
	t.notRegex(frame(), /uname -r/, 'in place of the console');
	t.regex(frame(), /1\. boot/, 'the checklist stays');

	stdin.write('v');
	t.true(await shows(/lesson — Boot your kernel/), 'v shows the lesson');
	t.regex(frame(), /steps — pick a milestone/, 'and the steps above it');
	t.regex(frame(), /\[steps\+lesson\] v switch/);
	t.notRegex(frame(), /virtqueues/);

	stdin.write('v');
	t.true(await shows(/\[console\] v switch/), 'and v comes back to the console');
	t.regex(frame(), /~ # uname -r/);
	unmount();
});

test('at 80×24 Tab brings the hidden console to the front and gives it the keyboard; its size follows the pane', async t => {
	const {stdin, frame, shows, workbench, unmount} = start();
	workbench.emit(VM_UP, SCREEN);
	t.true(await shows(/\[console\]/));
	const layout = computeLayout(80, 24)!;
	t.deepEqual(workbench.resizes.at(-1), [layout.consoleCols, layout.consoleRows]);
	t.is(layout.consoleCols, 80 - layout.checklistWidth - 2);

	stdin.write('v');
	stdin.write('v');
	t.true(await shows(/\[steps\+lesson\]/));
	stdin.write('\t');
	t.true(await shows(/Ctrl-\] leaves/), 'the console pane is shown, focused');
	t.regex(frame(), /~ # uname -r/);
	stdin.write('ls');
	t.true(await until(() => workbench.sent.join('') === 'ls'), 'keys go to the guest');
	stdin.write('\u001D');
	t.true(await shows(/\[console\] v switch/), 'after Ctrl-] the console stays the shown pane');
	unmount();
});

test('a full-size terminal shows every pane and v says so', async t => {
	const app = render(
		<App workbench={new FakeWorkbench()} milestones={MILESTONES} columns={100} rows={30} frameIntervalMs={0} />,
	);
	const frame = () => app.lastFrame() ?? '';
	t.true(await until(() => /virtqueues/.test(frame()) && /lesson —/.test(frame()) && /console/.test(frame())));
	t.notRegex(frame(), /v switch/);
	app.stdin.write('v');
	t.true(await until(() => /every pane is on screen/.test(frame())));
	app.unmount();
});
