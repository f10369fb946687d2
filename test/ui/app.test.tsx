import anyTest from 'ava';
import {render} from 'ink-testing-library';
import {App} from '../../source/ui/components/App.js';
import {computeLayout} from '../../source/ui/layout.js';
import {FakeWorkbench, MILESTONES, until} from './fake-workbench.js';

// Ink instances share the event loop: run these one at a time.
const test = anyTest.serial;

const DOWN = '\u001B[B';
const ENTER = '\r';
const TAB = '\t';

// ink-testing-library's stdout is 100 columns wide.
function start(
	workbench = new FakeWorkbench(),
	extra: {onQuit?: () => void; onSetup?: (id: string) => void; columns?: number; rows?: number} = {},
) {
	const app = render(
		<App
			workbench={workbench}
			milestones={MILESTONES}
			columns={extra.columns ?? 100}
			rows={extra.rows ?? 36}
			onQuit={extra.onQuit}
			onSetup={extra.onSetup}
			frameIntervalMs={0}
		/>,
	);
	const frame = () => app.lastFrame() ?? '';
	const shows = (pattern: RegExp) => until(() => pattern.test(frame()));
	return {workbench, ...app, frame, shows};
}

test('the app draws every pane, fits the terminal height and sizes the guest console', async t => {
	const {frame, shows, workbench, unmount} = start(new FakeWorkbench(['boot']));
	t.true(await shows(/✔ 1\. boot/));
	t.regex(frame(), /kernelcraft/);
	t.regex(frame(), /3\. new-device/);
	t.regex(frame(), /virtqueues[^\n]*\n[^\n]*no VM running/);
	t.regex(frame(), /lesson — Boot your kernel/);
	t.regex(frame(), /Enter run/);
	t.true(frame().split('\n').length <= 35, 'one row shorter than the terminal');
	const layout = computeLayout(100, 36)!;
	t.deepEqual(workbench.resizes.at(-1), [layout.consoleCols, layout.consoleRows]);
	unmount();
});

test('a terminal that is too small gets the size message instead of the panes', async t => {
	const {shows, frame, workbench, unmount} = start(new FakeWorkbench(), {columns: 79, rows: 23});
	t.true(await shows(/at least 80×24; this one is 79×23/));
	t.notRegex(frame(), /milestones/);
	t.deepEqual(workbench.resizes, [], 'no console size while there is no console pane');
	unmount();
});

test('Enter runs the selected milestone; ↓ picks the next one; no second run while one runs', async t => {
	const {stdin, shows, workbench, unmount} = start();
	t.true(await shows(/›. 1\. boot/));
	stdin.write(ENTER);
	t.true(await until(() => workbench.runs.length === 1));
	t.deepEqual(workbench.runs, ['boot']);

	workbench.emit({type: 'milestone-started', milestone: 'boot', title: 'Boot your kernel', steps: []});
	t.true(await shows(/▸ 1\. boot/));
	stdin.write(DOWN);
	t.true(await shows(/›. 2\. modules/));
	stdin.write(ENTER);
	t.true(await shows(/already running/));
	t.deepEqual(workbench.runs, ['boot']);

	workbench.emit({type: 'milestone-finished', summary: {milestone: 'boot', ok: true, steps: []}});
	t.true(await shows(/✔ 1\. boot/));
	stdin.write(ENTER);
	t.true(await until(() => workbench.runs.length === 2));
	t.deepEqual(workbench.runs, ['boot', 'modules']);
	unmount();
});

test('keys that arrive together (typed before raw mode, or pasted) are each handled, in order', async t => {
	const {stdin, shows, workbench, unmount} = start();
	t.true(await shows(/›. 1\. boot/));
	// What a cooked terminal hands over when "j" and Enter were typed while the app started.
	stdin.write('j\r');
	t.true(await until(() => workbench.runs.length === 1));
	t.deepEqual(workbench.runs, ['modules']);
	workbench.emit({type: 'milestone-finished', summary: {milestone: 'modules', ok: true, steps: []}});
	workbench.emit({type: 'vm-started', pid: 1, runDir: '/tmp/r', accel: 'tcg'});
	t.true(await shows(/Tab to type into the guest/));
	// Tab gives the console the keyboard: the rest of the chunk is the guest's, whole.
	stdin.write('\tls\r');
	t.true(await until(() => workbench.sent.length === 1));
	t.deepEqual(workbench.sent, ['ls\r']);
	t.deepEqual(workbench.runs, ['modules'], 'the Enter went to the guest');
	unmount();
});

test('a key that hands the terminal back ends the chunk: nothing after q is handled', async t => {
	let quits = 0;
	const {stdin, shows, workbench, unmount} = start(new FakeWorkbench(), {onQuit: () => quits++});
	t.true(await shows(/milestones/));
	stdin.write('q\r');
	t.true(await until(() => workbench.listenerCount === 0));
	t.is(quits, 1);
	t.deepEqual(workbench.runs, [], 'the Enter after q did not start a milestone');
	unmount();
});

