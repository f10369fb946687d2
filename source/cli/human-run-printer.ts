import type {MilestoneSummary, RunEvent} from '../runner/events.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Prints a run for a person reading a terminal or a CI log: on a TTY, progress and waits redraw
 * one status line; in a log, they are printed at most every few seconds so the log stays short.
 */
export class HumanRunPrinter {
	private statusShown = false;
	private lastPrinted = 0;
	private readonly tty: boolean;
	private plannedSteps = 0;

	constructor(private readonly out: NodeJS.WriteStream) {
		this.tty = Boolean(out.isTTY);
	}

	take(event: RunEvent): void {
		switch (event.type) {
			case 'milestone-started':
				this.plannedSteps = event.steps.length;
				this.line(`kernelcraft: ${event.title} (${event.milestone}), ${event.steps.length} steps`);
				break;
			case 'accel':
				this.line(`  accelerator: ${event.choice.accel.toUpperCase()} — ${event.choice.reason}`);
				break;
			case 'step-started':
				this.line(`▸ ${event.title}`);
				break;
			case 'progress': {
				const bar = progressBar(event.fraction, 24);
				this.status(
					`  ${bar} ${Math.round(event.fraction * 100)}%${event.estimated ? ' (estimate)' : ''} ${event.label.slice(0, 60)}`,
				);
				break;
			}
			case 'waiting':
				this.status(
					`  waiting for ${event.what} — ${Math.round(event.elapsedMs / 1000)} s of ${Math.round(event.timeoutMs / 1000)} s`,
				);
				break;
			case 'verified':
				this.line(`✔ ${event.detail} (${seconds(event.ms)})`);
				break;
			case 'failed': {
				const {failure} = event;
				this.line(`✗ ${failure.what}`);
				if (failure.lastSeen?.length) {
					this.line('  last seen:');
					for (const seen of failure.lastSeen) this.line(`    ${seen}`);
				}
				if (failure.hint) this.line(`  try: ${failure.hint}`);
				if (failure.logPath) this.line(`  log: ${failure.logPath}`);
				break;
			}
			case 'notice':
				this.line(`  kernelcraft: ${event.text}`);
				break;
			case 'vm-started':
				this.line(`  QEMU started (pid ${event.pid}, ${event.accel.toUpperCase()}); logs in ${event.runDir}`);
				break;
			default:
				break;
		}
	}

	finish(summary: MilestoneSummary): void {
		const passed = summary.steps.filter(step => step.ok).length;
		const figures = Object.entries(summary).filter(([key]) => !['milestone', 'ok', 'accel', 'steps'].includes(key));
		this.line(
			summary.ok
				? `✔ ${summary.milestone} verified: ${passed}/${summary.steps.length} steps`
				: `✗ ${summary.milestone} failed at step ${passed + 1} of ${this.plannedSteps || summary.steps.length}`,
		);
		for (const [key, value] of figures)
			this.line(`  ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
	}

	private line(text: string): void {
		this.clearStatus();
		this.out.write(text + '\n');
	}

	private status(text: string): void {
		if (this.tty) {
			this.out.write(`\r\x1b[2K${text.slice(0, (this.out.columns || 100) - 1)}`);
			this.statusShown = true;
		} else if (Date.now() - this.lastPrinted > 5000) {
			this.lastPrinted = Date.now();
			this.out.write(text + '\n');
		}
	}

	private clearStatus(): void {
		if (this.statusShown) this.out.write('\r\x1b[2K');
		this.statusShown = false;
	}
}

export function progressBar(fraction: number, width: number): string {
	const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
	return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}
