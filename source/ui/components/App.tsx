import {useCallback, useEffect, useMemo, useRef} from 'react';
import {Box, useApp} from 'ink';
import type {WorkbenchApi} from '../../runner/workbench-api.js';
import type {MilestoneInfo} from '../milestone-info.js';
import {computeLayout, MIN_COLUMNS, MIN_ROWS, nextPane} from '../layout.js';
import {initialUiState, isRunning, selectedMilestone, type UiState} from '../state.js';
import {useUiStore} from '../use-ui-store.js';
import {appKeyFor, consoleKeys, firstKey, gdbKeyFor, predictionInput} from '../keys.js';
import {useRawKeys} from '../use-raw-keys.js';
import {useWorkbenchEvents} from '../use-workbench-events.js';
import {useTerminalSize} from '../use-terminal-size.js';
import {Panes} from './Panes.js';
import {Help} from './Help.js';
import {TooSmall} from './TooSmall.js';
import {Header} from './Header.js';
import {Footer} from './Footer.js';
import {guidanceText} from '../guidance.js';
import {stepOverviewLine} from '../step-record.js';
import type {StepProgress} from '../../runner/progress-store.js';

export interface AppProps {
	workbench: WorkbenchApi;
	milestones: MilestoneInfo[];
	/** Override the terminal size (tests; ink-testing-library has no real terminal). */
	columns?: number;
	rows?: number;
	/** Called when the learner quits, before Ink exits; the caller disposes the workbench. */
	onQuit?: () => void;
	/** Minimum time between re-renders caused by host events (default ~15 fps). */
	frameIntervalMs?: number;
	/** The learner asked to edit a milestone's source: the caller leaves the screen, runs the editor, comes back. */
	onEdit?: (milestone: string) => void;
	/** The learner asked to set up the host for a milestone: the caller leaves the screen, runs setup, comes back. */
	onSetup?: (milestone: string) => void;
	/** A milestone to run as soon as the screen is up (after an edit). */
	autoRun?: string;
}

/** The lesson pane follows the run: the step running (or last run), else the selected milestone. */
function lessonFor(
	state: UiState,
	milestones: readonly MilestoneInfo[],
	records: Record<string, StepProgress>,
): {title: string; text: string} {
	const active = milestones.find(m => m.id === state.activeMilestone);
	const step = active?.steps.find(s => s.id === state.currentStep);
	const guidance = guidanceText(state, active?.steps ?? []);
	if (active && step)
		return {title: `lesson — ${step.title}`, text: guidance ? `${guidance}\n\n${step.lesson}` : step.lesson};
	if (guidance) return {title: `lesson — ${active?.title ?? 'guided'}`, text: guidance};

	const selected = milestones.find(m => m.id === selectedMilestone(state));
	if (!selected) return {title: 'lesson', text: ''};
	// The milestone's steps, each with what the learner did in it last time (one per line).
	const steps = selected.steps.map((s, i) => stepOverviewLine(i, s.title, records[s.id])).join('\n');
	return {title: `lesson — ${selected.title}`, text: `${selected.summary}\n\n${steps}`};
}

