import anyTest from 'ava';
import {render} from 'ink-testing-library';
import {App} from '../../source/ui/components/App.js';
import {gdbKeyFor, GDB_KEY_BINDINGS} from '../../source/ui/keys.js';
import {Help} from '../../source/ui/components/Help.js';
import {FakeWorkbench, MILESTONES, until} from './fake-workbench.js';

// Ink instances share the event loop: run these one at a time.
const test = anyTest.serial;

function start(columns = 100, rows = 36) {
	const workbench = new FakeWorkbench();
	const app = render(
		<App workbench={workbench} milestones={MILESTONES} columns={columns} rows={rows} frameIntervalMs={0} />,
	);
	const frame = () => app.lastFrame() ?? '';
	const shows = (pattern: RegExp) => until(() => pattern.test(frame()));
	workbench.emit({type: 'vm-started', pid: 4242, runDir: '/tmp/x', accel: 'tcg'});
	return {workbench, ...app, frame, shows};
}

const gdbLines = [
	'Breakpoint 2, vh_queue (vh=0xffff888004a1c000, req=0xffff8880049e0000) at virtio_hello_core.c:251',
	'(gdb) ',
];

test('g attaches gdb to the running VM and its pane takes c s n f t x; the header says the guest is paused', async t => {
	const {stdin, shows, frame, workbench, unmount} = start();
	t.true(await shows(/VM running \(pid 4242\)/));
	stdin.write('g');
	t.true(await until(() => workbench.gdbActions.includes('start')), frame());
	workbench.emit({type: 'gdb', state: 'attached', lines: gdbLines, stopped: true});
	workbench.emit({type: 'guest-paused', paused: true, by: 'gdb'});
	t.true(await shows(/gdb \(guest stopped\)/));
	t.regex(frame(), /Breakpoint 2, vh_queue/);
	t.regex(frame().split('\n')[0]!, /guest paused by gdb/);
	for (const key of ['c', 's', 'n', 'f', 't', 'x']) stdin.write(key);
	t.true(await until(() => workbench.gdbActions.length === 7));
	t.deepEqual(workbench.gdbActions, ['start', 'continue', 'step', 'next', 'finish', 'backtrace', 'interrupt']);
	t.deepEqual(workbench.runs, [], 'the app keys (c cancel, s setup...) do not act meanwhile');
	workbench.emit({type: 'guest-paused', paused: false, by: 'gdb'});
	t.true(await until(() => !/guest paused by gdb/.test(frame())));
	unmount();
});

test('Tab types into gdb until Ctrl-], and q detaches gdb and gives the keys back to the list', async t => {
	const {stdin, shows, frame, workbench, unmount} = start();
	t.true(await shows(/VM running \(pid 4242\)/));
	stdin.write('g');
	workbench.emit({type: 'gdb', state: 'attached', lines: gdbLines, stopped: true});
	t.true(await shows(/● gdb/));
	stdin.write('\t');
	t.true(await shows(/typing into gdb/));
	stdin.write('p *sgs[0]\r');
	t.true(await until(() => workbench.gdbTyped.join('') === 'p *sgs[0]\r'));
	stdin.write('\x1d');
	t.true(await shows(/● gdb \(guest stopped\)/));
	stdin.write('q');
	t.true(await until(() => workbench.gdbActions.includes('quit')));
	workbench.emit({type: 'gdb', state: 'gone', lines: gdbLines, stopped: false});
	t.true(await until(() => !/gdb/.test(frame().split('\n').slice(1, -1).join('\n'))), 'the pane closed');
	stdin.write('j');
	t.true(await shows(/›. 2\. modules/), 'the list has the keys again');
	unmount();
});

test('the gdb pane keys each have a help line, and help still fits at 80×24', t => {
	for (const binding of GDB_KEY_BINDINGS)
		for (const [sequence, command] of binding.keys) t.is(gdbKeyFor(sequence), command);
	const {lastFrame} = render(<Help width={80} height={21} />);
	for (const {label, help} of GDB_KEY_BINDINGS) {
		t.true(lastFrame()!.includes(label), label);
		t.true(lastFrame()!.includes(help), help);
	}
});
