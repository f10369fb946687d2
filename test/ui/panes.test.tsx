import test from 'ava';
import {render} from 'ink-testing-library';
import {Checklist} from '../../source/ui/components/Checklist.js';
import {VirtqueuePanel} from '../../source/ui/components/VirtqueuePanel.js';
import {StepLog} from '../../source/ui/components/StepLog.js';
import {ConsolePane} from '../../source/ui/components/ConsolePane.js';
import {TooSmall} from '../../source/ui/components/TooSmall.js';
import type {DeviceView} from '../../source/runner/events.js';
import {MILESTONES} from './fake-workbench.js';

const blk: DeviceView = {
	path: '/machine/peripheral-anon/device[0]/virtio-backend',
	name: 'virtio-blk',
	status: [
		'VIRTIO_CONFIG_S_ACKNOWLEDGE',
		'VIRTIO_CONFIG_S_DRIVER',
		'VIRTIO_CONFIG_S_FEATURES_OK',
		'VIRTIO_CONFIG_S_DRIVER_OK',
	],
	features: ['VIRTIO_RING_F_EVENT_IDX: Used & avail. event fields enabled', 'VIRTIO_BLK_F_SEG_MAX'],
	queues: [
		{
			index: 0,
			name: 'requestq',
			size: 256,
			availIdx: 1234,
			lastAvailIdx: 1230,
			usedIdx: 1228,
			signalledUsed: 1227,
			inFlight: 2,
			rates: {requests: 57, kicks: 40, interrupts: 38},
			totals: {requests: 9000, kicks: 7000, interrupts: 6000},
			history: [0, 2, 4, 8],
		},
	],
};

test('checklist shows ticks, the running mark, failures and milestones still to do', t => {
	const {lastFrame} = render(
		<Checklist
			milestones={MILESTONES}
			statuses={{boot: 'verified', modules: 'running'}}
			selected={0}
			focused
			width={30}
			height={8}
		/>,
	);
	const frame = lastFrame()!;
	t.regex(frame, /✔ 1\. boot/);
	t.regex(frame, /▸ 2\. modules/);
	t.regex(frame, / {2}3\. new-device/, 'not started: no mark');

	const failed = render(
		<Checklist milestones={MILESTONES} statuses={{boot: 'failed'}} selected={1} focused width={30} height={8} />,
	);
	t.regex(failed.lastFrame()!, /✗ 1\. boot/);
	t.regex(failed.lastFrame()!, /›. 2\. modules/, 'the selection marker follows `selected`');
});

test('virtqueue panel shows status, features, queue numbers, rates, a sparkline and the guest view', t => {
	const {lastFrame} = render(
		<VirtqueuePanel
			devices={[blk]}
			guest={{interrupts: {'virtio0-requests': 6001}}}
			vmRunning
			lookInside={false}
			width={44}
			height={20}
		/>,
	);
	const frame = lastFrame()!;
	t.regex(frame, /virtio-blk\s+ACK DRV FEAT_OK DRV_OK/);
	t.regex(frame, /feat EVENT_IDX SEG_MAX/);
	t.regex(frame, /q0 requestq\s+size 256/);
	t.regex(frame, /avail 1234\s+last 1230\s+used 1228/);
	t.regex(frame, /in-flight 2\s+signalled 1227/);
	t.regex(frame, /req\/s 57 kick\/s 40 irq\/s 38/);
	t.regex(frame, /▁▃▅█/);
	t.regex(frame, /virtio0-requests 6001/);
	t.notRegex(frame, /posted, not yet popped/);
});

test('looking inside the ring explains the indices', t => {
	const {lastFrame} = render(<VirtqueuePanel devices={[blk]} vmRunning lookInside width={44} height={24} />);
	const frame = lastFrame()!;
	t.regex(frame, /inside the ring/);
	t.regex(frame, /4 posted, not yet popped/);
	t.regex(frame, /2 popped, not yet used/);
	t.regex(frame, /total req 9000 kick 7000 irq 6000/);
	t.regex(frame, /1 used since the last interrupt check/);
});

test('without EVENT_IDX QEMU keeps no signalled-used index, and the panel counts nothing from it', t => {
	const noEventIdx: DeviceView = {...blk, queues: [{...blk.queues[0]!, signalledUsed: 0, signalledUsedValid: false}]};
	const frame = render(
		<VirtqueuePanel devices={[noEventIdx]} vmRunning lookInside width={60} height={24} />,
	).lastFrame()!;
	t.regex(frame, /in-flight 2\s+signalled –/);
	t.regex(frame, /used since the last interrupt check: – \(no EVENT_IDX\)/);
	t.notRegex(frame, /1228 used since/, 'not 1228 - 0');
});

