import type {MilestoneSummary, RunEvent} from '../../source/runner/events.js';
import type {HintShown} from '../../source/runner/hints.js';
import type {StepProgress} from '../../source/runner/progress-store.js';
import type {GdbAction, WorkbenchApi} from '../../source/runner/workbench-api.js';
import type {MilestoneInfo} from '../../source/ui/milestone-info.js';

/** A WorkbenchApi that records what the UI asked for and lets a test push events. UI tests only. */
export class FakeWorkbench implements WorkbenchApi {
	readonly runs: string[] = [];
	readonly sent: string[] = [];
	readonly resizes: Array<[number, number]> = [];
	cancels = 0;
	disposed = 0;
	private readonly listeners = new Set<(event: RunEvent) => void>();

	constructor(
		private readonly verified: string[] = [],
		private readonly warning?: string,
	) {}

	emit(...events: RunEvent[]): void {
		for (const event of events) for (const listener of this.listeners) listener(event);
	}

	get listenerCount(): number {
		return this.listeners.size;
	}

	subscribe(listener: (event: RunEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	async run(milestone: string): Promise<MilestoneSummary> {
		this.runs.push(milestone);
		return {milestone, ok: true, steps: []};
	}

	async cancel(): Promise<void> {
		this.cancels++;
	}

	readonly answers: number[] = [];
	demos = 0;
	readonly hints: string[] = [];
	/** Whether answer() finds a prediction being asked (a test sets it). */
	asking = true;

	answer(value: number): boolean {
		if (!this.asking) return false;
		this.answers.push(value);
		return true;
	}

	demo(): void {
		this.demos++;
	}

	async hint(milestone: string): Promise<HintShown | undefined> {
		this.hints.push(milestone);
		return undefined;
	}

	readonly gdbActions: GdbAction[] = [];
	readonly gdbTyped: string[] = [];

	async gdb(action: GdbAction): Promise<void> {
		this.gdbActions.push(action);
	}

	sendToGdb(data: string): void {
		this.gdbTyped.push(data);
	}

	sendToConsole(data: string): void {
		this.sent.push(data);
	}

	resizeConsole(cols: number, rows: number): void {
		this.resizes.push([cols, rows]);
	}

	lookInside: boolean[] = [];

	setLookInside(on: boolean): void {
		this.lookInside.push(on);
	}

	backgroundToggles = 0;
	backgroundStops = 0;

	toggleBackgroundBuild(): void {
		this.backgroundToggles++;
	}

	async stopBackgroundBuild(): Promise<void> {
		this.backgroundStops++;
	}

	/** What hostNeeds answers, by milestone (a test sets it). */
	needs: Record<string, string[]> = {};

	hostNeeds(milestone: string): string[] {
		return this.needs[milestone] ?? [];
	}

	editableFile(milestone: string): string | undefined {
		return milestone === 'hello-module' ? '/src/drivers/hello/hello.c' : undefined;
	}

	/** What stepRecords answers, by milestone (a test sets it). */
	records: Record<string, Record<string, StepProgress>> = {};

	stepRecords(milestone: string): Record<string, StepProgress> {
		return this.records[milestone] ?? {};
	}

	verifiedMilestones(): string[] {
		return this.verified;
	}

	stateWarning(): string | undefined {
		return this.warning;
	}

	async dispose(): Promise<void> {
		this.disposed++;
	}
}

export const MILESTONES: MilestoneInfo[] = [
	{
		id: 'boot',
		title: 'Boot your kernel',
		summary: 'Build a tiny kernel and boot it in QEMU.',
		steps: [
			{id: 'build', title: 'Build the kernel', lesson: 'make tinyconfig gives the smallest kernel that boots.'},
			{id: 'boot', title: 'Boot it', lesson: 'QEMU loads bzImage and the initramfs straight into memory.'},
		],
	},
	{
		id: 'modules',
		title: 'Kernel modules',
		summary: 'Load your own module.',
		steps: [{id: 'insmod', title: 'Load it', lesson: 'insmod links the module into the running kernel.'}],
	},
	{
		id: 'new-device',
		title: 'A new virtio device',
		summary: 'Add a device to QEMU.',
		steps: [{id: 'device', title: 'Build the device', lesson: 'A virtio device is a QEMU object with queues.'}],
	},
];

export const delay = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/**
 * Polls until `check` holds (Ink re-renders asynchronously; a fixed sleep is either slow or
 * flaky on a loaded machine). Returns whether it held, for the test to assert.
 */
export async function until(check: () => boolean, timeoutMs = 3000): Promise<boolean> {
	const end = Date.now() + timeoutMs;
	while (Date.now() < end) {
		if (check()) return true;
		await delay(10);
	}

	return check();
}
