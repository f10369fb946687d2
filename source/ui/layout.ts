// Pane sizes, computed once per terminal size. Every pane gets a fixed width and height and
// clips its content: Ink redraws the whole screen (flicker, scrollback spam) as soon as its output
// reaches the terminal's height, so the root box stays one row shorter than the terminal and no
// pane may grow with its content.
//
// Two arrangements: the full one shows every pane at once and needs FULL_COLUMNS x FULL_ROWS; the
// compact one (down to 80x24, the default size of most terminals) keeps the checklist and shows
// one of the console, the virtqueue panel or the steps and lesson beside it, switched with `v`.

export const FULL_COLUMNS = 100;
export const FULL_ROWS = 30;
/** Below this, even the compact layout would wrap: TooSmall says so instead. */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

/** What the compact layout's main area shows; the full layout shows them all. */
export type MainPane = 'console' | 'panel' | 'lesson';
export const MAIN_PANES: readonly MainPane[] = ['console', 'panel', 'lesson'];

export function nextPane(pane: MainPane): MainPane {
	return MAIN_PANES[(MAIN_PANES.indexOf(pane) + 1) % MAIN_PANES.length]!;
}

export interface Layout {
	compact: boolean;
	width: number;
	/** One row shorter than the terminal (see above). */
	height: number;
	/** The rows between the header and the footer. */
	bodyHeight: number;
	middleHeight: number;
	bottomHeight: number;
	checklistWidth: number;
	consoleWidth: number;
	panelWidth: number;
	stepLogWidth: number;
	lessonWidth: number;
	/** Compact only: the area right of the checklist that shows one pane at a time. */
	mainWidth: number;
	/** Compact only: how the steps and the lesson share the main area, stacked. */
	compactStepLogHeight: number;
	/** The guest console's size in cells: the pane minus its border and its title line. */
	consoleCols: number;
	consoleRows: number;
}

const HEADER_ROWS = 1;
const FOOTER_ROWS = 1;

/** undefined when the terminal is smaller than MIN_COLUMNS x MIN_ROWS. */
export function computeLayout(columns: number, rows: number): Layout | undefined {
	if (columns < MIN_COLUMNS || rows < MIN_ROWS) return undefined;
	return columns >= FULL_COLUMNS && rows >= FULL_ROWS ? fullLayout(columns, rows) : compactLayout(columns, rows);
}

function fullLayout(columns: number, rows: number): Layout {
	const height = rows - 1;
	const body = height - HEADER_ROWS - FOOTER_ROWS;
	// The console and the ring panel are what the learner watches: they get most of the height.
	const middleHeight = Math.floor(body * 0.6);
	const bottomHeight = body - middleHeight;

	const checklistWidth = 26;
	// The panel grows a little on wide terminals; the console takes the rest (80 columns at 140+).
	const panelWidth = Math.min(44, 34 + Math.floor((columns - FULL_COLUMNS) / 4));
	const consoleWidth = columns - checklistWidth - panelWidth;

	const stepLogWidth = Math.floor(columns * 0.55);
	const lessonWidth = columns - stepLogWidth;

	return {
		compact: false,
		width: columns,
		height,
		bodyHeight: body,
		middleHeight,
		bottomHeight,
		checklistWidth,
		consoleWidth,
		panelWidth,
		stepLogWidth,
		lessonWidth,
		mainWidth: 0,
		compactStepLogHeight: 0,
		consoleCols: consoleWidth - 2,
		consoleRows: middleHeight - 2 - 1,
	};
}

function compactLayout(columns: number, rows: number): Layout {
	const height = rows - 1;
	const body = height - HEADER_ROWS - FOOTER_ROWS;
	// Wide enough for "› ✔ 4. virtio-hello" inside its border; the main pane gets the rest.
	const checklistWidth = 20;
	const mainWidth = columns - checklistWidth;
	return {
		compact: true,
		width: columns,
		height,
		bodyHeight: body,
		middleHeight: body,
		bottomHeight: 0,
		checklistWidth,
		consoleWidth: mainWidth,
		panelWidth: mainWidth,
		stepLogWidth: mainWidth,
		lessonWidth: mainWidth,
		mainWidth,
		// The steps on top (they say what is happening), the lesson under them.
		compactStepLogHeight: Math.ceil(body / 2),
		consoleCols: mainWidth - 2,
		consoleRows: body - 2 - 1,
	};
}
