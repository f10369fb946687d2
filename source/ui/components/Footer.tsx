import {Box, Text} from 'ink';
import type {MainPane} from '../layout.js';

export interface FooterProps {
	width: number;
	consoleFocused: boolean;
	running: boolean;
	/** The compact layout's shown pane, named so the learner knows `v` brings the others. */
	pane?: MainPane;
	/** Guided mode: the run waits for the learner's hands (a task) or their number (a prediction). */
	waitingFor?: 'task' | 'prediction';
}

const PANE_NAMES: Record<MainPane, string> = {console: 'console', panel: 'ring panel', lesson: 'steps+lesson'};

/** The keys that work right now: the console swallows everything but Ctrl-], so say that. */
export function Footer({width, consoleFocused, running, pane, waitingFor}: FooterProps) {
	const cancel = running ? '  c cancel' : '';
	// First, so a narrow terminal never truncates what the run is waiting for.
	const turn =
		waitingFor === 'prediction'
			? 'your prediction: digits, Enter  h hint  d skip  ·  '
			: waitingFor === 'task'
				? 'your turn (see lesson)  h hint  d do it for me  ·  '
				: '';
	const keys = consoleFocused
		? 'keys go to the guest  ·  Ctrl-] back to the list'
		: turn
			? // While the run waits for the learner, Enter and e mean nothing: room for what does.
				pane
				? `${waitingFor === 'prediction' ? 'predict: digits, Enter  d skip' : 'your turn: h hint  d do it'}  ·  [${PANE_NAMES[pane]}] v  Tab${cancel}  ? help  q quit`
				: `${turn}Tab console${cancel}  ? help  q quit`
			: pane
				? `[${PANE_NAMES[pane]}] v switch  ↑↓ pick  Enter run  Tab console${cancel}  ? help  q quit`
				: `↑↓ pick  Enter run  Tab console${cancel}  e edit  i inside the ring  ? help  q quit`;
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate" inverse={consoleFocused} dimColor={!consoleFocused}>
				{keys}
			</Text>
		</Box>
	);
}
