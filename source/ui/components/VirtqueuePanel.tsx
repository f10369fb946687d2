import {Box, Text} from 'ink';
import type {DeviceView, GuestView, QueueView} from '../../runner/events.js';
import type {WalkStopView} from '../state.js';
import {clip, formatRate, ringDistance, shortFeature, shortStatus, sparkline} from '../format.js';

export interface VirtqueuePanelProps {
	devices: readonly DeviceView[];
	guest?: GuestView;
	vmRunning: boolean;
	/** `i`: explain what the indices mean right now, and show totals and the guest's in-flight. */
	lookInside: boolean;
	/** The request walk's stops (gdb): what each side saw of the queue when it stopped. */
	walkStops?: readonly WalkStopView[];
	width: number;
	height: number;
}

/** kicks or interrupts per request, over what the trace's windows saw. */
function perRequest(count: number, requests: number): string {
	return requests > 0 ? (count / requests).toFixed(2) : '–';
}

function queueLines(q: QueueView, lookInside: boolean, inner: number): string[] {
	// ≈: measured in the last trace window, not in this interval (the trace is duty-cycled).
	const sampled = q.ratesSampledAt !== undefined ? '≈' : '';
	const lines = [
		`q${q.index}${q.name ? ` ${q.name}` : ''}  size ${q.size}`,
		` avail ${q.availIdx}  last ${q.lastAvailIdx}  used ${q.usedIdx}`,
		` in-flight ${q.inFlight}  signalled ${q.signalledUsedValid === false ? '–' : q.signalledUsed}`,
		` req/s ${formatRate(q.rates.requests)} kick/s ${sampled}${formatRate(q.rates.kicks)} irq/s ${sampled}${formatRate(q.rates.interrupts)}`,
		` ${sparkline(q.history, inner - 1)}`,
	];
	if (lookInside) {
		// The three indices tell the whole story of a request: the driver publishes it (avail),
		// the device pops it (last-avail), the device returns it (used).
		lines.push(
			` ${ringDistance(q.lastAvailIdx, q.availIdx)} posted, not yet popped`,
			` ${ringDistance(q.usedIdx, q.lastAvailIdx)} popped, not yet used`,
			// QEMU keeps signalled-used only under EVENT_IDX (virtio_split_should_notify): without
			// it the NO_INTERRUPT flag alone decides, and there is no index to count from.
			q.signalledUsedValid === false
				? ' used since the last interrupt check: – (no EVENT_IDX)'
				: ` ${ringDistance(q.signalledUsed, q.usedIdx)} used since the last interrupt check`,
		);
		// With the trace duty-cycled there is no total of every kick; what its windows tell
		// exactly is how many kicks and interrupts a request costs.
		if (q.totals.kicks === undefined && q.windowed)
			lines.push(
				` total req ${q.totals.requests}`,
				` per req kick ${perRequest(q.windowed.kicks, q.windowed.requests)} irq ${perRequest(q.windowed.interrupts, q.windowed.requests)} (${q.windowed.requests} traced)`,
			);
		else lines.push(` total req ${q.totals.requests} kick ${q.totals.kicks ?? '–'} irq ${q.totals.interrupts ?? '–'}`);
		// Chains are read from guest memory, never through QEMU's element query (which can break a
		// device on a reclaimed chain). A posted, not yet taken chain is exact; a taken one may be
		// done and its descriptors reused by now.
		if (q.ring) {
			lines.push(
				` chain @avail[${q.ring.position}] head d${q.ring.head}${q.ring.pending ? ' (posted, not taken: exact)' : ' (taken: as memory holds it now)'}`,
			);
			for (const d of q.ring.descriptors) lines.push(`  ${d.addr} ${d.len}B ${d.flags.join(',') || 'read'}`);
		}
	}

	return lines;
}

function deviceLines(d: DeviceView, lookInside: boolean, inner: number): string[] {
	const features = d.features.map(shortFeature).join(' ');
	return [
		`${d.name}  ${d.status.map(shortStatus).join(' ')}`,
		`feat ${features || '(none yet)'}`,
		...d.queues.flatMap(q => queueLines(q, lookInside, inner)),
	];
}

/**
 * The walk's stops, first: while gdb holds the guest the live counters are frozen, and these are
 * the indices each side read at its stop (the driver's shadow avail index runs ahead of what the
 * device has popped; the device's used index is one behind until it flushes).
 */
export function walkLines(stops: readonly WalkStopView[]): string[] {
	const lines = ['gdb walk: one request'];
	for (const stop of stops) {
		lines.push(`${stop.n} ${stop.side} in ${stop.where}`);
		if (stop.indices) lines.push(`  ${stop.indices}`);
		if (stop.descriptor) lines.push(`  descriptor 0 @ ${stop.descriptor}`);
	}
	return lines;
}

function guestLines(guest: GuestView, lookInside: boolean): string[] {
	const lines = ['guest /proc/interrupts'];
	const entries = Object.entries(guest.interrupts);
	if (entries.length === 0) lines.push(' (no virtio lines)');
	for (const [name, count] of entries) lines.push(` ${name} ${count}`);
	if (lookInside && guest.inflight) {
		for (const [dev, {reads, writes}] of Object.entries(guest.inflight)) {
			lines.push(` ${dev} in flight: r ${reads} w ${writes}`);
		}
	}

	return lines;
}

/**
 * The virtqueues as QEMU sees them (host view) next to what the guest counts (its interrupts):
 * the point of the expedition is to watch both sides of the ring move.
 */
export function VirtqueuePanel({devices, guest, vmRunning, lookInside, walkStops, width, height}: VirtqueuePanelProps) {
	const inner = width - 2;
	let lines: string[];
	if (!vmRunning) lines = ['no VM running'];
	else if (devices.length === 0) lines = ['no virtio devices sampled yet'];
	else {
		lines = devices.flatMap(d => deviceLines(d, lookInside, inner));
		if (guest) lines.push(...guestLines(guest, lookInside));
	}
	if (walkStops?.length) lines = [...walkLines(walkStops), ...lines];

	return (
		<Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="gray" overflow="hidden">
			<Text bold wrap="truncate">
				virtqueues{lookInside ? ' (inside the ring)' : ''}
			</Text>
			{lines.slice(0, height - 3).map((line, index) => (
				<Text key={index} wrap="truncate" dimColor={!vmRunning}>
					{clip(line, inner)}
				</Text>
			))}
		</Box>
	);
}
