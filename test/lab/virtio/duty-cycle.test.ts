import test from 'ava';
import {DutyCycle, type DutyTimers} from '../../../source/lab/virtio/duty-cycle.js';
import {HeldRates, rateMoved} from '../../../source/lab/virtio/held-rates.js';
import type {DeviceView, QueueView} from '../../../source/lab/virtio/views.js';

/** A clock and timers the test moves by hand. */
class FakeTime implements DutyTimers {
	now = 0;
	private pending = new Map<number, {at: number; run: () => void}>();
	private next = 1;
	set(run: () => void, ms: number): unknown {
		const id = this.next++;
		this.pending.set(id, {at: this.now + ms, run});
		return id;
	}
	clear(handle: unknown): void {
		this.pending.delete(handle as number);
	}
	get timers(): number {
		return this.pending.size;
	}
	/** Moves the clock, running each timer that falls due, in order. */
	advance(ms: number): void {
		const end = this.now + ms;
		for (;;) {
			const due = [...this.pending].filter(([, timer]) => timer.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
			if (!due) break;
			this.pending.delete(due[0]);
			this.now = due[1].at;
			due[1].run();
		}
		this.now = end;
	}
}

function cycle(time: FakeTime) {
	const switches: [number, boolean][] = [];
	const duty = new DutyCycle({
		periodMs: 3000,
		maxOnMs: 1500,
		onSwitch: on => switches.push([time.now, on]),
		timers: time,
		now: () => time.now,
	});
	return {duty, switches};
}

test('a window opens at start, closes once a whole interval was measured, and opens again a period after it opened', t => {
	const time = new FakeTime();
	const {duty, switches} = cycle(time);
	duty.start();
	t.true(duty.open);
	time.advance(300); // two samples at 4 Hz: one whole interval inside the window
	duty.measured();
	t.false(duty.open);
	time.advance(2699);
	t.false(duty.open);
	time.advance(1);
	t.true(duty.open, 'the next window, 3 s after the first opened');
	t.deepEqual(switches, [
		[0, true],
		[300, false],
		[3000, true],
	]);
});

test('a window nobody measured in closes after maxOnMs', t => {
	const time = new FakeTime();
	const {duty, switches} = cycle(time);
	duty.start();
	time.advance(1500);
	t.false(duty.open);
	time.advance(1500);
	t.true(duty.open);
	t.deepEqual(switches, [
		[0, true],
		[1500, false],
		[3000, true],
	]);
});

test('measured() between windows switches nothing (a counting window measured, not the duty cycle)', t => {
	const time = new FakeTime();
	const {duty, switches} = cycle(time);
	duty.start();
	duty.measured();
	duty.measured();
	time.advance(1000);
	duty.measured();
	t.deepEqual(switches, [
		[0, true],
		[0, false],
	]);
});

test('paused (the guest held by a debugger): no switch at all, and no timer left; start() resumes', t => {
	const time = new FakeTime();
	const {duty, switches} = cycle(time);
	duty.start();
	duty.pause();
	t.is(time.timers, 0, 'nothing left to keep node alive');
	duty.measured();
	time.advance(10_000);
	t.deepEqual(switches, [[0, true]], 'left on as it was: nothing switched while paused');
	duty.start();
	time.advance(1500);
	t.deepEqual(switches, [
		[0, true],
		[11_500, false],
	]);
	duty.pause();
	time.advance(10_000);
	t.is(switches.length, 2);
	duty.start();
	t.true(duty.open, 'resumed with a window: a fresh rate at once');
});

test('rateMoved: twice or half the request rate the held rate was measured at, a trickle aside', t => {
	t.true(rateMoved(0, 10_000), 'idle when measured, a stream now');
	t.true(rateMoved(10_000, 0));
	t.true(rateMoved(1000, 2500));
	t.false(rateMoved(1000, 1900));
	t.false(rateMoved(1000, 600));
	t.false(rateMoved(0, 12), 'a trickle');
});

function queue(rates: QueueView['rates']): QueueView {
	return {
		index: 0,
		size: 256,
		availIdx: 0,
		lastAvailIdx: 0,
		usedIdx: 0,
		signalledUsed: 0,
		inFlight: 0,
		rates,
		totals: {requests: 0},
		history: [],
	};
}

const device = (rates: QueueView['rates']): DeviceView[] => [
	{path: '/d', name: 'virtio-blk', status: [], features: [], queues: [queue(rates)]},
];

test('between windows the last measured rates are shown, marked with when they were measured', t => {
	const held = new HeldRates();
	t.deepEqual(held.fill(device({requests: 5}), 100)[0]!.queues[0]!.rates, {requests: 5}, 'nothing measured yet');
	const measured = held.fill(device({requests: 1000, kicks: 1000, interrupts: 900}), 200)[0]!.queues[0]!;
	t.is(measured.ratesSampledAt, undefined, 'measured now: not marked');
	const between = held.fill(device({requests: 1100}), 450)[0]!.queues[0]!;
	t.deepEqual(between.rates, {requests: 1100, kicks: 1000, interrupts: 900});
	t.is(between.ratesSampledAt, 200);
	const next = held.fill(device({requests: 0, kicks: 0, interrupts: 0}), 3200)[0]!.queues[0]!;
	t.deepEqual(next.rates, {requests: 0, kicks: 0, interrupts: 0}, 'a measured 0 is a true 0');
	t.is(held.fill(device({requests: 0}), 3450)[0]!.queues[0]!.ratesSampledAt, 3200);
	const stream = held.fill(device({requests: 9000}), 3700)[0]!.queues[0]!;
	t.deepEqual(stream.rates, {requests: 9000}, 'a 0 measured while idle does not stand for a stream: no rate');
	t.is(stream.ratesSampledAt, undefined);
});
