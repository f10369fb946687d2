// Pane sizes, computed once per terminal size. Every pane gets a fixed width and height and
// clips its content: Ink redraws the whole screen (flicker, scrollback spam) as soon as its output
// reaches the terminal's height, so the root box stays one row shorter than the terminal and no
// pane may grow with its content.

export const MIN_COLUMNS = 100;
export const MIN_ROWS = 30;

export interface Layout {
	width: number;
	/** One row shorter than the terminal (see above). */
	height: number;
	middleHeight: number;
	bottomHeight: number;
	checklistWidth: number;
	consoleWidth: number;
	panelWidth: number;
	stepLogWidth: number;
	lessonWidth: number;
	/** The guest console's size in cells: the pane minus its border and its title line. */
	consoleCols: number;
	consoleRows: number;
}

const HEADER_ROWS = 1;
const FOOTER_ROWS = 1;

/** undefined when the terminal is smaller than MIN_COLUMNS x MIN_ROWS. */
export function computeLayout(columns: number, rows: number): Layout | undefined {
	if (columns < MIN_COLUMNS || rows < MIN_ROWS) return undefined;

	const height = rows - 1;
	const body = height - HEADER_ROWS - FOOTER_ROWS;
	// The console and the ring panel are what the learner watches: they get most of the height.
	const middleHeight = Math.floor(body * 0.6);
	const bottomHeight = body - middleHeight;

	const checklistWidth = 26;
	// The panel grows a little on wide terminals; the console takes the rest (80 columns at 140+).
	const panelWidth = Math.min(44, 34 + Math.floor((columns - MIN_COLUMNS) / 4));
	const consoleWidth = columns - checklistWidth - panelWidth;

	const stepLogWidth = Math.floor(columns * 0.55);
	const lessonWidth = columns - stepLogWidth;

	return {
		width: columns,
		height,
		middleHeight,
		bottomHeight,
		checklistWidth,
		consoleWidth,
		panelWidth,
		stepLogWidth,
		lessonWidth,
		consoleCols: consoleWidth - 2,
		consoleRows: middleHeight - 2 - 1,
	};
}
