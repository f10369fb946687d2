// The guest console's two views: the terminal screen (@xterm/headless) and the console lines.
// Fed as QEMU's pty feeds it: strings from node-pty, here from a real shell in a real pty, or
// chunk by chunk through feed() where a test needs chunk boundaries at exact places.
import {readFileSync} from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import pty from 'node-pty';
import type {LabEvent} from '../../../source/lab/lab-events.js';
import {SerialConsole} from '../../../source/lab/vm/serial-console.js';
import {tempDir} from '../../helpers/temp.js';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const esc = '\x1b';

interface Console {
	console: SerialConsole;
	events: LabEvent[];
	lines: () => string[];
	screens: () => {rows: string[]; cursor: {x: number; y: number}}[];
	typed: string[];
	transcript: string;
}

function makeConsole(t: ExecutionContext, cols = 80, rows = 24, spawnedAt?: number): Console {
	const events: LabEvent[] = [];
	const typed: string[] = [];
	const transcript = path.join(tempDir(t, 'kc-console-'), 'console.log');
	const console = new SerialConsole(
		event => events.push(event),
		transcript,
		data => typed.push(data),
		cols,
		rows,
		spawnedAt,
	);
	t.teardown(() => console.close('test over'));
	return {
		console,
		events,
		typed,
		transcript,
		lines: () => events.flatMap(event => (event.type === 'console-line' ? [event.line] : [])),
		screens: () => events.flatMap(event => (event.type === 'console-screen' ? [event] : [])),
	};
}

/** Waits until the screen shows what `ready` wants: xterm parses what it is given asynchronously. */
async function screenWhen(
	console: SerialConsole,
	ready: (rows: string[]) => boolean,
): Promise<{rows: string[]; cursor: {x: number; y: number}}> {
	const until = Date.now() + 3000;
	for (;;) {
		const screen = console.screen();
		if (ready(screen.rows) || Date.now() > until) return screen;
		await sleep(10);
	}
}

/** Runs a shell script in a real pty and feeds what it prints to the console, as QemuVm does with QEMU. */
function feedFromPty(console: SerialConsole, script: string, cols = 80, rows = 24): Promise<number> {
	const child = pty.spawn('/bin/sh', ['-c', script], {
		cols,
		rows,
		name: 'xterm-256color',
		env: {PATH: process.env.PATH},
	});
	child.onData(data => console.feed(data));
	return new Promise(resolve => child.onExit(({exitCode}) => resolve(exitCode)));
}

test('a real pty: lines come out ANSI-stripped without CR, and the screen shows colour-free text in place', async t => {
	const c = makeConsole(t);
	// printf in a pty: the line discipline turns each \n into \r\n, as QEMU's pty does.
	const code = await feedFromPty(c.console, `printf 'plain\\n\\033[1;32mgreen\\033[0m and normal\\n'`);
	t.is(code, 0);
	await sleep(100);
	t.deepEqual(c.lines(), ['plain', 'green and normal']);
	const screen = await screenWhen(c.console, rows => rows[1] === 'green and normal');
	t.deepEqual(screen.rows.slice(0, 3), ['plain', 'green and normal', '']);
	t.deepEqual(screen.cursor, {x: 0, y: 2});
	t.is(screen.rows.length, 24);
	// The transcript holds every byte as received, escapes and CRs included.
	t.is(readFileSync(c.transcript, 'utf8'), 'plain\r\n\x1b[1;32mgreen\x1b[0m and normal\r\n');
});

test('a real pty: a UTF-8 character written in two halves arrives whole, on the screen and in the line', async t => {
	const c = makeConsole(t);
	// € is e2 82 ac: the first two bytes, a pause (so the pty delivers two reads), then the last one.
	const code = await feedFromPty(c.console, `printf 'price 5\\342\\202'; sleep 0.3; printf '\\254 ok\\n'`);
	t.is(code, 0);
	await sleep(100);
	t.deepEqual(c.lines(), ['price 5€ ok']);
	const screen = await screenWhen(c.console, rows => rows[0] === 'price 5€ ok');
	t.is(screen.rows[0], 'price 5€ ok');
	t.false(screen.rows.join('').includes('\ufffd'), 'no replacement character on the screen');
});

