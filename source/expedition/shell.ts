import {LabError} from '../lab/lab-error.js';
import type {QemuVm} from '../lab/vm/qemu-vm.js';
import type {StepContext} from './types.js';

/** The prompt configs/rootfs/init sets; seeing it means the guest's shell reads the console. */
// Kernel messages can follow the prompt on the same line (they print late under TCG), so the
// prompt is matched where it starts a line, not only at the very end of the text.
export const shellPrompt = /(?:^|\n)kernelcraft:[^\n]*# /;

export function requireVm(ctx: StepContext): QemuVm {
	const vm = ctx.session.vm;
	if (!vm || !vm.running) throw new Error('This step needs the VM booted by an earlier step.');
	return vm;
}

/**
 * Runs a check command in the guest, on the check shell (ttyS2): its output comes back exactly,
 * with no kernel messages mixed in, and the learner's console is left alone.
 */
export async function guest(
	ctx: StepContext,
	command: string,
	timeoutMs = 30_000,
): Promise<{output: string; status: number}> {
	return requireVm(ctx).checks.run(command, {timeoutMs, step: ctx.step, signal: ctx.signal, quiet: ctx.quietChecks});
}

/** A check that must succeed: on failure, its output and the last dmesg lines say why. */
export async function check(ctx: StepContext, command: string, timeoutMs = 60_000): Promise<string> {
	const {output, status} = await guest(ctx, command, timeoutMs);
	if (status !== 0) {
		const dmesg = (await guest(ctx, 'dmesg | tail -n 6')).output.split('\n');
		throw new LabError({
			what: `\`${command}\` failed in the guest (status ${status}).`,
			lastSeen: [...output.split('\n'), '--- dmesg:', ...dmesg],
		});
	}
	return output.trim();
}
