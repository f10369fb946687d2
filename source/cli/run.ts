import {findMilestone, milestones} from '../expedition/milestones.js';
import {toFailure} from '../lab/lab-error.js';
import type {RunEvent} from '../runner/events.js';
import type {Workbench} from '../runner/workbench.js';
import {UsageError} from './args.js';
import {HumanRunPrinter} from './human-run-printer.js';

/** `kernelcraft run <milestone> [--json]`: the same event stream as the TUI, printed. */
export async function runCommand(
	workbench: Workbench,
	id: string,
	json: boolean,
	out: NodeJS.WriteStream,
): Promise<number> {
	const milestone = findMilestone(id);
	if (!milestone)
		throw new UsageError(`There is no milestone "${id}". Milestones: ${milestones.map(m => m.id).join(', ')}.`, 'run');
	const printer = json ? undefined : new HumanRunPrinter(out);
	const unsubscribe = workbench.subscribe((event: RunEvent) => {
		if (json) {
			// The screen snapshots are for the TUI; the summary is printed last, on its own.
			if (event.type !== 'console-screen' && event.type !== 'milestone-finished')
				out.write(JSON.stringify(event) + '\n');
		} else {
			printer!.take(event);
		}
	});
	try {
		const summary = await workbench.run(id);
		// What comes after (a gdb detaching, the VM powering off) is not the run's: the summary is
		// the last line.
		unsubscribe();
		if (json) out.write(JSON.stringify(summary) + '\n');
		else printer!.finish(summary);
		return summary.ok ? 0 : 1;
	} catch (error) {
		const failure = toFailure(error);
		if (json) out.write(JSON.stringify({milestone: id, ok: false, accel: undefined, steps: [], error: failure}) + '\n');
		else out.write(`✗ ${failure.what}\n`);
		return 1;
	}
}
