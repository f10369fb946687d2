/**
 * The facts a lesson states, read out of its text: the files it points at, the functions and
 * macros it names, the PCI IDs and spec sections it quotes. The lesson-facts test checks each
 * against the real trees (Linux 6.1, QEMU 7.2, this repository), the running VM and the virtio
 * 1.2 section list, so a rename upstream or a wrong ID fails the suite instead of teaching it.
 *
 * Reading them from the text, rather than from a list beside it, means a fact cannot be added to
 * a lesson without being checked. The patterns are strict on purpose: a name only counts as a
 * function when written with its parentheses, a macro when it is in capitals with an underscore.
 */

export type LessonFact =
	/** A path in one of the trees (or this repository), as a lesson points at it. */
	| {kind: 'file'; path: string}
	/** "file.c: function": the function is defined in that file. */
	| {kind: 'defined-in'; path: string; name: string}
	/** `name()` or `name(args)`: a function (or function-like macro) of one of the trees. */
	| {kind: 'function'; name: string}
	/** VIRTIO_RING_F_EVENT_IDX, PCI_CLASS_OTHERS: a macro or enum constant of one of the trees. */
	| {kind: 'constant'; name: string}
	/**
	 * "1af4:1001": a PCI vendor:device pair the milestone's guest shows (its own IDs or its
	 * subsystem's). A lesson that speaks of an ID the guest does not have writes it alone (0x1042).
	 */
	| {kind: 'pci-id'; vendor: string; device: string}
	/** "§2.7.5.3.1": a section of the virtio 1.2 specification. */
	| {kind: 'spec'; section: string};

const fileExtensions = 'c|h|config|md|py|sh|mak|build|patch|txt';
const pathPattern = new RegExp(String.raw`(?<![\w/.-])((?:[\w.-]+/)+[\w.-]+\.(?:${fileExtensions}))(?![\w/])`, 'g');
/** A bare source file name (virtio-pci.c): checked by name in the trees. */
const bareFilePattern = /(?<![\w/.-])([\w-]+\.[ch])(?![\w/.])/g;
const definedInPattern = new RegExp(String.raw`((?:[\w.-]+/)+[\w.-]+\.c):\s+([a-z_][a-z0-9_]+)\b`, 'g');
const functionPattern = /(?<![\w.>*-])([a-z_][a-z0-9_]*[a-z0-9_])\((?!\s*[0-9]+\))/g;
const constantPattern = /(?<![\w-])([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])(?![\w-])/g;
const pciIdPattern = /(?<![\w:])([0-9a-f]{4}):([0-9a-f]{4})(?![\w:])/g;
const specPattern = /§\s?(\d+(?:\.\d+)*)/g;

/**
 * Words in parentheses that are not functions (shell or libc names the lessons quote), and
 * capitals that are not macros (names of status bits as QMP prints them are matched by suffix).
 */
const notFunctions = new Set(['read', 'write', 'ioctl', 'main', 'sizeof']);

/** Every fact the text states, each once, in the order it first appears. */
export function factsOf(text: string): LessonFact[] {
	const facts = new Map<string, LessonFact>();
	const add = (fact: LessonFact) => facts.set(JSON.stringify(fact), fact);
	for (const match of text.matchAll(definedInPattern)) add({kind: 'defined-in', path: match[1]!, name: match[2]!});
	for (const match of text.matchAll(pathPattern)) add({kind: 'file', path: match[1]!});
	for (const match of text.matchAll(bareFilePattern)) add({kind: 'file', path: match[1]!});
	for (const match of text.matchAll(functionPattern))
		if (!notFunctions.has(match[1]!)) add({kind: 'function', name: match[1]!});
	for (const match of text.matchAll(constantPattern)) add({kind: 'constant', name: match[1]!});
	for (const match of text.matchAll(pciIdPattern)) add({kind: 'pci-id', vendor: match[1]!, device: match[2]!});
	for (const match of text.matchAll(specPattern)) add({kind: 'spec', section: match[1]!});
	return [...facts.values()];
}