test('carriage returns and cursor moves render as a terminal would; the line keeps the text only', async t => {
	const c = makeConsole(t);
	// A progress counter rewritten in place with CR, then a line cleared and rewritten.
	c.console.feed('progress 10%\rprogress 55%\rprogress 99%\r\n');
	c.console.feed(`old text here${esc}[2K\rnew\r\n`);
	// Cursor to row 5, column 10 (1-based) and a word there; then back to the start of row 4.
	c.console.feed(`${esc}[5;10Hthere${esc}[4;1H`);
	const screen = await screenWhen(c.console, rows => rows[4] === '         there');
	t.is(screen.rows[0], 'progress 99%');
	t.is(screen.rows[1], 'new');
	t.is(screen.rows[4], '         there');
	t.deepEqual(screen.cursor, {x: 0, y: 3});
	// The line view has no terminal: CRs go, the text before them stays (it is a log, not a screen).
	t.deepEqual(c.lines(), ['progress 10%progress 55%progress 99%', 'old text herenew']);
});

test('clear screen: earlier rows are gone from the visible screen', async t => {
	const c = makeConsole(t, 40, 5);
	c.console.feed('one\r\ntwo\r\nthree\r\n');
	await screenWhen(c.console, rows => rows[2] === 'three');
	c.console.feed(`${esc}[2J${esc}[Hfresh`);
	const screen = await screenWhen(c.console, rows => rows[0] === 'fresh');
	t.deepEqual(screen.rows, ['fresh', '', '', '', '']);
	t.deepEqual(screen.cursor, {x: 5, y: 0});
	t.deepEqual(c.lines(), ['one', 'two', 'three']);
});

test('a line split across chunks is one console-line, emitted once its newline comes', t => {
	const c = makeConsole(t);
	c.console.feed('[    0.1234] virtio_');
	c.console.feed('blk virtio0: [vda] 65536 ');
	t.deepEqual(c.lines(), [], 'no line before its end');
	c.console.feed('512-byte logical blocks\r');
	t.deepEqual(c.lines(), []);
	c.console.feed('\nsecond\r\nthi');
	t.deepEqual(c.lines(), ['[    0.1234] virtio_blk virtio0: [vda] 65536 512-byte logical blocks', 'second']);
	c.console.feed('rd\n');
	t.deepEqual(c.lines(), ['[    0.1234] virtio_blk virtio0: [vda] 65536 512-byte logical blocks', 'second', 'third']);
});

test('an escape sequence cut by a chunk boundary is neither in the line nor on the screen', async t => {
	const c = makeConsole(t);
	c.console.feed(`before ${esc}`);
	c.console.feed('[31mred');
	c.console.feed(`${esc}[`);
	c.console.feed(`0m after\r\n`);
	t.deepEqual(c.lines(), ['before red after']);
	const screen = await screenWhen(c.console, rows => rows[0] === 'before red after');
	t.is(screen.rows[0], 'before red after');
});

