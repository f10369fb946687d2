import type {MilestoneSummary, RunEvent} from './events.js';
import type {HintShown} from './hints.js';
import type {StepProgress} from './progress-store.js';

export type GdbAction = 'start' | 'continue' | 'step' | 'next' | 'finish' | 'backtrace' | 'interrupt' | 'quit';

/**
 * What the TUI may ask of the host side. The UI holds one of these and never spawns anything
 * itself; tests of UI components pass a fake of this interface.
 */
export interface WorkbenchApi {
	/** Every event of every run, in order. Returns an unsubscribe function. */
	subscribe(listener: (event: RunEvent) => void): () => void;
	/** Runs a milestone; the VM it boots stays up afterwards for the learner to use. */
	run(milestone: string): Promise<MilestoneSummary>;
	/** Cancels the run in progress (if any) and stops its VM. */
	cancel(): Promise<void>;
	/** The learner's number for the prediction being asked; false when no step is asking. */
	answer(value: number): boolean;
	/** Kernelcraft does the step in progress and the rest of the run (demo). */
	demo(): void;
	/** The next hint for the current step of this milestone (also sent as a `hint` event). */
	hint(milestone: string): Promise<HintShown | undefined>;
	/** Keys typed by the learner into the guest's serial console. */
	sendToConsole(data: string): void;
	/**
	 * The gdb pane: `start` attaches gdb to the running VM (booted with --debug), the others act
	 * on it; `quit` detaches (the guest runs on). Rejects with why gdb cannot start.
	 */
	gdb(action: GdbAction): Promise<void>;
	/** Keys typed into gdb itself (Tab in the gdb pane). */
	sendToGdb(data: string): void;
	/** The console pane's size changed: the headless terminal and the pty follow it. */
	resizeConsole(cols: number, rows: number): void;
	/** "Look inside the ring" on or off: the panel then also fetches descriptor chains. */
	setLookInside(on: boolean): void;
	/** The source file the learner edits for this milestone (the edit loop), if it has one. */
	editableFile(milestone: string): string | undefined;
	/**
	 * What the host still lacks for this milestone (Debian packages, QEMU's source entry), named
	 * for a person; empty when it has everything. `kernelcraft setup` installs all of it.
	 */
	hostNeeds(milestone: string): string[];
	/** Pauses the build running in the background (QEMU), or resumes it when paused. */
	toggleBackgroundBuild(): void;
	/** Stops the background build; the milestone that needs it builds it then. */
	stopBackgroundBuild(): Promise<void>;
	/** What the learner did in each step of a milestone, from the progress file (by step id). */
	stepRecords(milestone: string): Record<string, StepProgress>;
	/** Milestones verified in earlier runs, from the state file. */
	verifiedMilestones(): string[];
	/** A problem with the state file found at start (it was set aside), to show once. */
	stateWarning(): string | undefined;
	/** Stops everything the workbench started. Safe to call twice. */
	dispose(): Promise<void>;
}
