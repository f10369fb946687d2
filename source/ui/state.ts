import type {
	AccelChoice,
	Accel,
	BackgroundState,
	DeviceView,
	Failure,
	GuestView,
	MilestoneSummary,
	RunEvent,
} from '../runner/events.js';
import type {RunMode} from '../runner/guide.js';
import type {MainPane} from './layout.js';

// Everything the screen shows, derived from the RunEvent stream plus a few UI-only choices.
// Pure: no I/O, no timers, so it can be tested event by event and replayed.

export type MilestoneStatus = 'idle' | 'running' | 'verified' | 'failed';
export type StepStatus = 'pending' | 'running' | 'verified' | 'failed';
/** gdb: the gdb pane takes its keys (c s n f t x q); gdb-input: keys go to gdb itself (Tab). */
export type Focus = 'list' | 'console' | 'gdb' | 'gdb-input';

/** The gdb pane, as the host's last `gdb` event left it. */
export interface GdbView {
	state: 'starting' | 'attached' | 'gone';
	lines: string[];
	stopped: boolean;
	note?: string;
}

export interface StepState {
	name: string;
	title: string;
	status: StepStatus;
	ms?: number;
	/** The one-line proof a verified step resolved with. */
	detail?: string;
	failure?: Failure;
	/** Done by the learner's own hands (guided), checked from the system's state. */
	byLearner?: boolean;
}

export interface ProgressState {
	step: string;
	fraction: number;
	label: string;
	/** True when the fraction is a guess (e.g. from the last build's duration): shown as such. */
	estimated: boolean;
}

export interface WaitingState {
	step: string;
	what: string;
	elapsedMs: number;
	timeoutMs: number;
}

export interface ConsoleScreen {
	rows: string[];
	cursor: {x: number; y: number};
}

export interface VmState {
	running: boolean;
	pid?: number;
	accel?: Accel;
	/** Why the last VM stopped, shown until the next one starts. */
	stoppedReason?: string;
}

export interface BackgroundView {
	state: BackgroundState;
	fraction: number;
	label: string;
	note?: string;
}

/** Guided mode: the step the learner is doing now, and what its check still misses. */
export interface TaskView {
	step: string;
	ask: string;
	missing?: string;
}

export interface PredictionView {
	step: string;
	question: string;
	unit: string;
	/** What the learner has typed so far. */
	input: string;
	/** Answered: the step has gone on (to its task); the guess is checked once the step has run. */
	answered?: boolean;
}

export interface PredictionResultView {
	step: string;
	guess: number;
	actual: number;
	unit: string;
	why: string;
}

export interface HintView {
	step: string;
	index: number;
	of: number;
	text: string;
	solution: boolean;
}

export interface WalkStopView {
	n: number;
	side: 'driver' | 'device';
	where: string;
	indices?: string;
	descriptor?: string;
}

export interface UiState {
	/** Milestone ids in list order; the selection is an index into this. */
	order: string[];
	/** Which milestones can be run (false = "coming"). */
	milestones: Record<string, MilestoneStatus>;
	/** The milestone running now, or the last one that ran: the step log belongs to it. */
	activeMilestone?: string;
	steps: StepState[];
	currentStep?: string;
	progress?: ProgressState;
	waiting?: WaitingState;
	log: string[];
	console: ConsoleScreen;
	devices: DeviceView[];
	guest?: GuestView;
	accel?: AccelChoice;
	vm: VmState;
	lastSummary?: MilestoneSummary;
	/** The build the TUI runs ahead of time (QEMU), as its last event left it. */
	background?: BackgroundView;
	/** Who does the steps of the run: the learner (guided) or kernelcraft (demo). */
	mode?: RunMode;
	task?: TaskView;
	prediction?: PredictionView;
	predictionResult?: PredictionResultView;
	hint?: HintView;
	gdb?: GdbView;
	/** A debugger holds the guest stopped: the header says so. */
	guestPausedBy?: string;
	/** The request walk's stops so far (--debug, virtio-hello): the panel shows their indices. */
	walkStops?: WalkStopView[];
	// UI-only
	focus: Focus;
	helpShown: boolean;
	/** The pane the compact layout shows beside the checklist (`v` switches). */
	mainPane: MainPane;
	lookInside: boolean;
	selected: number;
	/** One line for the learner (a state-file warning, "already running", ...). */
	notice?: string;
	/** The milestone Enter did not start because the host lacks packages, and which (in full). */
	blocked?: BlockedView;
}

export interface BlockedView {
	milestone: string;
	needs: string[];
}

