import {Box, Text} from 'ink';

export interface TooSmallProps {
	columns: number;
	rows: number;
	minColumns: number;
	minRows: number;
}

/** Shown instead of the panes: a squeezed layout would wrap and make Ink redraw everything. */
export function TooSmall({columns, rows, minColumns, minRows}: TooSmallProps) {
	return (
		<Box flexDirection="column">
			<Text color="yellow">
				kernelcraft needs a terminal of at least {minColumns}×{minRows}; this one is {columns}×{rows}.
			</Text>
			<Text>Make the window bigger (it redraws by itself), or press q to quit.</Text>
		</Box>
	);
}