test('the background QEMU build shows in the header; b pauses or resumes it, B stops it', async t => {
	const {stdin, shows, workbench, unmount} = start();
	t.true(await shows(/milestones/));
	stdin.write('b');
	t.true(await shows(/no build is running in the background/));
	t.is(workbench.backgroundToggles, 0);
	workbench.emit({type: 'background', job: 'qemu', state: 'running', fraction: 0.437, label: '[630/1442] cc'});
	t.true(await shows(/QEMU build 43% \(b pause\)/));
	stdin.write('b');
	t.true(await until(() => workbench.backgroundToggles === 1));
	workbench.emit({
		type: 'background',
		job: 'qemu',
		state: 'paused',
		fraction: 0.437,
		label: '[630/1442] cc',
		note: 'paused by you',
	});
	t.true(await shows(/QEMU build 43% paused by you \(b resume\)/));
	stdin.write('B');
	t.true(await until(() => workbench.backgroundStops === 1));
	workbench.emit({type: 'background', job: 'qemu', state: 'done', fraction: 1, label: 'QEMU 7.2.15 built'});
	t.true(await shows(/QEMU ready/));
	unmount();
});

test('events reach the screen: accel, VM, steps, console rows, the ring panel and the lesson', async t => {
	const {frame, shows, workbench, unmount} = start();
	t.true(await shows(/milestones/));
	workbench.emit(
		{type: 'accel', choice: {accel: 'tcg', reason: 'no vmx/svm CPU flag'}},
		{
			type: 'milestone-started',
			milestone: 'boot',
			title: 'Boot your kernel',
			steps: [
				{name: 'build', title: 'Build the kernel'},
				{name: 'boot', title: 'Boot it'},
			],
		},
		{type: 'step-started', step: 'build', title: 'Build the kernel'},
		{type: 'verified', step: 'build', detail: 'bzImage 1.4 MB', ms: 1500},
		{type: 'step-started', step: 'boot', title: 'Boot it'},
		{type: 'waiting', step: 'boot', what: 'the shell prompt', elapsedMs: 3000, timeoutMs: 60_000},
		{type: 'vm-started', pid: 4242, runDir: '/tmp/r', accel: 'tcg'},
		{type: 'console-screen', rows: ['Linux version 6.1', '~ # '], cursor: {x: 4, y: 1}},
		{
			type: 'virtio',
			devices: [
				{
					path: '/p',
					name: 'virtio-blk',
					status: ['DRIVER_OK'],
					features: [],
					queues: [
						{
							index: 0,
							size: 256,
							availIdx: 77,
							lastAvailIdx: 77,
							usedIdx: 77,
							signalledUsed: 77,
							inFlight: 0,
							rates: {requests: 3},
							totals: {requests: 77},
							history: [1, 3],
						},
					],
				},
			],
			at: 1,
		},
	);
	t.true(await shows(/Linux version 6.1/));
	t.regex(frame(), /TCG — no vmx\/svm CPU flag/);
	t.regex(frame(), /VM running \(pid 4242\)/);
	t.regex(frame(), /✔ Build the kernel\s+1.5 s/);
	t.regex(frame(), /▸ Boot it/);
	t.regex(frame(), /waiting for the shell prompt — 3 s of 60 s/);
	t.regex(frame(), /avail 77\s+last 77\s+used 77/);
	t.regex(frame(), /▄█/);
	t.regex(frame(), /lesson — Boot it/);
	t.regex(frame(), /QEMU loads bzImage/);

	workbench.emit({type: 'vm-stopped', exitCode: 0, reason: 'guest rebooted'});
	t.true(await shows(/no VM \(stopped: guest rebooted\)/));
	t.notRegex(frame(), /avail 77/);
	unmount();
});

