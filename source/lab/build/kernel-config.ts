import fs from 'node:fs';
import path from 'node:path';

/** One line of a config fragment: CONFIG_X=value, or "# CONFIG_X is not set" (value null). */
export interface ConfigRequest {
	symbol: string;
	value: string | null;
	/** Where it was asked for, for error messages: "configs/kernel/20-virtio.config:12". */
	origin: string;
}

const setLine = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/;
const unsetLine = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/;

export function parseConfig(text: string, origin: string): ConfigRequest[] {
	const requests: ConfigRequest[] = [];
	text.split('\n').forEach((raw, index) => {
		const line = raw.trim();
		const set = setLine.exec(line);
		const unset = unsetLine.exec(line);
		if (set) requests.push({symbol: set[1]!, value: set[2]!, origin: `${origin}:${index + 1}`});
		else if (unset) requests.push({symbol: unset[1]!, value: null, origin: `${origin}:${index + 1}`});
	});
	return requests;
}

/** The final value of each symbol in a .config (absent and "is not set" both read as null). */
export function readConfigValues(text: string): Map<string, string | null> {
	const values = new Map<string, string | null>();
	for (const request of parseConfig(text, '.config')) values.set(request.symbol, request.value);
	return values;
}

export interface ConfigMismatch {
	request: ConfigRequest;
	actual: string | null;
}

/**
 * Kconfig silently drops what it cannot honour (a typo, an unmet "depends on"): the build would
 * go on without the option. So every requested value is checked against the final .config.
 */
export function findUnhonoured(requests: ConfigRequest[], finalConfig: string): ConfigMismatch[] {
	const actual = readConfigValues(finalConfig);
	const mismatches: ConfigMismatch[] = [];
	for (const request of requests) {
		const value = actual.get(request.symbol) ?? null;
		const wanted = request.value === 'n' ? null : request.value;
		if (value !== wanted) mismatches.push({request, actual: value});
	}
	return mismatches;
}

export function describeMismatch(mismatch: ConfigMismatch, kconfigDependsOn?: string): string {
	const {request, actual} = mismatch;
	const wanted = request.value === null ? 'unset' : `=${request.value}`;
	const got = actual === null ? 'it is not set' : `it is ${actual}`;
	const why =
		kconfigDependsOn === undefined
			? " (no such option in this kernel's Kconfig: a typo, or an option of another kernel version)"
			: kconfigDependsOn
				? ` (it depends on: ${kconfigDependsOn})`
				: '';
	return `${request.symbol}${wanted} asked for in ${request.origin}, but ${got}${why}`;
}

/**
 * Finds "config SYMBOL" in the tree's Kconfig files and returns its "depends on" lines joined
 * (empty when it has none), or undefined when the symbol does not exist at all.
 */
export function kconfigDependsOn(sourceDir: string, symbol: string): string | undefined {
	const name = symbol.replace(/^CONFIG_/, '');
	const header = new RegExp(`^(menu)?config ${name}\\s*$`);
	for (const file of kconfigFiles(sourceDir)) {
		const lines = fs.readFileSync(file, 'utf8').split('\n');
		const start = lines.findIndex(line => header.test(line.trim()));
		if (start === -1) continue;
		const depends: string[] = [];
		for (let i = start + 1; i < lines.length; i++) {
			const line = lines[i]!.trim();
			if (/^(config|menuconfig|endmenu|menu|choice|endchoice|if|endif|source)\b/.test(line)) break;
			const match = /^depends on (.*)$/.exec(line);
			if (match) depends.push(match[1]!);
		}
		return depends.join(' && ');
	}
	return undefined;
}

function* kconfigFiles(dir: string): Generator<string> {
	for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
		if (entry.name.startsWith('.')) continue;
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			// Only x86 matters here; skipping the other architectures keeps the search quick.
			if (dir.endsWith(`${path.sep}arch`) && entry.name !== 'x86') continue;
			if (['Documentation', 'tools', 'scripts', 'samples', 'LICENSES'].includes(entry.name)) continue;
			yield* kconfigFiles(full);
		} else if (entry.name.startsWith('Kconfig')) {
			yield full;
		}
	}
}
