import {Box, Text} from 'ink';
import {lessonLines} from '../lesson-text.js';

export interface LessonProps {
	title: string;
	text: string;
	width: number;
	height: number;
}

/**
 * The lesson for what is happening now, wrapped here to the pane's inner width (lists with a
 * hanging indent); the rows that do not fit are cut, never wrapped again by Ink.
 */
export function Lesson({title, text, width, height}: LessonProps) {
	const rows = lessonLines(text, width - 2).slice(0, Math.max(0, height - 3));
	return (
		<Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="gray" overflow="hidden">
			<Text bold wrap="truncate">
				{title}
			</Text>
			{rows.map((row, index) => (
				<Text key={index} wrap="truncate">
					{row || ' '}
				</Text>
			))}
		</Box>
	);
}
