import {Box, Text} from 'ink';
import type {ProgressState, StepState, WaitingState} from '../state.js';
import {clip, formatMs, progressBar} from '../format.js';

export interface StepLogProps {
	title?: string;
	steps: readonly StepState[];
	progress?: ProgressState;
	waiting?: WaitingState;
	log: readonly string[];
	width: number;
	height: number;
}

const MARK = {pending: '·', running: '▸', verified: '✔', failed: '✗'} as const;
const COLOR = {pending: 'gray', running: 'yellow', verified: 'green', failed: 'red'} as const;

interface Line {
	text: string;
	color?: string;
	dim?: boolean;
}

function stepLines(step: StepState): Line[] {
	const ms = step.ms === undefined ? '' : `  ${formatMs(step.ms)}`;
	const lines: Line[] = [{text: `${MARK[step.status]} ${step.title}${ms}`, color: COLOR[step.status]}];
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

/** Steps with ticks and times, the live progress and waiting lines, then the log's tail. */
export function StepLog({title, steps, progress, waiting, log, width, height}: StepLogProps) {
	const inner = width - 2;
	const lines: Line[] = steps.flatMap(stepLines);
	if (progress) {
		const pct = Math.round(progress.fraction * 100);
		lines.push({
			text: `[${progressBar(progress.fraction, 20)}] ${pct}% ${progress.label}${progress.estimated ? ' (estimate)' : ''}`,
			color: 'cyan',
		});
	}

	if (waiting) {
		lines.push({
			text: `waiting for ${waiting.what} — ${seconds(waiting.elapsedMs)} of ${seconds(waiting.timeoutMs)}`,
			color: 'yellow',
		});
	}

	// Whatever room is left shows the newest log lines.
	const room = Math.max(0, height - 3 - lines.length);
	const tail = room > 0 ? log.slice(-room) : [];
	const all: Line[] = [...lines, ...tail.map(text => ({text, dim: true}))];

	return (
		<Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="gray" overflow="hidden">
			<Text bold wrap="truncate">
				{clip(title ? `steps — ${title}` : 'steps — pick a milestone and press Enter', inner)}
			</Text>
			{all.slice(0, height - 3).map((line, index) => (
				<Text key={index} wrap="truncate" color={line.color} dimColor={line.dim}>
					{clip(line.text, inner)}
				</Text>
			))}
		</Box>
	);
}
