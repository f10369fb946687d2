import {toFailure} from '../lab/lab-error.js';
import {renderReport, type BenchReport} from '../lab/tune/report.js';
import type {MilestoneSummary, RunEvent} from '../runner/events.js';
import type {Workbench} from '../runner/workbench.js';
import {UsageError, type Parsed} from './args.js';
import {HumanRunPrinter} from './human-run-printer.js';

/** --seconds must be a positive number of seconds (at most 60: TCG runs are long enough). */
export function checkBenchArgs(parsed: Parsed): void {
	const value = parsed.options.get('--seconds');
	if (value === undefined) return;
	const seconds = Number(value);
	if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60)
		throw new UsageError(`--seconds takes a number of seconds in (0, 60], not "${value}".`, 'bench');
	if (parsed.flags.has('--short')) throw new UsageError('--short and --seconds are exclusive.', 'bench');
}

/**
 * `kernelcraft bench`: the tune milestone, headless, then its report as a table and a chart
 * (or, with --json, the report and the run's summary as one JSON object).
 */
export async function benchCommand(workbench: Workbench, json: boolean, out: NodeJS.WriteStream): Promise<number> {
	const printer = new HumanRunPrinter(json ? process.stderr : out);
	workbench.subscribe((event: RunEvent) => {
		if (event.type === 'log') return;
		printer.take(event);
	});
	let summary: MilestoneSummary;
	try {
		summary = await workbench.run('tune');
	} catch (error) {
		const failure = toFailure(error);
		if (json) out.write(JSON.stringify({ok: false, error: failure}) + '\n');
		else out.write(`✗ ${failure.what}\n`);
		return 1;
	}
	const report = summary.bench as BenchReport | undefined;
	if (json) {
		out.write(
			JSON.stringify({
				ok: summary.ok,
				report,
				steps: summary.steps,
				nodes: (summary.tune as {nodes?: unknown} | undefined)?.nodes,
			}) + '\n',
		);
	} else {
		if (report) out.write(`\n${renderReport(report)}\n`);
		else out.write('\nNo report: the benchmark did not finish (see the failed step above).\n');
	}
	return summary.ok && report ? 0 : 1;
}
