import {Box, Text} from 'ink';

export interface FooterProps {
	width: number;
	consoleFocused: boolean;
	running: boolean;
}

/** The keys that work right now: the console swallows everything but Ctrl-], so say that. */
export function Footer({width, consoleFocused, running}: FooterProps) {
	const keys = consoleFocused
		? 'keys go to the guest  ·  Ctrl-] back to the list'
		: `↑↓ pick  Enter run  Tab console${running ? '  c cancel' : ''}  e edit  i inside the ring  ? help  q quit`;
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate" inverse={consoleFocused} dimColor={!consoleFocused}>
				{keys}
			</Text>
		</Box>
	);
}