/** Actions that come from the learner, not from the host. Prefixed so they never clash with RunEvent types. */
export type UiAction =
	| {type: 'ui/focus'; focus: Focus}
	| {type: 'ui/toggle-help'}
	| {type: 'ui/show-pane'; pane: MainPane}
	| {type: 'ui/toggle-look-inside'}
	| {type: 'ui/move'; delta: number}
	| {type: 'ui/notice'; text: string | undefined}
	/** Enter found the host lacking what the milestone needs (undefined: nothing blocks now). */
	| {type: 'ui/blocked'; blocked: BlockedView | undefined}
	/** The learner's prediction as typed so far (digits only). */
	| {type: 'ui/prediction-input'; text: string}
	/** Several host events reduced in one go: the event hook batches them to cap re-renders. */
	| {type: 'ui/batch'; events: RunEvent[]};

export type UiInput = RunEvent | UiAction;

/** Enough to keep a long kernel build's tail on screen without growing without bound. */
export const LOG_LIMIT = 200;

export function initialUiState(milestones: ReadonlyArray<{id: string}>, verified: readonly string[] = []): UiState {
	const statuses: Record<string, MilestoneStatus> = {};
	for (const m of milestones) {
		statuses[m.id] = verified.includes(m.id) ? 'verified' : 'idle';
	}

	return {
		order: milestones.map(m => m.id),
		milestones: statuses,
		steps: [],
		log: [],
		console: {rows: [], cursor: {x: 0, y: 0}},
		devices: [],
		vm: {running: false},
		focus: 'list',
		helpShown: false,
		mainPane: 'console',
		lookInside: false,
		selected: 0,
	};
}

function appendLog(log: string[], ...lines: string[]): string[] {
	const next = log.concat(lines);
	return next.length > LOG_LIMIT ? next.slice(next.length - LOG_LIMIT) : next;
}

function updateStep(steps: StepState[], name: string, change: Partial<StepState>, title?: string): StepState[] {
	const index = steps.findIndex(s => s.name === name);
	if (index === -1) {
		// A step the milestone-started list did not announce: show it anyway rather than lose it.
		return [...steps, {name, title: title ?? name, status: 'pending', ...change}];
	}

	return steps.map((s, i) => (i === index ? {...s, ...change} : s));
}

/** Is any milestone running now? Used to refuse a second run and to enable cancel. */
export function isRunning(state: UiState): boolean {
	return Object.values(state.milestones).includes('running');
}

export function selectedMilestone(state: UiState): string | undefined {
	return state.order[state.selected];
}