test('a duty-cycled trace: held rates are marked ≈, and kicks and interrupts per request replace the totals', t => {
	const sampled: DeviceView = {
		...blk,
		queues: [
			{
				...blk.queues[0]!,
				ratesSampledAt: 1000,
				totals: {requests: 9000},
				windowed: {requests: 400, kicks: 400, interrupts: 396},
			},
		],
	};
	const {lastFrame} = render(<VirtqueuePanel devices={[sampled]} vmRunning lookInside width={50} height={24} />);
	const frame = lastFrame()!;
	t.regex(frame, /req\/s 57 kick\/s ≈40 irq\/s ≈38/);
	t.regex(frame, /total req 9000/);
	t.notRegex(frame, /kick 7000/);
	t.regex(frame, /per req kick 1\.00 irq 0\.99 \(400 traced\)/);
});

test('virtqueue panel says so when there is no VM', t => {
	const {lastFrame} = render(
		<VirtqueuePanel devices={[blk]} vmRunning={false} lookInside={false} width={40} height={10} />,
	);
	t.regex(lastFrame()!, /no VM running/);
	t.notRegex(lastFrame()!, /requestq/);
});

test('step log shows ticks with times, an estimated progress bar, the waiting line and the log tail', t => {
	const {lastFrame} = render(
		<StepLog
			title="Boot your kernel"
			steps={[
				{name: 'build', title: 'Build the kernel', status: 'verified', ms: 172_000, detail: 'bzImage 1.4 MB'},
				{name: 'boot', title: 'Boot it', status: 'running'},
			]}
			progress={{step: 'boot', fraction: 0.4, label: 'booting', estimated: true}}
			waiting={{step: 'boot', what: 'the shell prompt', elapsedMs: 3000, timeoutMs: 60_000}}
			log={['old line', 'newest line']}
			width={70}
			height={14}
		/>,
	);
	const frame = lastFrame()!;
	t.regex(frame, /✔ Build the kernel\s+2 min 52 s/);
	t.regex(frame, /▸ Boot it/);
	t.regex(frame, /40% booting \(estimate\)/);
	t.regex(frame, /waiting for the shell prompt — 3 s of 60 s/);
	t.regex(frame, /newest line/);
});

test('step log shows a failure with its hint', t => {
	const {lastFrame} = render(
		<StepLog
			steps={[
				{
					name: 'boot',
					title: 'Boot it',
					status: 'failed',
					ms: 60_000,
					failure: {what: 'no prompt', hint: 'look at the console', logPath: '/tmp/boot.log'},
				},
			]}
			log={[]}
			width={70}
			height={12}
		/>,
	);
	const frame = lastFrame()!;
	t.regex(frame, /✗ Boot it\s+1 min 0 s/);
	t.regex(frame, /no prompt/);
	t.regex(frame, /try: look at the console/);
	t.regex(frame, /log: \/tmp\/boot.log/);
});

test('console pane clips rows to its size and tells how to type into the guest', t => {
	const rows = ['line one', 'x'.repeat(100), '~ # '];
	const {lastFrame} = render(
		<ConsolePane
			screen={{rows, cursor: {x: 4, y: 2}}}
			focused={false}
			vmRunning
			width={42}
			height={5}
			cols={40}
			rows={2}
		/>,
	);
	const frame = lastFrame()!;
	t.regex(frame, /Tab to type into the guest/);
	t.notRegex(frame, /line one/, 'only the bottom rows fit');
	t.regex(frame, /~ #/);
	t.false(
		frame.split('\n').some(line => line.length > 42),
		'nothing wider than the pane',
	);

	const focused = render(
		<ConsolePane screen={{rows, cursor: {x: 4, y: 2}}} focused vmRunning width={42} height={5} cols={40} rows={2} />,
	);
	t.regex(focused.lastFrame()!, /Ctrl-] leaves/);
});

test('too-small says the size needed and the current size', t => {
	const {lastFrame} = render(<TooSmall columns={80} rows={24} minColumns={100} minRows={30} />);
	t.regex(lastFrame()!, /at least 100×30; this one is 80×24/);
});
