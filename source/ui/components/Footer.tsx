import {Box, Text} from 'ink';
import type {MainPane} from '../layout.js';

export interface FooterProps {
	width: number;
	consoleFocused: boolean;
	running: boolean;
	/** The compact layout's shown pane, named so the learner knows `v` brings the others. */
	pane?: MainPane;
}

const PANE_NAMES: Record<MainPane, string> = {console: 'console', panel: 'ring panel', lesson: 'steps+lesson'};

/** The keys that work right now: the console swallows everything but Ctrl-], so say that. */
export function Footer({width, consoleFocused, running, pane}: FooterProps) {
	const cancel = running ? '  c cancel' : '';
	const keys = consoleFocused
		? 'keys go to the guest  ·  Ctrl-] back to the list'
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
