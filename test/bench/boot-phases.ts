// Where a boot's time goes (firmware / kernel / userspace, see source/lab/vm/boot-phases.ts), for
// the lab's own command line and for candidate changes to it, measured in one run, interleaved.
import path from 'node:path';
import {shellPrompt} from '../../source/expedition/shell.js';
import {describeBootPhases, type BootPhases} from '../../source/lab/vm/boot-phases.js';
import {qbootRom, QemuVm, type VmSpec} from '../../source/lab/vm/qemu-vm.js';
import type {AccelChoice} from '../../source/runner/events.js';
import {seconds, stats, type Row} from './report.js';

export interface BootVariant {
	name: string;
	/** What the variant changes on the lab's command line (QemuVm's defaults otherwise). */
	spec?: Partial<VmSpec>;
	/** Another kernel image (e.g. built with an extra config fragment). */
	kernel?: string;
}

/** The prompt wherever it is in the text (a late kernel message may follow it). */
const promptShown = new RegExp(shellPrompt.source.replace(/\$$/, ''));

export async function bootPhasesOnce(
	variant: BootVariant,
	base: {qemu: string; kernel: string; initrd: string; accel: AccelChoice},
	runDir: string,
): Promise<BootPhases> {
	const vm = QemuVm.start(
		{
			qemu: base.qemu,
			kernel: variant.kernel ?? base.kernel,
			initrd: base.initrd,
			accel: base.accel,
			runDir,
			...variant.spec,
		},
		() => undefined,
	);
	try {
		await vm.console.expect(promptShown, {what: `the shell prompt (${variant.name})`, timeoutMs: 120_000, since: 0});
		const phases = vm.bootPhases(Date.now());
		if (!phases)
			throw new Error(
				`${variant.name}: a phase mark is missing (first byte at ${String(vm.console.marks.firstByteAt)}, "Run /init" at ${String(vm.console.marks.initAt)}); last lines: ${vm.console.lastLines(4).join(' ⏎ ')}`,
			);
		return phases;
	} finally {
		await vm.stop();
	}
}

export interface PhaseMedians {
	variant: string;
	firmwareMs: number;
	kernelMs: number;
	userspaceMs: number;
	totalMs: number;
	totalMinMs: number;
	totalMaxMs: number;
	runs: number;
}

/** Every variant once per round, in turn, after one unmeasured warm-up round; medians per phase. */
export async function measureBootPhases(
	variants: BootVariant[],
	base: {qemu: string; kernel: string; initrd: string; accel: AccelChoice},
	runs: number,
	scratch: string,
	log: (line: string) => void,
): Promise<PhaseMedians[]> {
	const seen = new Map<string, BootPhases[]>(variants.map(variant => [variant.name, []]));
	for (let round = 0; round <= runs; round++) {
		for (const [index, variant] of variants.entries()) {
			const phases = await bootPhasesOnce(variant, base, path.join(scratch, `phases-${index}-${round}`));
			if (round > 0) seen.get(variant.name)!.push(phases);
			log(
				`boot phases ${round === 0 ? 'warm-up' : `${round}/${runs}`}, ${variant.name}: ${describeBootPhases(phases)} = ${seconds(phases.totalMs)}`,
			);
		}
	}
	return variants.map(variant => {
		const all = seen.get(variant.name)!;
		const median = (key: keyof BootPhases) => stats(all.map(phases => phases[key])).median;
		const total = stats(all.map(phases => phases.totalMs));
		return {
			variant: variant.name,
			firmwareMs: median('firmwareMs'),
			kernelMs: median('kernelMs'),
			userspaceMs: median('userspaceMs'),
			totalMs: total.median,
			totalMinMs: total.min,
			totalMaxMs: total.max,
			runs: all.length,
		};
	});
}

export function phaseRows(medians: PhaseMedians[]): Row[] {
	return medians.map(m => ({
		figure: `boot phases, ${m.variant}`,
		value: `firmware ${seconds(m.firmwareMs)} · kernel ${seconds(m.kernelMs)} · userspace ${seconds(m.userspaceMs)} · total ${seconds(m.totalMs)} (min ${seconds(m.totalMinMs)}, max ${seconds(m.totalMaxMs)}, medians of n=${m.runs})`,
		target: '',
	}));
}

/** The kernel built without this fragment is the "before" kernel the bench compares against. */
export const fastBootFragment = '30-fast-boot.config';

/**
 * The lab's command line first, then the cuts one at a time from the old one (SeaBIOS, APIC timer
 * calibrated, the kernel without configs/kernel/30-fast-boot.config), so each cut's worth shows.
 */
export function bootPhaseVariants(beforeKernel: string | undefined): BootVariant[] {
	const old = {kernel: beforeKernel};
	return [
		{name: 'before: SeaBIOS, XZ kernel with i8042, APIC timer calibrated', ...old, spec: {fastBoot: false}},
		{name: 'before + qboot', ...old, spec: {fastBoot: false, bios: qbootRom}},
		{name: 'before + nolapic_timer', ...old, spec: {fastBoot: false, append: 'nolapic_timer'}},
		{name: 'before + -machine i8042=off', ...old, spec: {fastBoot: false, machine: 'q35,i8042=off'}},
		...(beforeKernel ? [{name: `before + ${fastBootFragment} (LZ4, no i8042 driver)`, spec: {fastBoot: false}}] : []),
		{name: "after: the lab's default (all of the above but -machine i8042=off)"},
	];
}
