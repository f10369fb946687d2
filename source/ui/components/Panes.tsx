import {Box} from 'ink';
import type {Layout} from '../layout.js';
import type {MilestoneInfo} from '../milestone-info.js';
import type {UiState} from '../state.js';
import {Checklist} from './Checklist.js';
import {ConsolePane} from './ConsolePane.js';
import {VirtqueuePanel} from './VirtqueuePanel.js';
import {StepLog} from './StepLog.js';
import {Lesson} from './Lesson.js';
import {GdbPane} from './GdbPane.js';

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
	const gdbFocus = state.focus === 'gdb' ? 'gdb' : state.focus === 'gdb-input' ? 'input' : undefined;
	const checklist = (
		<Checklist
			milestones={milestones}
			statuses={state.milestones}
			selected={state.selected}
			focused={!consoleFocused && !gdbFocus}
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
	// The gdb pane is open from `g` until gdb is gone and the learner has left it.
	const gdbOpen = state.gdb !== undefined && (state.gdb.state !== 'gone' || gdbFocus !== undefined);
	const gdbPane = (width: number, height: number) =>
		state.gdb ? <GdbPane gdb={state.gdb} focus={gdbFocus} width={width} height={height} /> : null;
	const panel = (width = layout.panelWidth) => (
		<VirtqueuePanel
			devices={state.devices}
			guest={state.guest}
			vmRunning={state.vm.running}
			lookInside={state.lookInside}
			{...(state.walkStops ? {walkStops: state.walkStops} : {})}
			width={width}
			height={layout.middleHeight}
		/>
	);
	// The milestone Enter refused for want of host packages, while it is still the one selected.
	const blocked = state.blocked && state.order[state.selected] === state.blocked.milestone ? state.blocked : undefined;
	const stepLog = (height: number) => (
		<StepLog
			title={blocked ? milestones.find(m => m.id === blocked.milestone)?.title : active?.title}
			blocked={blocked}
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
		const pane = consoleFocused ? 'console' : gdbFocus ? 'gdb' : state.mainPane;
		const lessonHeight = layout.bodyHeight - layout.compactStepLogHeight;
		return (
			<Box height={layout.bodyHeight} overflow="hidden">
				{checklist}
				{pane === 'console' && console}
				{pane === 'panel' && panel()}
				{pane === 'gdb' && gdbPane(layout.mainWidth, layout.bodyHeight)}
				{pane === 'lesson' && (
					<Box flexDirection="column" width={layout.mainWidth} height={layout.bodyHeight}>
						{stepLog(layout.compactStepLogHeight)}
						{lessonPane(lessonHeight)}
					</Box>
				)}
			</Box>
		);
	}

	// With gdb open, gdb sits beside the console and the panel (queue indices at each stop) takes
	// the step log's place.
	return (
		<>
			<Box height={layout.middleHeight} overflow="hidden">
				{checklist}
				{console}
				{gdbOpen ? gdbPane(layout.panelWidth, layout.middleHeight) : panel()}
			</Box>
			<Box height={layout.bottomHeight} overflow="hidden">
				{gdbOpen ? panel(layout.stepLogWidth) : stepLog(layout.bottomHeight)}
				{lessonPane(layout.bottomHeight)}
			</Box>
		</>
	);
}
