import {Box, Text} from 'ink';

export interface LessonProps {
	title: string;
	text: string;
	width: number;
	height: number;
}

/** The lesson for what is happening now. Ink wraps it to the pane; the box clips the overflow. */
export function Lesson({title, text, width, height}: LessonProps) {
	return (
		<Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="gray" overflow="hidden">
			<Text bold wrap="truncate">
				{title}
			</Text>
			<Text wrap="wrap">{text}</Text>
		</Box>
	);
}
