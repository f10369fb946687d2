import {spawn} from 'node:child_process';
import {countedSeconds} from '../../source/lab/tune/bench.js';
import {benchTable, targetLines, type BenchReport} from '../../source/lab/tune/report.js';
import {cliPath} from './tui-pty.js';

export const tuneStartMarker = '<!-- tune:start -->';
export const tuneEndMarker = '<!-- tune:end -->';

/**
 * `kernelcraft bench --json`, as a learner would run it: the tune milestone's report. Progress
 * lines (stderr) go to `log`. Rejects when the run fails or prints no report.
 */
export async function runTuneBench(log: (line: string) => void, seconds?: number): Promise<BenchReport> {
	const args = ['bench', '--json', ...(seconds === undefined ? [] : ['--seconds', String(seconds)])];
	const child = spawn(process.execPath, [cliPath, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
	let pending = '';
	child.stderr.on('data', (chunk: Buffer) => {
		const lines = (pending + chunk.toString('utf8')).split('\n');
		pending = lines.pop() ?? '';
		for (const line of lines) if (line.trim()) log(`tune: ${line}`);
	});
	const code = await new Promise<number | null>(resolve => child.on('exit', resolve));
	const last = JSON.parse(stdout.trim().split('\n').at(-1) || '{}') as {
		ok?: boolean;
		report?: BenchReport;
		error?: {what: string};
	};
	if (code !== 0 || !last.ok || !last.report)
		throw new Error(`kernelcraft ${args.join(' ')} exited ${code}: ${last.error?.what ?? 'no report'}`);
	return last.report;
}

/** The README's tune section body, every figure from this run's report. Pure. */
export function tuneMarkdown(report: BenchReport, meta: {date: string; machine: string; command: string}): string {
	const accel = report.accel ? report.accel.toUpperCase() : 'unknown accelerator';
	return [
		`Measured ${meta.date} on ${meta.machine}, ${accel}, ${report.secondsPerVariant} s per variant, every variant in one VM.`,
		`Command: \`${meta.command}\` (this section is written by it; do not edit by hand).`,
		'',
		'```',
		...benchTable(report.results),
		'```',
		'',
		'Targets (ratios within this run):',
		'',
		...targetLines(report.targets).map(line => `- ${line}`),
		'',
		'"latency of": one latency sample times one syscall, so for a batched variant it covers the whole',
		"ioctl of 64 requests. kicks/req and irqs/req: QEMU's trace counts ÷ the requests the device itself",
		`counted, over a counted run of ${countedSeconds} s just before the timed one (the only time the trace`,
		"records each kick: it is off during timed runs). For every variant, in both runs, the guest's count,",
		"the driver's, the device's 64-bit counter and the used index agreed (in the counted run the driver's",
		"kicks matched the trace's too), and so did the panel's total: exactly where its samples came often",
		'enough for the rate (past that a 16-bit total cannot be checked; the run fails on any other mismatch).',
		'',
		...(report.notes ?? []).flatMap(note => [`- ${note}`]),
	].join('\n');
}