function reduceEvent(state: UiState, event: RunEvent): UiState {
	switch (event.type) {
		case 'milestone-started':
			return {
				...state,
				milestones: {...state.milestones, [event.milestone]: 'running'},
				activeMilestone: event.milestone,
				blocked: undefined,
				steps: event.steps.map(s => ({name: s.name, title: s.title, status: 'pending'})),
				currentStep: undefined,
				progress: undefined,
				waiting: undefined,
				lastSummary: undefined,
				task: undefined,
				prediction: undefined,
				predictionResult: undefined,
				hint: undefined,
				walkStops: undefined,
				log: appendLog(state.log, `── ${event.title} ──`),
			};
		case 'accel':
			return {...state, accel: event.choice};
		case 'step-started':
			return {
				...state,
				steps: updateStep(state.steps, event.step, {status: 'running'}, event.title),
				currentStep: event.step,
				progress: undefined,
				waiting: undefined,
				task: undefined,
				hint: state.hint?.step === event.step ? state.hint : undefined,
			};
		case 'task':
			// The run now waits for the learner, not for the machine; a prediction of the same step
			// was answered (a step predicts before its task), and is checked once the step has run.
			return {
				...state,
				task: {step: event.step, ask: event.ask, missing: event.missing},
				waiting: undefined,
				...(state.prediction?.step === event.step ? {prediction: {...state.prediction, answered: true}} : {}),
			};
		case 'prediction-asked':
			return {
				...state,
				// The last result stays on screen beside the new question: the learner reads both.
				prediction: {step: event.step, question: event.question, unit: event.unit, input: ''},
			};
		case 'prediction-result':
			return {
				...state,
				prediction: undefined,
				predictionResult: {
					step: event.step,
					guess: event.guess,
					actual: event.actual,
					unit: event.unit,
					why: event.why,
				},
			};
		case 'hint':
			return {
				...state,
				hint: {step: event.step, index: event.index, of: event.of, text: event.text, solution: event.solution},
			};
		case 'mode':
			return event.mode === 'demo'
				? {...state, mode: event.mode, task: undefined, prediction: undefined}
				: {...state, mode: event.mode};
		case 'progress':
			return {
				...state,
				progress: {step: event.step, fraction: event.fraction, label: event.label, estimated: event.estimated},
			};
		case 'log':
			return {...state, log: appendLog(state.log, event.line)};
		case 'waiting':
			return {
				...state,
				waiting: {step: event.step, what: event.what, elapsedMs: event.elapsedMs, timeoutMs: event.timeoutMs},
			};
		case 'verified':
			return {
				...state,
				steps: updateStep(state.steps, event.step, {
					status: 'verified',
					ms: event.ms,
					detail: event.detail,
					...(event.byLearner ? {byLearner: true} : {}),
				}),
				progress: state.progress?.step === event.step ? undefined : state.progress,
				waiting: state.waiting?.step === event.step ? undefined : state.waiting,
				task: state.task?.step === event.step ? undefined : state.task,
			};
		case 'failed':
			return {
				...state,
				steps: updateStep(state.steps, event.step, {status: 'failed', ms: event.ms, failure: event.failure}),
				progress: state.progress?.step === event.step ? undefined : state.progress,
				waiting: state.waiting?.step === event.step ? undefined : state.waiting,
				log: appendLog(state.log, `✗ ${event.failure.what}`),
				task: state.task?.step === event.step ? undefined : state.task,
				prediction: state.prediction?.step === event.step ? undefined : state.prediction,
			};
		case 'vm-started':
			return {...state, vm: {running: true, pid: event.pid, accel: event.accel}};
		case 'vm-stopped':
			return {
				...state,
				vm: {running: false, accel: state.vm.accel, stoppedReason: event.reason},
				// The ring figures of a dead VM would mislead; the last console screen stays readable.
				devices: [],
				guest: undefined,
				// Nothing left to type into.
				focus: 'list',
				guestPausedBy: undefined,
				gdb: state.gdb ? {...state.gdb, state: 'gone', stopped: false} : undefined,
			};
		case 'notice':
			return {...state, notice: event.text};
		case 'background':
			return {
				...state,
				background: {state: event.state, fraction: event.fraction, label: event.label, note: event.note},
			};
		case 'console-line':
			// The pane draws console-screen; finished lines are for logs and --json.
			return state;
		case 'gdb':
			return {
				...state,
				gdb: {
					state: event.state,
					lines: event.lines,
					stopped: event.stopped,
					...(event.note ? {note: event.note} : {}),
				},
				// gdb gone: nothing left to type into.
				focus: event.state === 'gone' && state.focus.startsWith('gdb') ? 'list' : state.focus,
			};
		case 'walk-stop': {
			const {n, side, where, indices, descriptor} = event;
			const stop: WalkStopView = {n, side, where, ...(indices ? {indices} : {}), ...(descriptor ? {descriptor} : {})};
			return {...state, walkStops: [...(state.walkStops ?? []).filter(s => s.n < n), stop]};
		}
		case 'guest-paused':
			return {...state, guestPausedBy: event.paused ? event.by : undefined};
		case 'console-screen':
			return {...state, console: {rows: event.rows, cursor: event.cursor}};
		case 'virtio':
			return {...state, devices: event.devices, guest: event.guest};
		case 'milestone-finished': {
			const {summary} = event;
			return {
				...state,
				milestones: {...state.milestones, [summary.milestone]: summary.ok ? 'verified' : 'failed'},
				// A step still "running" when the milestone ends was interrupted (cancel, crash).
				steps: state.steps.map(s => (s.status === 'running' ? {...s, status: summary.ok ? 'verified' : 'failed'} : s)),
				progress: undefined,
				waiting: undefined,
				task: undefined,
				prediction: undefined,
				lastSummary: summary,
			};
		}
	}
}

export function reduceUi(state: UiState, input: UiInput): UiState {
	switch (input.type) {
		case 'ui/focus':
			return state.focus === input.focus ? state : {...state, focus: input.focus};
		case 'ui/toggle-help':
			return {...state, helpShown: !state.helpShown};
		case 'ui/show-pane':
			return state.mainPane === input.pane ? state : {...state, mainPane: input.pane};
		case 'ui/toggle-look-inside':
			return {...state, lookInside: !state.lookInside};
		case 'ui/move': {
			if (state.order.length === 0) return state;
			const selected = Math.min(state.order.length - 1, Math.max(0, state.selected + input.delta));
			return selected === state.selected ? state : {...state, selected};
		}
		case 'ui/notice':
			return state.notice === input.text ? state : {...state, notice: input.text};
		case 'ui/blocked':
			return state.blocked === input.blocked ? state : {...state, blocked: input.blocked};
		case 'ui/prediction-input':
			return state.prediction ? {...state, prediction: {...state.prediction, input: input.text}} : state;
		case 'ui/batch':
			return input.events.reduce(reduceEvent, state);
		default:
			return reduceEvent(state, input);
	}
}
