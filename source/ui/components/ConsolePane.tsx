import {Box, Text} from 'ink';
import type {ConsoleScreen} from '../state.js';

export interface ConsolePaneProps {
	screen: ConsoleScreen;
	focused: boolean;
	vmRunning: boolean;
	width: number;
	height: number;
	/** The guest terminal's size (the pane minus border and title): rows beyond it are cut. */
	cols: number;
	rows: number;
}

function fit(row: string, cols: number): string {
	// Pad so the cursor can sit past the end of a short line; cut so nothing wraps.
	return row.length >= cols ? row.slice(0, cols) : row + ' '.repeat(cols - row.length);
}

/**
 * The guest's serial console as the headless terminal on the host side renders it. The host
 * follows our size (resizeConsole), but a screen from before a resize may be bigger: keep the
 * bottom rows, where the prompt is.
 */
export function ConsolePane({screen, focused, vmRunning, width, height, cols, rows}: ConsolePaneProps) {
	const skip = Math.max(0, screen.rows.length - rows);
	const shown = screen.rows.slice(skip);
	const cursorY = screen.cursor.y - skip;
	// Short enough for the narrowest pane (38 cells at 100 columns).
	const title = focused
		? '● console: Ctrl-] leaves'
		: vmRunning
			? '○ console: Tab to type into the guest'
			: '○ console: no VM running';

	return (
		<Box
			flexDirection="column"
			width={width}
			height={height}
			borderStyle="round"
			borderColor={focused ? 'cyan' : 'gray'}
			overflow="hidden"
		>
			<Text bold={focused} color={focused ? 'cyan' : undefined} wrap="truncate">
				{title}
			</Text>
			{shown.map((row, y) => {
				const line = fit(row, cols);
				if (!focused || y !== cursorY || screen.cursor.x >= cols) {
					return (
						<Text key={y} wrap="truncate">
							{line}
						</Text>
					);
				}

				// Draw the guest's cursor only while keys go to the guest: it tells where typing lands.
				const x = screen.cursor.x;
				return (
					<Text key={y} wrap="truncate">
						{line.slice(0, x)}
						<Text inverse>{line[x] ?? ' '}</Text>
						{line.slice(x + 1)}
					</Text>
				);
			})}
		</Box>
	);
}
