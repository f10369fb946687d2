// The panel on screen (Session panelShown) duty-cycles QEMU's per-request trace: a real VM, a
// steady stream of reads, and what the learner is shown against what the guest did.
import {readFile} from 'node:fs/promises';
import test from 'ava';
import {cacheRoot} from '../../../source/lab/paths.js';
import type {QueueView} from '../../../source/lab/virtio/views.js';
import {idxDelta} from '../../../source/lab/virtio/wrap.js';
import {Session} from '../../../source/lab/session.js';
import {bootDiskVm} from '../../helpers/disk-vm.js';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test.serial('real VM, panel on screen: kick/s near the true rate from short windows, countKicks exact', async t => {
	const cacheDir = cacheRoot();
	const shown: {at: number; queue: QueueView}[] = [];
	const session = new Session({cacheDir, panelShown: true}, event => {
		if (event.type !== 'virtio') return;
		const blk = event.devices.find(device => device.name === 'virtio-blk');
		if (blk) shown.push({at: event.at, queue: blk.queues[0]!});
	});
	t.teardown(() => session.dispose());
	const {traceState: state, sh, traceLog} = await bootDiskVm(t, session, 'test-live-trace');
	const panel = session.panel!;
	const kickLines = async () =>
		(await readFile(traceLog, 'utf8')).split('\n').filter(line => /virtio_queue_notify /.test(line)).length;

	// A steady stream for 9 s by the guest's clock: one 4 KiB read in flight, so one kick each.
	const linesBefore = await kickLines();
	const from = Date.now();
	const states: string[] = [];
	const watching = (async () => {
		while (Date.now() - from < 9000) {
			states.push((await state()) ?? '?');
			await sleep(100);
		}
	})();
	await sh(
		'end=$(($(cut -d. -f1 /proc/uptime)+9)); while [ $(cut -d. -f1 /proc/uptime) -lt $end ]; do dd if=/dev/vda of=/dev/null bs=4096 count=2048 iflag=direct 2>/dev/null; done',
		120_000,
	);
	const to = Date.now();
	await watching;
	// The true rate: requests from the used index (exact in every sample; one kick each here),
	// leaving out its first second and its end.
	const during = shown.filter(s => s.at > from + 1000 && s.at < to - 500);
	const requests = during.at(-1)!.queue.totals.requests - during[0]!.queue.totals.requests;
	const trueRate = requests / ((during.at(-1)!.at - during[0]!.at) / 1000);
	const measured = during.filter(s => s.queue.ratesSampledAt === undefined && s.queue.rates.kicks !== undefined);
	const held = during.filter(s => s.queue.ratesSampledAt !== undefined);
	const traced = (await kickLines()) - linesBefore;
	const stream = shown.filter(s => s.at >= from && s.at <= to);
	const streamRequests = stream.at(-1)!.queue.totals.requests - stream[0]!.queue.totals.requests;
	t.log(
		`stream: ${requests} requests in ${((to - from) / 1000).toFixed(1)} s, ~${Math.round(trueRate)}/s; panel: ${measured.length} samples measured, ${held.length} held; kick/s shown ${measured.map(s => Math.round(s.queue.rates.kicks!)).join(' ')}; trace had ${traced} kick lines for ${streamRequests} requests; events ${states.filter(s => s === 'enabled').length}/${states.length} polls enabled`,
	);
	t.true(trueRate > 100, 'a stream worth the name');
	t.true(measured.length >= 2, 'windows measured rates');
	t.true(held.length >= 2, 'between windows the rate was held, marked');
	// A held rate is dropped (–) where the request rate moved away from the one it was measured at
	// (a gap between two dd runs); never shown as 0 while reads flow.
	const blank = during.filter(s => s.queue.rates.kicks === undefined).length;
	t.true(blank <= during.length * 0.3, `${blank} of ${during.length} samples showed no kick rate`);
	for (const s of during) t.not(s.queue.rates.kicks, 0, 'never a false 0');
	for (const s of [...measured, ...held]) {
		const ratio = s.queue.rates.kicks! / trueRate;
		t.true(
			ratio > 0.5 && ratio < 2,
			`kick/s ${Math.round(s.queue.rates.kicks!)} against ~${Math.round(trueRate)} true`,
		);
	}
	const enabled = states.filter(s => s === 'enabled').length / states.length;
	t.true(enabled > 0.02 && enabled < 0.5, `the events were on ${Math.round(enabled * 100)} % of the time`);
	t.true(traced < streamRequests * 0.6, `the trace saw ${traced} of ~${streamRequests} kicks: only the windows`);
	const last = during.at(-1)!.queue;
	t.truthy(last.windowed);
	t.is(last.totals.kicks, undefined, 'no total of every kick shown: the windows do not see every kick');
	// One read in flight: one kick per request. A sample reads the trace just after QMP's answer,
	// and under load that gap varies from one sample to the next, so a window's kicks and requests
	// are counted over ends a few tens of ms apart: 1.13 was seen with CI's tests beside it.
	const perRequest = last.windowed!.kicks / last.windowed!.requests;
	t.true(perRequest > 0.8 && perRequest < 1.25, `kicks per request in the windows ${perRequest}`);

	// A counting window spanning more than a period: on throughout, and exact.
	const counted = await panel.countKicks(async () => {
		const blk = async () => (await panel.sampleNow()).find(device => device.name === 'virtio-blk')!.queues[0]!;
		const first = await blk();
		await sh('dd if=/dev/vda of=/dev/null bs=4096 count=32 skip=100 iflag=direct 2>/dev/null');
		const seen: string[] = [];
		for (let i = 0; i < 20; i++) {
			seen.push((await state()) ?? '?');
			await sleep(200);
		}
		await sh('dd if=/dev/vda of=/dev/null bs=4096 count=32 skip=300 iflag=direct 2>/dev/null');
		const last = await blk();
		return {
			requests: idxDelta(first.usedIdx, last.usedIdx),
			kicks: (last.totals.kicks ?? 0) - (first.totals.kicks ?? 0),
			seen,
		};
	});
	t.is(counted.requests, 64);
	t.is(counted.kicks, 64, 'every kick counted, though the duty cycle closed windows meanwhile');
	t.deepEqual(new Set(counted.seen), new Set(['enabled']), 'on for the whole window');

	// withoutCounting: off throughout, whatever the cycle wants.
	const quiet = await panel.withoutCounting(async () => {
		const seen: string[] = [];
		for (let i = 0; i < 20; i++) {
			seen.push((await state()) ?? '?');
			await sleep(200);
		}
		return seen;
	});
	t.deepEqual(new Set(quiet), new Set(['disabled']));
});
