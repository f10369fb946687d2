import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

export interface Row {
	figure: string;
	value: string;
	target: string;
	/** undefined: informational, no target. */
	met?: boolean;
}

export interface Stats {
	min: number;
	median: number;
	max: number;
	runs: number[];
}

export function stats(values: number[]): Stats {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
	return {min: sorted[0]!, median, max: sorted.at(-1)!, runs: values};
}

export const seconds = (ms: number, digits = 2) => `${(ms / 1000).toFixed(digits)} s`;
export const spread = (s: Stats, digits = 2) =>
	`${seconds(s.median, digits)} (min ${seconds(s.min, digits)}, max ${seconds(s.max, digits)}, n=${s.runs.length})`;

export interface Machine {
	cpus: number;
	model: string;
	memory: string;
	load: string;
	node: string;
	qemu: string;
	date: string;
}

export function machine(): Machine {
	const model =
		/^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
		os.cpus()[0]?.model ??
		'unknown';
	let qemu = 'unknown';
	try {
		qemu = /version (\S+)/.exec(execFileSync('qemu-system-x86_64', ['--version'], {encoding: 'utf8'}))?.[1] ?? qemu;
	} catch {}
	return {
		cpus: os.availableParallelism(),
		model,
		memory: `${Math.round(os.totalmem() / 1024 ** 3)} GiB`,
		load: os
			.loadavg()
			.map(value => value.toFixed(2))
			.join(' '),
		node: process.version,
		qemu,
		date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
	};
}

export function markdownTable(rows: Row[]): string {
	const lines = ['| figure | value | target | met? |', '| --- | --- | --- | --- |'];
	for (const row of rows)
		lines.push(
			`| ${row.figure} | ${row.value} | ${row.target || '—'} | ${row.met === undefined ? '—' : row.met ? 'yes' : '**no**'} |`,
		);
	return lines.join('\n');
}

export const benchStartMarker = '<!-- bench:start -->';
export const benchEndMarker = '<!-- bench:end -->';

/** Replaces only what is between the markers (creating the file, or appending the markers, if needed). */
export function writeBetweenMarkers(
	file: string,
	body: string,
	startMarker = benchStartMarker,
	endMarker = benchEndMarker,
): void {
	let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : `${startMarker}\n${endMarker}\n`;
	let start = text.indexOf(startMarker);
	let end = text.indexOf(endMarker, start);
	if (start === -1 || end === -1) {
		text = `${text.replace(/\n*$/, '\n\n')}${startMarker}\n${endMarker}\n`;
		start = text.indexOf(startMarker);
		end = text.indexOf(endMarker, start);
	}
	const next = `${text.slice(0, start + startMarker.length)}\n${body.trim()}\n${text.slice(end)}`;
	const scratch = `${file}.${process.pid}.tmp`;
	fs.writeFileSync(scratch, next);
	fs.renameSync(scratch, file);
}
