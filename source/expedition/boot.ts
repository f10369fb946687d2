import fs from 'node:fs';
import {LabError} from '../lab/lab-error.js';
import {guest, requireVm, shellPrompt} from './shell.js';
import type {GuestFile} from '../lab/build/rootfs.js';
import {describeBootPhases} from '../lab/vm/boot-phases.js';
import type {VmSpec} from '../lab/vm/qemu-vm.js';
import type {MilestoneLogic, StepContext, StepLogic} from './types.js';

const bootTimeoutMs = 60_000;

export const kernelStep: StepLogic = {
	id: 'kernel',
	async run(ctx) {
		const started = Date.now();
		const kernel = await ctx.session.buildKernel(ctx.step, ctx.signal);
		const size = (fs.statSync(kernel.bzImage).size / 1024 / 1024).toFixed(1);
		ctx.figures.kernelRelease = kernel.release;
		ctx.figures.kernelRebuilt = kernel.rebuilt;
		if (kernel.rebuilt) ctx.figures.kernelBuildMs = Date.now() - started;
		return `${kernel.release}: bzImage ${size} MB, ${kernel.rebuilt ? 'built now' : 'from the cache (inputs unchanged)'} in ${kernel.buildDir}`;
	},
};

/** Packs the initramfs; a milestone adds its own files (modules, clients) through `extras`. */
export function rootfsStep(extras: (ctx: StepContext) => GuestFile[] = () => []): StepLogic {
	return {
		id: 'rootfs',
		async run(ctx) {
			const rootfs = ctx.session.packRootfs(extras(ctx));
			const size = (fs.statSync(rootfs.path).size / 1024 / 1024).toFixed(1);
			return `initramfs ${size} MB (${rootfs.rebuilt ? 'packed now' : 'unchanged, from the cache'}): ${rootfs.path}`;
		},
	};
}

/**
 * Boots the session's kernel and rootfs; a milestone adds devices through `vm` (and says so in its
 * lesson file, with `## more` under `# boot`).
 */
export function bootStepWith(vmSpec: (ctx: StepContext) => Partial<VmSpec> = () => ({})): StepLogic {
	return {
		id: 'boot',
		async run(ctx) {
			const vm = await ctx.session.boot(vmSpec(ctx));
			const match = await vm.console.expect(shellPrompt, {
				what: 'the shell prompt on ttyS0',
				timeoutMs: bootTimeoutMs,
				since: 0,
				step: ctx.step,
				signal: ctx.signal,
			});
			const promptAt = Date.now();
			const bootMs = promptAt - vm.startedAt;
			ctx.figures.bootMs = bootMs;
			const phases = vm.bootPhases(promptAt);
			if (phases) ctx.figures.bootPhases = phases;
			const split = phases ? `: ${describeBootPhases(phases)}` : '';
			return `prompt "${match[0].trim()}" after ${(bootMs / 1000).toFixed(2)} s (QEMU start to prompt, ${ctx.session.chosenAccel?.accel.toUpperCase()}${split})`;
		},
	};
}

export const bootStep = bootStepWith();

export const unameStep: StepLogic = {
	id: 'uname',
	async run(ctx) {
		const expected = ctx.session.kernel?.release;
		// Asked on the check channel, which the learner never sees: their console stays theirs.
		const {output, status} = await guest(ctx, 'uname -r');
		if (status !== 0 || output.trim() !== expected) {
			throw new LabError({
				what: `The guest runs kernel "${output.trim()}" (status ${status}), not the one just built (${expected}).`,
				lastSeen: requireVm(ctx).console.lastLines(),
			});
		}
		return `uname -r in the guest says ${output.trim()}: the kernel just built`;
	},
	task: {
		async check(ctx) {
			const expected = ctx.session.kernel?.release;
			const {output, status} = await guest(ctx, 'cat /tmp/release');
			if (status !== 0) return {done: false, missing: '/tmp/release does not exist yet.'};
			const said = output.trim();
			if (said !== expected)
				return {done: false, missing: `/tmp/release says "${said}"; the kernel just built is ${expected}.`};
			return {done: true, detail: `you asked the guest: /tmp/release says ${said}, the kernel just built`};
		},
	},
};

export const bootMilestone: MilestoneLogic = {
	id: 'boot',
	steps: [kernelStep, rootfsStep(), bootStep, unameStep],
};
