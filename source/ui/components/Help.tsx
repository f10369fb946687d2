import {Box, Text} from 'ink';
import {GDB_KEY_BINDINGS, KEY_BINDINGS} from '../keys.js';

export interface HelpProps {
	width: number;
	height: number;
}

/** Every key, from the table the app's bindings come from, in a box the size of the panes it covers. */
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
			{[...KEY_BINDINGS, ...GDB_KEY_BINDINGS].map(({label, help}) => (
				<Box key={label}>
					<Box width={12} flexShrink={0}>
						<Text color="cyan">{label}</Text>
					</Box>
					<Text wrap="truncate">{help}</Text>
				</Box>
			))}
		</Box>
	);
}
