import {Box, Text} from 'ink';
import type {BlockedView, ProgressState, StepState, WaitingState} from '../state.js';
import {clip, formatMs, progressBar} from '../format.js';
import {wrapWords} from '../lesson-text.js';

export interface StepLogProps {
	title?: string;
	steps: readonly StepState[];
	progress?: ProgressState;
	waiting?: WaitingState;
	log: readonly string[];
	/** A milestone the host cannot run yet: the pane says what it lacks instead of its steps. */
	blocked?: BlockedView;
	width: number;
	height: number;
}

const MARK = {pending: '·', running: '▸', verified: '✔', failed: '✗'} as const;
const COLOR = {pending: 'gray', running: 'yellow', verified: 'green', failed: 'red'} as const;

export interface Line {
	text: string;
	color?: string;
	dim?: boolean;
}

function stepLines(step: StepState): Line[] {
	const ms = step.ms === undefined ? '' : `  ${formatMs(step.ms)}`;
	// A step the learner did with their own hands says so: that is their progress, not ours.
	const who = step.byLearner ? '  (you)' : '';
	const lines: Line[] = [{text: `${MARK[step.status]} ${step.title}${ms}${who}`, color: COLOR[step.status]}];
	if (step.status === 'verified' && step.detail) lines.push({text: `   ${step.detail}`, dim: true});
	if (step.failure) {
		// What failed, what to try, where the full log is: enough to act without leaving the screen.
		lines.push({text: `   ${step.failure.what}`, color: 'red'});
		if (step.failure.hint) lines.push({text: `   try: ${step.failure.hint}`});
		for (const seen of step.failure.lastSeen?.slice(-3) ?? []) lines.push({text: `   | ${seen}`, dim: true});
		if (step.failure.logPath) lines.push({text: `   log: ${step.failure.logPath}`, dim: true});
	}

	return lines;
}

function seconds(ms: number): string {
	return `${Math.round(ms / 1000)} s`;
}

/**
 * The step the learner is watching: the one running, else the newest that ran, else the first.
 * When the pane is too short for every step, the window follows it.
 */
function focusIndex(steps: readonly StepState[]): number {
	const running = steps.findIndex(step => step.status === 'running');
	if (running !== -1) return running;
	let newest = 0;
	steps.forEach((step, index) => {
		if (step.status !== 'pending') newest = index;
	});
	return newest;
}

/**
 * The rows to show, at most `room`: every step, with the live lines under the watched one; then the
 * newest log lines in whatever room is left. Too many steps: the window ends at the watched step's
 * last live line (or starts at the step, if its lines alone are more than fit), and its first row
 * says how many are above.
 */
export function stepLogRows(
	steps: readonly StepState[],
	live: readonly Line[],
	log: readonly string[],
	room: number,
): Line[] {
	const focus = focusIndex(steps);
	const lines: Line[] = [];
	let focusStart = 0;
	let focusEnd = 0;
	steps.forEach((step, index) => {
		if (index === focus) focusStart = lines.length;
		lines.push(...stepLines(step));
		if (index === focus) {
			lines.push(...live);
			focusEnd = lines.length;
		}
	});
	if (steps.length === 0) lines.push(...live);

	if (lines.length <= room) {
		const tail = lines.length < room ? log.slice(-(room - lines.length)) : [];
		return [...lines, ...tail.map(text => ({text, dim: true}))];
	}
	if (room <= 0) return [];
	// One row goes to the "above" line; the watched step's first row stays in view whatever its size.
	let start = Math.min(focusStart, Math.max(0, focusEnd - (room - 1)));
	start = Math.min(start, lines.length - (room - 1));
	if (start <= 0) return lines.slice(0, room);
	return [{text: `⋮ ${start} more above`, dim: true}, ...lines.slice(start, start + room - 1)];
}

/**
 * Why a milestone did not start: every package it lacks, wrapped to the pane (however many), and
 * the key that sets the host up.
 */
export function blockedLines(blocked: BlockedView, width: number): Line[] {
	const wrap = (text: string, color?: string) => wrapWords(text, width).map(line => ({text: line, color}));
	return [
		...wrap(`${blocked.milestone} cannot run yet: the host lacks ${blocked.needs.join(', ')}.`, 'yellow'),
		...wrap('Press s to set up the host here (apt-get; it asks before it changes anything).'),
	];
}

/** Steps with ticks and times, the live progress and waiting lines, then the log's tail. */
export function StepLog({title, steps, progress, waiting, log, blocked, width, height}: StepLogProps) {
	const inner = width - 2;
	const live: Line[] = [];
	if (progress) {
		const pct = Math.round(progress.fraction * 100);
		live.push({
			text: `[${progressBar(progress.fraction, 20)}] ${pct}% ${progress.label}${progress.estimated ? ' (estimate)' : ''}`,
			color: 'cyan',
		});
	}

	if (waiting) {
		live.push({
			text: `waiting for ${waiting.what} — ${seconds(waiting.elapsedMs)} of ${seconds(waiting.timeoutMs)}`,
			color: 'yellow',
		});
	}

	const rows = blocked ? blockedLines(blocked, inner).slice(0, height - 3) : stepLogRows(steps, live, log, height - 3);

	return (
		<Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="gray" overflow="hidden">
			<Text bold wrap="truncate">
				{clip(title ? `steps — ${title}` : 'steps — pick a milestone and press Enter', inner)}
			</Text>
			{rows.map((line, index) => (
				<Text key={index} wrap="truncate" color={line.color} dimColor={line.dim}>
					{clip(line.text, inner)}
				</Text>
			))}
		</Box>
	);
}
