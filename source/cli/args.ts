/** A small, strict argument parser: unknown commands and options are errors, never ignored. */

export interface CommandSpec {
	name: string;
	summary: string;
	usage: string;
	/** Flags without values. */
	flags: Record<string, string>;
	/** Options that take a value. */
	options: Record<string, string>;
	positionals: {name: string; required: boolean}[];
}

export interface Parsed {
	command: string;
	flags: Set<string>;
	options: Map<string, string>;
	positionals: string[];
}

export class UsageError extends Error {
	constructor(
		message: string,
		readonly command?: string,
	) {
		super(message);
		this.name = 'UsageError';
	}
}

const shortFlags: Record<string, string> = {'-h': '--help', '-y': '--yes', '-j': '--json'};

export function parseArgs(argv: string[], specs: CommandSpec[], defaultCommand: string): Parsed {
	let command = defaultCommand;
	let rest = argv;
	const first = argv[0];
	if (first !== undefined && !first.startsWith('-')) {
		if (!specs.some(spec => spec.name === first)) {
			throw new UsageError(
				`Unknown command "${first}". Commands: ${specs
					.filter(spec => spec.name !== defaultCommand)
					.map(spec => spec.name)
					.join(', ')}.`,
			);
		}
		command = first;
		rest = argv.slice(1);
	}
	const spec = specs.find(candidate => candidate.name === command)!;
	const parsed: Parsed = {command, flags: new Set(), options: new Map(), positionals: []};
	for (let i = 0; i < rest.length; i++) {
		let arg = shortFlags[rest[i]!] ?? rest[i]!;
		let inlineValue: string | undefined;
		if (arg.startsWith('--') && arg.includes('=')) {
			inlineValue = arg.slice(arg.indexOf('=') + 1);
			arg = arg.slice(0, arg.indexOf('='));
		}
		if (arg === '--help') {
			parsed.flags.add('--help');
		} else if (arg in spec.flags) {
			if (inlineValue !== undefined) throw new UsageError(`${arg} takes no value.`, command);
			parsed.flags.add(arg);
		} else if (arg in spec.options) {
			const value = inlineValue ?? rest[++i];
			if (value === undefined || value.startsWith('--'))
				throw new UsageError(`${arg} needs a value: ${spec.options[arg]}.`, command);
			parsed.options.set(arg, value);
		} else if (arg.startsWith('-')) {
			throw new UsageError(`Unknown option ${arg} for "${command}".`, command);
		} else {
			parsed.positionals.push(arg);
		}
	}
	if (parsed.flags.has('--help')) return parsed;
	const required = spec.positionals.filter(p => p.required).length;
	if (parsed.positionals.length < required)
		throw new UsageError(`"${command}" needs ${spec.positionals.map(p => `<${p.name}>`).join(' ')}.`, command);
	if (parsed.positionals.length > spec.positionals.length)
		throw new UsageError(
			`Unexpected argument "${parsed.positionals[spec.positionals.length]}" for "${command}".`,
			command,
		);
	return parsed;
}

export function helpText(spec: CommandSpec): string {
	const rows = [
		...Object.entries(spec.flags),
		...Object.entries(spec.options).map(([name, what]) => [`${name} <${what.split(':')[0]}>`, what] as const),
		['--help', 'show this help'] as const,
	];
	const width = Math.max(...rows.map(([name]) => name.length));
	return [
		`Usage: ${spec.usage}`,
		'',
		spec.summary,
		'',
		'Options:',
		...rows.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`),
		'',
	].join('\n');
}
