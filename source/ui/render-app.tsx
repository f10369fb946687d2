import {render} from 'ink';
import type {WorkbenchApi} from '../runner/workbench-api.js';
import {App} from './components/App.js';
import type {MilestoneInfo} from './milestone-info.js';

export const NOT_A_TTY_MESSAGE =
	"kernelcraft's screen needs an interactive terminal (stdin is not a TTY); run a milestone headless with: kernelcraft run <milestone> [--json]";

/**
 * Shows the TUI until the learner quits. Throws before drawing anything when stdin cannot be put
 * in raw mode (Ink would throw from inside a render otherwise). The caller disposes the workbench.
 */
export interface RenderOptions {
	onEdit?: (milestone: string) => void;
	onSetup?: (milestone: string) => void;
	autoRun?: string;
}

export async function renderApp(
	workbench: WorkbenchApi,
	milestones: MilestoneInfo[],
	options: RenderOptions = {},
): Promise<void> {
	const stdin = process.stdin;
	if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') throw new Error(NOT_A_TTY_MESSAGE);

	const instance = render(
		<App
			workbench={workbench}
			milestones={milestones}
			onEdit={options.onEdit}
			onSetup={options.onSetup}
			autoRun={options.autoRun}
		/>,
		{
			// Ctrl-C belongs to the guest while the console has focus; App quits on it otherwise.
			exitOnCtrlC: false,
			// Console output of our own would tear the frame; the host side logs to files.
			patchConsole: false,
			// A cap on top of the event throttling in useWorkbenchEvents.
			maxFps: 15,
		},
	);
	try {
		await instance.waitUntilExit();
	} finally {
		instance.cleanup();
	}
}
