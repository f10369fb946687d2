import xterm from '@xterm/headless';
import type {LabEmit} from '../lab-events.js';
import {initMarker, type BootMarks} from './boot-phases.js';
import {GuestTextStream} from './guest-text-stream.js';

const {Terminal} = xterm;

const screenEveryMs = 66;

/**
 * The guest's serial console (ttyS0), fed by the pty QEMU writes to. Two views of it: a real
 * terminal screen (@xterm/headless, so carriage returns, cursor moves and clears render right)
 * for the TUI, and the plain text stream (GuestTextStream) for waits and the transcript.
 */
export class SerialConsole extends GuestTextStream {
	private readonly terminal: InstanceType<typeof Terminal>;
	private screenTimer: NodeJS.Timeout | undefined;
	/** Host times of the boot's phase marks (see boot-phases.ts); spawnedAt is QEMU's spawn. */
	readonly marks: BootMarks;
	/** The end of the text before the last chunk, so a marker cut by a chunk boundary is still seen. */
	private markTail = '';

	constructor(
		private readonly emitEvent: LabEmit,
		transcriptPath: string,
		write: (data: string) => void,
		cols = 80,
		rows = 24,
		spawnedAt = Date.now(),
	) {
		super(emitEvent, transcriptPath, write, line => emitEvent({type: 'console-line', line}));
		this.terminal = new Terminal({cols, rows, scrollback: 500, allowProposedApi: true});
		this.marks = {spawnedAt};
	}

	override feed(data: string): void {
		if (this.closed) {
			// QEMU's last words can come after its exit was seen: drawn in a frame of their own.
			this.terminal.write(data, () => this.emitScreen());
			super.feed(data);
			return;
		}
		const now = Date.now();
		this.marks.firstByteAt ??= now;
		if (this.marks.initAt === undefined) {
			const text = this.markTail + data;
			if (initMarker.test(text)) this.marks.initAt = now;
			this.markTail = text.slice(-64);
		}
		this.terminal.write(data);
		super.feed(data);
		this.scheduleScreen();
	}

	resize(cols: number, rows: number): void {
		if (this.closed) return;
		this.terminal.resize(cols, rows);
		this.scheduleScreen();
	}

	/** The visible screen as rows of text, and the cursor. */
	screen(): {rows: string[]; cursor: {x: number; y: number}} {
		const buffer = this.terminal.buffer.active;
		const rows: string[] = [];
		for (let y = 0; y < this.terminal.rows; y++)
			rows.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
		return {rows, cursor: {x: buffer.cursorX, y: buffer.cursorY}};
	}

	override close(reason: string): void {
		if (this.closed) return;
		if (this.screenTimer) clearTimeout(this.screenTimer);
		this.screenTimer = undefined;
		// xterm parses writes on a later tick: the last frame waits for the parser to reach the end, so
		// it shows the last chunk QEMU printed (a panic, its last words), and no frame comes after it.
		this.terminal.write('', () => this.emitScreen());
		super.close(reason);
	}

	private scheduleScreen(): void {
		if (this.screenTimer) return;
		// Throttled: a booting kernel prints thousands of lines, the screen needs ~15 frames a second.
		this.screenTimer = setTimeout(() => {
			this.screenTimer = undefined;
			this.emitScreen();
		}, screenEveryMs);
	}

	private emitScreen(): void {
		// xterm parses writes asynchronously; a frame that lags one chunk behind is invisible at this rate.
		const {rows, cursor} = this.screen();
		this.emitEvent({type: 'console-screen', rows, cursor});
	}
}
