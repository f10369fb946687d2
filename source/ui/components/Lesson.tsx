import {Box, Text} from 'ink';

export interface LessonProps {
	title: string;
	text: string;
	width: number;
	height: number;
}

/**
 * Lessons are written as lines in the source; on screen a paragraph flows to the pane's width.
 * Single line breaks join, blank lines stay, and a line starting with "Open:", "Try" or "Press"
 * starts a new line so the pointers to files and keys stand out.
 */
export function flowLesson(text: string): string {
	return text
		.split(/\n\s*\n/)
		.map(paragraph => paragraph.replace(/\n(?!(Open:|Try|Press|Watch))/g, ' '))
		.join('\n\n');
}

/** The lesson for what is happening now. Ink wraps it to the pane; the box clips the overflow. */
export function Lesson({title, text, width, height}: LessonProps) {
	return (
		<Box flexDirection="column" width={width} height={height} borderStyle="round" borderColor="gray" overflow="hidden">
			<Text bold wrap="truncate">
				{title}
			</Text>
			<Text wrap="wrap">{flowLesson(text)}</Text>
		</Box>
	);
}
