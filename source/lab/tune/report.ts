// The benchmark as text for a terminal: a table, a bar chart of ops/s, the targets. Pure.

import type {Target, VariantResult} from './bench.js';

export interface BenchReport {
	accel?: string;
	secondsPerVariant: number;
	results: VariantResult[];
	targets: Target[];
	/** What the numbers mean, with the numbers in it. */
	notes?: string[];
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const grouped = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');

function pad(text: string, width: number, right = false): string {
	const n = [...text].length;
	if (n >= width) return text;
	return right ? ' '.repeat(width - n) + text : text + ' '.repeat(width - n);
}

/**
 * What one latency sample times: the syscall that carried the request, so for a batched variant
 * one sample is a whole ioctl of `batch` requests, not one request.
 */
export function latencyUnit(r: Pick<VariantResult, 'inFlight' | 'guest'>): string {
	const batch = r.guest.batch ?? r.inFlight;
	return batch > 1 ? `per ${batch}-request call` : 'per request';
}

export function benchTable(results: readonly VariantResult[]): string[] {
	const header = [
		'variant',
		'in flight',
		'ops/s',
		'MB/s',
		'p50 µs',
		'p99 µs',
		'latency of',
		'requests',
		'kicks/req',
		'irqs/req',
	];
	const rows = results.map(r => [
		r.title,
		String(r.inFlight),
		grouped(r.guest.opsPerSec),
		fixed(r.guest.mbPerSec, 2),
		fixed(r.guest.p50Us, 1),
		fixed(r.guest.p99Us, 1),
		(r.guest.batch ?? r.inFlight) > 1 ? `${r.guest.batch ?? r.inFlight} requests` : '1 request',
		String(r.host.requests),
		fixed(r.kicksPerRequest, 3),
		fixed(r.interruptsPerRequest, 3),
	]);
	const widths = header.map((h, i) => Math.max([...h].length, ...rows.map(row => [...row[i]!].length)));
	const line = (cells: string[]) => cells.map((cell, i) => pad(cell, widths[i]!, i > 0)).join('  ');
	return [line(header), widths.map(w => '─'.repeat(w)).join('  '), ...rows.map(line)];
}

/** One bar per variant, scaled to the fastest; eighth-block resolution. */
export function opsChart(results: readonly VariantResult[], width = 40): string[] {
	const max = Math.max(...results.map(r => r.guest.opsPerSec).filter(Number.isFinite), 1);
	const labelWidth = Math.max(...results.map(r => [...r.title].length));
	const eighths = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
	return results.map(r => {
		const units = Number.isFinite(r.guest.opsPerSec) ? Math.round((r.guest.opsPerSec / max) * width * 8) : 0;
		const bar = '█'.repeat(Math.floor(units / 8)) + eighths[units % 8]!;
		return `${pad(r.title, labelWidth)} │${pad(bar, width)} ${grouped(r.guest.opsPerSec)} ops/s`;
	});
}

export function targetLines(targets: readonly Target[]): string[] {
	return targets.map(
		t => `${t.met ? '✔ met    ' : '✗ not met'}  ${t.label}: ${fixed(t.value, t.value < 1 ? 3 : 2)} (target ${t.goal})`,
	);
}

export function renderReport(report: BenchReport): string {
	return [
		`kernelcraft bench — ${report.accel ? report.accel.toUpperCase() : '?'}, ${report.secondsPerVariant} s per variant, all in one VM`,
		'',
		...benchTable(report.results),
		'',
		'ops/s',
		...opsChart(report.results),
		'',
		'targets',
		...targetLines(report.targets),
		'',
		...(report.notes ?? []).flatMap(note => [note, '']),
		'latency: wall time of one syscall. For one request in flight that is one request; for a batched variant it is the whole ioctl ("latency of 64 requests"), and every request in it completes for its caller when the ioctl returns.',
		"kicks and interrupts: QEMU's trace (ioeventfd=off, so one trace line per guest notify write) ÷ the requests the device itself counted (its 64-bit counter), over a counted run of the same command (0.05 s) just before the timed one; there the driver's own kick count matched the trace's. The trace is off during timed runs (a line per kick would slow them and fill the disk). In both runs the guest's count and the used index matched the device's, and the panel's total too (exactly where its samples were close enough for the rate, else modulo 65536).",
	].join('\n');
}