test('a very long line without a newline: it wraps on screen, and no console-line until it ends', async t => {
	const c = makeConsole(t, 80, 24);
	const long = Array.from({length: 250}, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
	// In chunks of 37, as a pty hands out reads of any size.
	for (let i = 0; i < long.length; i += 37) c.console.feed(long.slice(i, i + 37));
	t.deepEqual(c.lines(), []);
	const screen = await screenWhen(c.console, rows => rows[3] !== '');
	t.deepEqual(screen.rows.slice(0, 4), [long.slice(0, 80), long.slice(80, 160), long.slice(160, 240), long.slice(240)]);
	t.deepEqual(screen.cursor, {x: 10, y: 3});
	c.console.feed('\r\n');
	t.deepEqual(c.lines(), [long]);
	// Every byte of it is in the text the waits read, too.
	t.is(c.console.textSince(0), `${long}\n`);
});

test('console-screen events are throttled: many chunks make few frames, and the last frame is current', async t => {
	const c = makeConsole(t, 80, 24);
	for (let i = 0; i < 200; i++) c.console.feed(`line ${i}\r\n`);
	t.is(c.screens().length, 0, 'no frame drawn synchronously');
	await sleep(300);
	const frames = c.screens();
	t.true(frames.length >= 1 && frames.length <= 3, `${frames.length} frames for 200 chunks`);
	const rows = frames.at(-1)!.rows;
	t.is(rows.length, 24);
	t.is(rows[22], 'line 199', 'the frame shows the end of the output, scrolled');
	t.is(rows[0], 'line 177');
	// An idle console draws nothing more.
	const count = frames.length;
	await sleep(200);
	t.is(c.screens().length, count);
	t.is(c.lines().length, 200);
});

test('resize: the screen has the new size and a frame follows', async t => {
	const c = makeConsole(t, 80, 24);
	c.console.feed('hello\r\n');
	await sleep(150);
	const before = c.screens().length;
	c.console.resize(100, 10);
	await sleep(150);
	const frames = c.screens();
	t.is(frames.length, before + 1);
	t.is(frames.at(-1)!.rows.length, 10);
	const long = 'x'.repeat(95);
	c.console.feed(`${long}\r\n`);
	const screen = await screenWhen(c.console, rows => rows.includes(long));
	t.true(screen.rows.includes(long), '95 columns fit on one row after the resize to 100');
});

test('close draws one last frame, with the chunk fed just before it; a chunk after close gets one more, nothing else does', async t => {
	const c = makeConsole(t);
	c.console.feed('booting\r\n');
	await screenWhen(c.console, rows => rows[0] === 'booting');
	const before = c.screens().length;
	c.console.feed('last words\r\n');
	c.console.close('QEMU exited');
	t.true(c.console.closed);
	// The frame waits for xterm's parser (a later tick), so QEMU's last words are in it.
	const until = Date.now() + 3000;
	while (c.screens().length === before && Date.now() < until) await sleep(10);
	t.is(c.screens().length, before + 1, 'one frame for close, not the throttle timer as well');
	t.is(c.screens().at(-1)!.rows[1], 'last words');
	// The throttle's timer was cancelled: no frame comes by itself.
	await sleep(150);
	t.is(c.screens().length, before + 1);
	// What still comes after close (QEMU's last words, after its exit was seen) gets one frame.
	c.console.feed('after close\r\n');
	const until2 = Date.now() + 3000;
	while (c.screens().length === before + 1 && Date.now() < until2) await sleep(10);
	await sleep(150);
	t.is(c.screens().length, before + 2);
	t.is(c.screens().at(-1)!.rows[2], 'after close');
});

test('boot marks: first byte and the init line, even when a chunk boundary cuts the init line', t => {
	const spawnedAt = Date.now() - 1000;
	const c = makeConsole(t, 80, 24, spawnedAt);
	t.is(c.console.marks.spawnedAt, spawnedAt);
	t.is(c.console.marks.firstByteAt, undefined);
	const beforeFirst = Date.now();
	c.console.feed('SeaBIOS\r\n');
	const firstByteAt = c.console.marks.firstByteAt;
	t.true(firstByteAt !== undefined && firstByteAt >= beforeFirst && firstByteAt <= Date.now());
	c.console.feed('[    0.5] Run /in');
	t.is(c.console.marks.initAt, undefined, 'half the marker is not the marker');
	c.console.feed('it as init process\r\n');
	const initAt = c.console.marks.initAt;
	t.true(initAt !== undefined && initAt >= firstByteAt!);
	c.console.feed('[    0.9] Run /sbin/init as init process\r\n');
	t.is(c.console.marks.initAt, initAt, 'the first one counts');
	t.is(c.console.marks.firstByteAt, firstByteAt);
});

test('type() writes to the pty, and nothing after close', t => {
	const c = makeConsole(t);
	c.console.type('ls\r');
	c.console.close('gone');
	c.console.type('reboot -f\r');
	t.deepEqual(c.typed, ['ls\r']);
});

test('waits on the console see text split across chunks and ignore escapes', async t => {
	const c = makeConsole(t);
	const since = c.console.offset;
	const wait = c.console.expect(/~ # $/, {what: 'the prompt', timeoutMs: 2000, since, quiet: true});
	c.console.feed(`${esc}[1m~`);
	c.console.feed(` ${esc}[0m#`);
	c.console.feed(' ');
	const match = await wait;
	t.is(match[0], '~ # ');
});
