// Lessons are written as lines in the source; on screen they flow to the pane's width. Pure, so
// the wrapping can be tested without rendering.

/** A list item: "1. ", "12) ", "- " or "* " at the start of a line. */
const LIST_MARKER = /^(\d+[.)]|[-*•])\s+/;
/** Lines that start a line of their own, so the pointers to files and keys stand out. */
const OWN_LINE = /^(Open:|Try|Press|Watch)/;

interface Block {
	/** "1. " for a list item (the hanging indent is its width), "" for prose. */
	marker: string;
	text: string;
}

/**
 * Paragraphs (separated by blank lines) into blocks: single line breaks join, except before a
 * list item or a line that starts with Open:, Try, Press or Watch.
 */
function blocks(paragraph: string): Block[] {
	const result: Block[] = [];
	for (const raw of paragraph.split('\n')) {
		const line = raw.trim();
		if (!line) continue;
		const marker = LIST_MARKER.exec(line);
		const last = result.at(-1);
		if (marker) result.push({marker: `${marker[1]} `, text: line.slice(marker[0].length)});
		else if (!last || OWN_LINE.test(line)) result.push({marker: '', text: line});
		else last.text += ` ${line}`;
	}
	return result;
}

/** Words to lines of at most `width` cells; a word longer than a line is cut. */
export function wrapWords(text: string, width: number): string[] {
	const size = Math.max(1, width);
	const lines: string[] = [];
	let line = '';
	for (let word of text.split(/\s+/).filter(Boolean)) {
		while (word.length > size) {
			if (line) lines.push(line);
			lines.push(word.slice(0, size));
			word = word.slice(size);
			line = '';
		}
		if (!line) line = word;
		else if (line.length + 1 + word.length <= size) line += ` ${word}`;
		else {
			lines.push(line);
			line = word;
		}
	}
	if (line) lines.push(line);
	return lines;
}

/**
 * The lesson as screen lines of at most `width` cells. A list item wraps under its text, not
 * under its number (a hanging indent), so numbered steps read as a list.
 */
export function lessonLines(text: string, width: number): string[] {
	const paragraphs = text.split(/\n\s*\n/).map(blocks);
	const lines: string[] = [];
	paragraphs.forEach((paragraph, index) => {
		if (index > 0 && paragraph.length > 0) lines.push('');
		for (const {marker, text: body} of paragraph) {
			const indent = ' '.repeat(marker.length);
			wrapWords(body, width - marker.length).forEach((line, row) => lines.push((row === 0 ? marker : indent) + line));
		}
	});
	return lines;
}
