import {Box} from 'ink';
import type {Layout} from '../layout.js';
import type {MilestoneInfo} from '../milestone-info.js';
import type {UiState} from '../state.js';
import {Checklist} from './Checklist.js';
import {ConsolePane} from './ConsolePane.js';
import {VirtqueuePanel} from './VirtqueuePanel.js';
import {StepLog} from './StepLog.js';
import {Lesson} from './Lesson.js';

export interface PanesProps {
	layout: Layout;
	state: UiState;
	milestones: readonly MilestoneInfo[];
	lesson: {title: string; text: string};
	consoleFocused: boolean;
}

/**
 * Everything between the header and the footer. The full layout shows every pane; the compact one
 * shows the checklist and the one pane `state.mainPane` names (the console whenever it has focus).
 */
export function Panes({layout, state, milestones, lesson, consoleFocused}: PanesProps) {
	const active = milestones.find(m => m.id === state.activeMilestone);
	const checklist = (
		<Checklist
			milestones={milestones}
			statuses={state.milestones}
			selected={state.selected}
			focused={!consoleFocused}
			width={layout.checklistWidth}
			height={layout.middleHeight}
		/>
	);
	const console = (
		<ConsolePane
			screen={state.console}
			focused={consoleFocused}
			vmRunning={state.vm.running}
			width={layout.consoleWidth}
			height={layout.middleHeight}
			cols={layout.consoleCols}
			rows={layout.consoleRows}
		/>
	);
	const panel = (
		<VirtqueuePanel
			devices={state.devices}
			guest={state.guest}
			vmRunning={state.vm.running}
			lookInside={state.lookInside}
			width={layout.panelWidth}
			height={layout.middleHeight}
		/>
	);
	const stepLog = (height: number) => (
		<StepLog
			title={active?.title}
			steps={state.steps}
			progress={state.progress}
			waiting={state.waiting}
			log={state.log}
			width={layout.stepLogWidth}
			height={height}
		/>
	);
	const lessonPane = (height: number) => (
		<Lesson title={lesson.title} text={lesson.text} width={layout.lessonWidth} height={height} />
	);

	if (layout.compact) {
		const pane = consoleFocused ? 'console' : state.mainPane;
		const lessonHeight = layout.bodyHeight - layout.compactStepLogHeight;
		return (
			<Box height={layout.bodyHeight} overflow="hidden">
				{checklist}
				{pane === 'console' && console}
				{pane === 'panel' && panel}
				{pane === 'lesson' && (
					<Box flexDirection="column" width={layout.mainWidth} height={layout.bodyHeight}>
						{stepLog(layout.compactStepLogHeight)}
						{lessonPane(lessonHeight)}
					</Box>
				)}
			</Box>
		);
	}

	return (
		<>
			<Box height={layout.middleHeight} overflow="hidden">
				{checklist}
				{console}
				{panel}
			</Box>
			<Box height={layout.bottomHeight} overflow="hidden">
				{stepLog(layout.bottomHeight)}
				{lessonPane(layout.bottomHeight)}
			</Box>
		</>
	);
}
