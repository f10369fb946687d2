import {Box, Text} from 'ink';

export interface HelpProps {
	width: number;
	height: number;
}

const KEYS: Array<[string, string]> = [
	['↑ ↓  (k j)', 'pick a milestone'],
	['Enter', 'run the selected milestone; its VM stays up afterwards'],
	['Tab', 'type into the guest console'],
	['Ctrl-]', 'leave the guest console (like telnet); every other key, Esc and Ctrl-C included, goes to the guest'],
	['c', 'cancel the running milestone and stop its VM'],
	['i', 'look inside the ring: what the virtqueue indices mean right now'],
	['e', "edit the milestone's source (hello-module); on save it is rebuilt and run again"],
	['s', 'set up the host for the selected milestone (apt-get in this terminal, asks first)'],
	['b  B', 'pause or resume the QEMU build running in the background (b), or stop it (B)'],
	['?', 'show or hide this help (Esc hides it too)'],
	['q  Ctrl-C', 'quit (stops the VM)'],
];

/** The keys, in a box the size of the panes it covers. */
export function Help({width, height}: HelpProps) {
	return (
		<Box
			flexDirection="column"
			width={width}
			height={height}
			borderStyle="double"
			borderColor="cyan"
			overflow="hidden"
			paddingX={1}
		>
			<Text bold>keys</Text>
			{KEYS.map(([key, what]) => (
				<Box key={key}>
					<Box width={14} flexShrink={0}>
						<Text color="cyan">{key}</Text>
					</Box>
					<Text wrap="truncate">{what}</Text>
				</Box>
			))}
		</Box>
	);
}
