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
	| 'switch-pane'
	| 'hint'
	| 'demo'
	| 'gdb';

/** What a key means while the gdb pane has focus. */
export type GdbKey = 'continue' | 'step' | 'next' | 'finish' | 'backtrace' | 'interrupt' | 'type' | 'detach' | 'leave';

/** One line of help and the raw sequences it covers, each with the command it means. */
export interface KeyBinding {
	/** How help names the keys. */
	label: string;
	help: string;
	/**
	 * Sequence to command while the list has focus. Empty for Ctrl-], which the console handles
	 * itself (consoleKeys) and which means nothing to the list.
	 */
	keys: ReadonlyArray<readonly [sequence: string, command: AppKey]>;
}

/**
 * Every key the app knows, in the order help lists them. The app's bindings are built from this
 * table, so a key cannot be bound without a help line.
 */
export const KEY_BINDINGS: readonly KeyBinding[] = [
	{
		label: '↑ ↓  (k j)',
		help: 'pick a milestone',
		keys: [
			['\x1b[A', 'up'],
			['\x1bOA', 'up'],
			['k', 'up'],
			['\x1b[B', 'down'],
			['\x1bOB', 'down'],
			['j', 'down'],
		],
	},
	{
		label: 'Enter',
		help: 'run the selected milestone; its VM stays up',
		keys: [
			['\r', 'enter'],
			['\n', 'enter'],
		],
	},
	{label: 'Tab', help: 'type into the guest console', keys: [['\t', 'tab']]},
	{label: 'Ctrl-]', help: 'leave the guest console; other keys go to the guest', keys: []},
	{label: 'v', help: 'switch pane: console, ring panel, steps+lesson', keys: [['v', 'switch-pane']]},
	{label: 'h', help: 'next hint for the current step', keys: [['h', 'hint']]},
	{label: 'd', help: 'demo: kernelcraft does the remaining steps', keys: [['d', 'demo']]},
	{label: 'c', help: 'cancel the running milestone, stop its VM', keys: [['c', 'cancel']]},
	{label: 'g', help: 'gdb pane on the VM (needs kernelcraft --debug)', keys: [['g', 'gdb']]},
	{label: 'i', help: 'inside the ring: what the indices mean now', keys: [['i', 'inside']]},
	{label: 'e', help: "edit the milestone's source; saved, it reruns", keys: [['e', 'edit']]},
	{label: 's', help: 'set up the host for it (apt-get, asks first)', keys: [['s', 'setup']]},
	{label: 'b', help: 'pause or resume the background QEMU build', keys: [['b', 'background']]},
	{label: 'B', help: 'stop the background QEMU build', keys: [['B', 'stop-background']]},
	{
		label: '?  Esc',
		help: 'show or hide this help',
		keys: [
			['?', 'help'],
			['\x1b', 'escape'],
		],
	},
	{
		label: 'q  Ctrl-C',
		help: 'quit (stops the VM)',
		keys: [
			['q', 'quit'],
			['\x03', 'quit'],
		],
	},
];

/** The gdb pane's keys while it has focus (Esc or g gives focus back to the list). */
export const GDB_KEY_BINDINGS: ReadonlyArray<{
	label: string;
	help: string;
	keys: ReadonlyArray<readonly [sequence: string, command: GdbKey]>;
}> = [
	{
		label: 'c s n f t',
		help: 'gdb pane: continue, step, next, finish, backtrace',
		keys: [
			['c', 'continue'],
			['s', 'step'],
			['n', 'next'],
			['f', 'finish'],
			['t', 'backtrace'],
		],
	},
	{
		label: 'x Tab q',
		help: 'gdb pane: stop the guest, type into gdb, detach',
		keys: [
			['x', 'interrupt'],
			['\t', 'type'],
			['q', 'detach'],
			['\x1b', 'leave'],
			['g', 'leave'],
		],
	},
];

const APP_KEYS: Record<string, AppKey> = Object.fromEntries(KEY_BINDINGS.flatMap(binding => binding.keys));
const GDB_KEYS: Record<string, GdbKey> = Object.fromEntries(GDB_KEY_BINDINGS.flatMap(binding => binding.keys));

/** The command a key means while the gdb pane has focus, if any. */
export function gdbKeyFor(data: string): GdbKey | undefined {
	return Object.hasOwn(GDB_KEYS, data) ? GDB_KEYS[data] : undefined;
}

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
