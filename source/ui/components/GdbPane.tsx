import {Box, Text} from 'ink';
import type {GdbView} from '../state.js';

export interface GdbPaneProps {
	gdb: GdbView;
	/** 'gdb': the pane's keys act; 'input': keys go to gdb itself. */
	focus: 'gdb' | 'input' | undefined;
	width: number;
	height: number;
}

function title(gdb: GdbView, focus: GdbPaneProps['focus']): string {
	if (gdb.state === 'gone') return '○ gdb: detached (g attaches again)';
	if (gdb.state === 'starting') return '○ gdb: attaching…';
	if (focus === 'input') return '● gdb: typing into gdb, Ctrl-] leaves';
	const where = gdb.stopped ? 'guest stopped' : 'guest runs';
	return focus === 'gdb' ? `● gdb (${where}): c s n f t x, Tab, q` : `○ gdb (${where}): g to use`;
}

/** gdb's last lines (the host runs gdb in a pty), and a note of kernelcraft's about the last command. */
export function GdbPane({gdb, focus, width, height}: GdbPaneProps) {
	const focused = focus !== undefined;
	const rows = Math.max(0, height - 3 - (gdb.note ? 1 : 0));
	const lines = gdb.lines.slice(-rows);
	return (
		<Box
			flexDirection="column"
			width={width}
			height={height}
			borderStyle="round"
			borderColor={focused ? 'magenta' : 'gray'}
			overflow="hidden"
		>
			<Text bold={focused} color={focused ? 'magenta' : undefined} wrap="truncate">
				{title(gdb, focus)}
			</Text>
			{gdb.note ? (
				<Text color="yellow" wrap="truncate">
					{gdb.note}
				</Text>
			) : null}
			{lines.map((line, y) => (
				<Text key={y} wrap="truncate">
					{line || ' '}
				</Text>
			))}
		</Box>
	);
}
