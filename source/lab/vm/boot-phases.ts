/**
 * Where a boot's time goes, from host-side timestamps on the serial console:
 *   firmware  — QEMU spawned → the first byte on ttyS0 (QEMU's own start, the BIOS, loading
 *               the kernel and initramfs; Linux's early console is the first to print);
 *   kernel    — first byte → the kernel's "Run /init as init process" line;
 *   userspace — that line → the shell prompt (busybox init script, hooks, the shell).
 * The three phases add up to the total, QEMU start to prompt.
 */
export interface BootPhases {
	firmwareMs: number;
	kernelMs: number;
	userspaceMs: number;
	totalMs: number;
}

/** Host times (Date.now()) seen on the console while a guest boots. */
export interface BootMarks {
	spawnedAt: number;
	firstByteAt?: number;
	initAt?: number;
}

/** The kernel's last word before PID 1 runs (init/main.c, pr_info). */
export const initMarker = /Run \S+ as init process/;

/** The phases, once every mark is in; undefined when one is missing (e.g. the kernel printed nothing). */
export function bootPhases(marks: BootMarks, promptAt: number): BootPhases | undefined {
	const {spawnedAt, firstByteAt, initAt} = marks;
	if (firstByteAt === undefined || initAt === undefined) return undefined;
	if (!(spawnedAt <= firstByteAt && firstByteAt <= initAt && initAt <= promptAt)) return undefined;
	return {
		firmwareMs: firstByteAt - spawnedAt,
		kernelMs: initAt - firstByteAt,
		userspaceMs: promptAt - initAt,
		totalMs: promptAt - spawnedAt,
	};
}

export function describeBootPhases(phases: BootPhases): string {
	const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
	return `firmware ${s(phases.firmwareMs)} + kernel ${s(phases.kernelMs)} + userspace ${s(phases.userspaceMs)}`;
}
