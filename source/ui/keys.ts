// Raw key sequences, as Ink's input parser splits them, to the app's own commands.

/** Ctrl-] leaves the console, as in telnet: Tab and Esc are needed inside the guest's shell and vi. */
export const LEAVE_CONSOLE = '\x1d';

export type AppKey =
	| 'up'
	| 'down'
	| 'enter'
	| 'tab'
	| 'quit'
	| 'cancel'
	| 'inside'
	| 'help'
	| 'escape'
	| 'edit'
	| 'setup'
	| 'background'
	| 'stop-background'
	| 'hint'
	| 'demo';

const APP_KEYS: Record<string, AppKey> = {
	'\x1b[A': 'up',
	'\x1bOA': 'up',
	k: 'up',
	'\x1b[B': 'down',
	'\x1bOB': 'down',
	j: 'down',
	'\r': 'enter',
	'\n': 'enter',
	'\t': 'tab',
	q: 'quit',
	'\x03': 'quit',
	c: 'cancel',
	i: 'inside',
	e: 'edit',
	s: 'setup',
	b: 'background',
	B: 'stop-background',
	h: 'hint',
	d: 'demo',
	'?': 'help',
	'\x1b': 'escape',
};

/**
 * The first key of a chunk of input, and the rest. Ink hands over what one read() returned, and
 * keys typed before the app switched the terminal to raw mode arrive together, as the line the
 * terminal had buffered ("i\r"). An escape sequence stays whole (Ink splits those itself);
 * CR LF is one Enter.
 */
export function firstKey(data: string): [key: string, rest: string] {
	if (data.startsWith('\x1b')) return [data, ''];
	const size = data.startsWith('\r\n') ? 2 : String.fromCodePoint(data.codePointAt(0) ?? 0).length;
	return [data.slice(0, size), data.slice(size)];
}

/** The command a key means while the milestone list has focus, if any. */
export function appKeyFor(data: string): AppKey | undefined {
	return Object.hasOwn(APP_KEYS, data) ? APP_KEYS[data] : undefined;
}

/**
 * While the console has focus: what to send to the guest, and whether to leave the console.
 * A paste that contains Ctrl-] delivers what came before it and drops the rest.
 */
export function consoleKeys(data: string): {send: string; leave: boolean} {
	const at = data.indexOf(LEAVE_CONSOLE);
	return at === -1 ? {send: data, leave: false} : {send: data.slice(0, at), leave: true};
}

/** While a prediction is asked: the input line after one key (digits, Backspace), or undefined. */
export function predictionInput(input: string, key: string): string | undefined {
	if (/^\d$/.test(key)) return input.length < 9 ? input + key : input;
	if (key === '\x7f' || key === '\b') return input.slice(0, -1);
	return undefined;
}