export function App({
	workbench,
	milestones,
	columns,
	rows,
	onQuit,
	frameIntervalMs,
	onEdit,
	onSetup,
	autoRun,
}: AppProps) {
	const {exit} = useApp();
	// Set once the app hands the terminal back (quit, edit, setup): keys after that are not ours.
	const leaving = useRef(false);
	const leave = useCallback(() => {
		leaving.current = true;
		exit();
	}, [exit]);
	const {state, dispatch, getState} = useUiStore(() => ({
		...initialUiState(milestones, workbench.verifiedMilestones()),
		notice: workbench.stateWarning(),
	}));
	useWorkbenchEvents(workbench, dispatch, frameIntervalMs);

	const terminal = useTerminalSize();
	const width = columns ?? terminal.columns;
	const height = rows ?? terminal.rows;
	const layout = computeLayout(width, height);

	// The host's headless terminal and the guest's pty follow the pane, so programs in the guest
	// (vi, top) draw for the size the learner actually sees.
	const consoleCols = layout?.consoleCols;
	const consoleRows = layout?.consoleRows;
	useEffect(() => {
		if (consoleCols !== undefined && consoleRows !== undefined) workbench.resizeConsole(consoleCols, consoleRows);
	}, [workbench, consoleCols, consoleRows]);

	const quit = useCallback(() => {
		onQuit?.();
		leave();
	}, [onQuit, leave]);

	const notice = (text: string) => dispatch({type: 'ui/notice', text});
	const failed = (what: string) => (error: unknown) =>
		notice(`${what}: ${error instanceof Error ? error.message : String(error)}`);

	const runSelected = () => {
		const current = getState();
		const id = selectedMilestone(current);
		if (!id) return;
		if (isRunning(current)) return notice('a milestone is already running (c cancels it)');
		const needs = workbench.hostNeeds(id);
		// The header's line is cut at the terminal's width; the steps pane lists them all.
		dispatch({type: 'ui/blocked', blocked: needs.length > 0 ? {milestone: id, needs} : undefined});
		if (needs.length > 0)
			return notice(`${id} needs ${needs.join(', ')}: press s to set up the host here (apt-get, asks first)`);
		dispatch({type: 'ui/notice', text: undefined});
		// Progress and the outcome arrive as events; a rejection means the run never started.
		workbench.run(id).catch(failed(`could not run ${id}`));
	};

	useEffect(() => {
		if (autoRun) workbench.run(autoRun).catch(failed(`could not run ${autoRun}`));
		// Once per mount: the edit loop mounts a fresh App for each round.
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, []);

	const editSelected = () => {
		const current = getState();
		const id = selectedMilestone(current);
		if (!id || !onEdit || !workbench.editableFile(id))
			return notice('this milestone has no source to edit (try hello-module)');
		if (isRunning(current)) return notice('wait for the run to finish (or c to cancel) before editing');
		onEdit(id);
		leave();
	};

	const showHint = (current: UiState) => {
		const id = isRunning(current) ? current.activeMilestone : selectedMilestone(current);
		if (!id) return;
		workbench
			.hint(id)
			.then(shown => {
				if (!shown) notice('no hint for this step: it runs by itself (watch the step log)');
			})
			.catch(failed('no hint'));
	};

	const setupSelected = () => {
		const current = getState();
		const id = selectedMilestone(current);
		if (!id || !onSetup) return;
		if (isRunning(current)) return notice('wait for the run to finish (or c to cancel) before setting up');
		if (workbench.hostNeeds(id).length === 0) return notice(`the host has everything ${id} needs`);
		onSetup(id);
		leave();
	};

	// Every key goes through here, once. Decisions read getState(), never the render's `state`.
	// A chunk of several keys is taken one key at a time while the list has focus, and what is
	// left goes whole to the console once a key (Tab) gives it focus.
	useRawKeys(data => {
		let rest = data;
		while (rest && !leaving.current) {
			const current = getState();
			if (current.focus === 'console' && layout && !current.helpShown) {
				const {send, leave} = consoleKeys(rest);
				if (send) workbench.sendToConsole(send);
				if (leave) dispatch({type: 'ui/focus', focus: 'list'});
				// What followed Ctrl-] in a paste is dropped: it was typed for the guest.
				return;
			}
			if (current.focus === 'gdb-input' && layout && !current.helpShown) {
				const {send, leave} = consoleKeys(rest);
				if (send) workbench.sendToGdb(send);
				if (leave) dispatch({type: 'ui/focus', focus: 'gdb'});
				return;
			}
			const [key, after] = firstKey(rest);
			rest = after;
			handleAppKey(key, current);
		}
	});

	/** The gdb pane's own keys; the app's keys do not apply while it has focus, but Ctrl-C and ?. */
	function handleGdbKey(data: string): void {
		const key = gdbKeyFor(data);
		const act = (action: Parameters<WorkbenchApi['gdb']>[0]) =>
			void workbench.gdb(action).catch(failed(`gdb ${action}`));
		switch (key) {
			case 'continue':
			case 'step':
			case 'next':
			case 'finish':
			case 'backtrace':
			case 'interrupt':
				return act(key);
			case 'type':
				return dispatch({type: 'ui/focus', focus: 'gdb-input'});
			case 'detach':
				act('quit');
				return dispatch({type: 'ui/focus', focus: 'list'});
			case 'leave':
				return dispatch({type: 'ui/focus', focus: 'list'});
			default:
				return;
		}
	}

	/** g: gdb on the running VM; the pane gets focus (again, when gdb is already attached). */
	function openGdb(current: UiState): void {
		if (!current.vm.running) return notice('no VM running: run a milestone first (started with --debug)');
		if (!current.gdb || current.gdb.state === 'gone')
			workbench.gdb('start').catch((error: unknown) => {
				notice(error instanceof Error ? error.message : String(error));
				dispatch({type: 'ui/focus', focus: 'list'});
			});
		dispatch({type: 'ui/focus', focus: 'gdb'});
	}

	function handleAppKey(data: string, current: UiState): void {
		const key = appKeyFor(data);
		if (current.focus === 'gdb' && !current.helpShown && data !== '\x03' && key !== 'help') return handleGdbKey(data);
		if (key === 'quit') return quit();
		if (!layout) return;
		if (current.helpShown) {
			if (key === 'help' || key === 'escape') dispatch({type: 'ui/toggle-help'});
			return;
		}
		if (current.prediction && !current.prediction.answered) {
			const typed = predictionInput(current.prediction.input, data);
			if (typed !== undefined) return dispatch({type: 'ui/prediction-input', text: typed});
			if (key === 'enter') {
				if (!current.prediction.input) return notice('type a number first, then Enter (d: kernelcraft does it)');
				if (!workbench.answer(Number(current.prediction.input))) notice('that prediction is no longer asked');
				return;
			}
		}

		switch (key) {
			case 'up':
				return dispatch({type: 'ui/move', delta: -1});
			case 'down':
				return dispatch({type: 'ui/move', delta: 1});
			case 'enter':
				return runSelected();
			case 'tab':
				if (current.vm.running) {
					// The compact layout shows the console for as long as it has focus, and after.
					dispatch({type: 'ui/show-pane', pane: 'console'});
					return dispatch({type: 'ui/focus', focus: 'console'});
				}

				return notice('no VM running: run a milestone first');
			case 'cancel':
				if (isRunning(current)) return void workbench.cancel().catch(failed('cancel failed'));
				return notice('nothing is running');
			case 'inside':
				workbench.setLookInside(!current.lookInside);
				return dispatch({type: 'ui/toggle-look-inside'});
			case 'edit':
				return editSelected();
			case 'setup':
				return setupSelected();
			case 'help':
				return dispatch({type: 'ui/toggle-help'});
			case 'hint':
				return showHint(current);
			case 'gdb':
				return openGdb(current);
			case 'demo':
				if (isRunning(current)) return workbench.demo();
				return notice('nothing is running: Enter starts the selected milestone');
			case 'switch-pane':
				if (!layout.compact) return notice('every pane is on screen at this size');
				return dispatch({type: 'ui/show-pane', pane: nextPane(current.mainPane)});
			case 'background':
				if (current.background?.state === 'running' || current.background?.state === 'paused')
					return workbench.toggleBackgroundBuild();
				return notice('no build is running in the background');
			case 'stop-background':
				if (current.background?.state === 'running' || current.background?.state === 'paused')
					return void workbench.stopBackgroundBuild().catch(failed('stopping the background build failed'));
				return notice('no build is running in the background');
			default:
				return;
		}
	}

	// Read from the progress file when the selection or a milestone's status changes, not per frame.
	const overviewId = selectedMilestone(state);
	const overviewStatus = overviewId ? state.milestones[overviewId] : undefined;
	const records = useMemo(
		() => (overviewId ? workbench.stepRecords(overviewId) : {}),
		// overviewStatus: a finished run has new records to show.
		// eslint-disable-next-line react-hooks/exhaustive-deps
		[workbench, overviewId, overviewStatus],
	);

	const consoleFocused = state.focus === 'console' && !state.helpShown;

	if (!layout) return <TooSmall columns={width} rows={height} minColumns={MIN_COLUMNS} minRows={MIN_ROWS} />;

	const lesson = lessonFor(state, milestones, records);

	return (
		<Box flexDirection="column" width={layout.width} height={layout.height} overflow="hidden">
			<Header
				width={layout.width}
				accel={state.accel}
				vm={state.vm}
				background={state.background}
				notice={state.notice}
				pausedBy={state.guestPausedBy}
			/>
			{state.helpShown ? (
				<Help width={layout.width} height={layout.bodyHeight} />
			) : (
				<Panes layout={layout} state={state} milestones={milestones} lesson={lesson} consoleFocused={consoleFocused} />
			)}
			<Footer
				width={layout.width}
				consoleFocused={consoleFocused}
				running={isRunning(state)}
				pane={layout.compact ? state.mainPane : undefined}
				waitingFor={state.prediction && !state.prediction.answered ? 'prediction' : state.task ? 'task' : undefined}
			/>
		</Box>
	);
}