test('Tab gives the keyboard to the guest: keys are forwarded as bytes, Ctrl-] takes it back', async t => {
	let quits = 0;
	const {stdin, shows, frame, workbench, unmount} = start(new FakeWorkbench(), {onQuit: () => quits++});
	t.true(await shows(/milestones/));
	stdin.write(TAB);
	t.true(await shows(/no VM running: run a milestone first/), 'no console focus without a VM');

	workbench.emit({type: 'vm-started', pid: 1, runDir: '/tmp/r', accel: 'tcg'});
	t.true(await shows(/Tab to type into the guest/));
	// Typed faster than Ink re-renders: the key after Tab must already go to the guest.
	stdin.write(TAB);
	stdin.write('l');
	t.true(await shows(/keys go to the guest/));
	t.true(await until(() => workbench.sent.length === 1));
	t.deepEqual(workbench.sent, ['l']);
	workbench.sent.length = 0;

	// Printable keys, Enter, an arrow, Backspace (0x7f), Ctrl-C, Tab, Esc-less Alt-b, and the
	// app's own keys: all are the guest's now, byte for byte.
	const keys = ['l', 's', ENTER, '\u001B[A', '\u007F', '\u0003', TAB, '\u001Bb', 'q', '?'];
	for (const key of keys) stdin.write(key);
	t.true(await until(() => workbench.sent.length === keys.length));
	t.deepEqual(workbench.sent, keys);
	t.is(quits, 0, 'q and Ctrl-C went to the guest, not to the app');
	t.deepEqual(workbench.runs, []);
	t.notRegex(frame(), /leave the guest console/, '? did not open the help');

	stdin.write('\u001D');
	t.true(await shows(/Enter run/));
	stdin.write('x');
	// Keys are handled in order: once '?' has opened the help, 'x' before it was handled too.
	stdin.write('?');
	t.true(await shows(/leave the guest console/));
	t.is(workbench.sent.length, keys.length, 'keys stay with the app after Ctrl-]');
	unmount();
});

test('q quits, calls onQuit and unsubscribes from the workbench', async t => {
	let quit = 0;
	const {stdin, shows, workbench, unmount} = start(new FakeWorkbench(), {onQuit: () => quit++});
	t.true(await shows(/milestones/));
	t.is(workbench.listenerCount, 1);
	stdin.write('q');
	t.true(await until(() => workbench.listenerCount === 0), 'Ink exited and the app unsubscribed');
	t.is(quit, 1);
	unmount();
});

test('c cancels a running milestone, ? shows help, i looks inside the ring', async t => {
	const {stdin, shows, frame, workbench, unmount} = start();
	t.true(await shows(/milestones/));
	stdin.write('c');
	t.true(await shows(/nothing is running/));
	t.is(workbench.cancels, 0);

	workbench.emit({type: 'milestone-started', milestone: 'boot', title: 'Boot your kernel', steps: []});
	t.true(await shows(/c cancel/));
	stdin.write('c');
	t.true(await until(() => workbench.cancels === 1));

	stdin.write('?');
	t.true(await shows(/leave the guest console/));
	stdin.write('?');
	t.true(await until(() => !/leave the guest console/.test(frame())));

	stdin.write('i');
	t.true(await shows(/virtqueues \(inside the ring\)/));
	unmount();
});

test('the state warning is shown at start', async t => {
	const {shows, unmount} = start(new FakeWorkbench([], 'state file was unreadable; set aside as state.json.bad'));
	t.true(await shows(/state file was unreadable/));
	unmount();
});

test('a milestone whose host packages are missing is not started: Enter says what is missing, s hands over to setup', async t => {
	const workbench = new FakeWorkbench();
	workbench.needs = {boot: ['flex', 'bison']};
	const asked: string[] = [];
	const {stdin, shows, unmount} = start(workbench, {onSetup: id => asked.push(id)});
	t.true(await shows(/milestones/));
	stdin.write(ENTER);
	t.true(await shows(/boot needs flex, bison: press s to set up/));
	t.deepEqual(workbench.runs, [], 'nothing was run');
	stdin.write('s');
	t.true(await until(() => asked.length === 1));
	t.deepEqual(asked, ['boot']);
	unmount();
});

test('Enter on a milestone the host cannot run lists every missing package in the steps pane, with the key s', async t => {
	const workbench = new FakeWorkbench();
	const needs = ['build-essential', 'flex', 'bison', 'libelf-dev', 'libssl-dev', 'linux-source-6.1', 'busybox-static'];
	workbench.needs = {boot: [...needs, 'qemu-system-x86']};
	const {stdin, shows, frame, unmount} = start(workbench);
	t.true(await shows(/milestones/));
	stdin.write(ENTER);
	t.true(await shows(/cannot run yet/), frame());
	// The steps pane is the bottom-left one: the text left of its right border, row by row.
	const rows = frame().split('\n');
	const top = rows.findIndex(row => row.includes('steps — '));
	const pane = rows
		.slice(top)
		.map(row => /^│([^│]*)│/.exec(row)?.[1]?.trim() ?? '')
		.join(' ');
	for (const pkg of [...needs, 'qemu-system-x86']) t.true(pane.includes(pkg), `${pkg} is in the steps pane`);
	t.regex(pane, /Press s to set up the host/);
	t.deepEqual(workbench.runs, [], 'nothing was run');
	unmount();
});

test('s with nothing missing says so and stays', async t => {
	const asked: string[] = [];
	const {stdin, shows, unmount} = start(new FakeWorkbench(), {onSetup: id => asked.push(id)});
	t.true(await shows(/milestones/));
	stdin.write('s');
	t.true(await shows(/the host has everything boot needs/));
	t.deepEqual(asked, []);
	unmount();
});
