import fs from 'node:fs';
import {LabError} from '../lab/lab-error.js';
import {guest, requireVm, shellPrompt} from './shell.js';
import type {GuestFile} from '../lab/build/rootfs.js';
import {describeBootPhases} from '../lab/vm/boot-phases.js';
import type {VmSpec} from '../lab/vm/qemu-vm.js';
import type {Milestone, Step, StepContext} from './types.js';

const bootTimeoutMs = 60_000;

export const kernelStep: Step = {
	id: 'kernel',
	title: 'Build the kernel',
	lesson: [
		'A kernel is configured before it is built. `make tinyconfig` turns almost everything off;',
		'the fragments in configs/kernel/*.config turn back on only what this expedition needs: a',
		'serial console (8250), an initramfs, proc/sys/devtmpfs, PCI and virtio, loadable modules.',
		'merge_config.sh folds them in and olddefconfig fills in the rest; then every option asked',
		'for is checked, because Kconfig silently drops an option whose dependencies are missing.',
		'The build is out of tree (make O=...), cached by the source version and fragment content.',
		"Open: configs/kernel/00-base.config, then the build dir's .config to see the result.",
	].join('\n'),
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
export function rootfsStep(extras: (ctx: StepContext) => GuestFile[] = () => []): Step {
	return {
		id: 'rootfs',
		title: 'Pack the root filesystem',
		lesson: [
			'The first program the kernel runs is /init from the initramfs: a cpio archive the kernel',
			'unpacks into RAM at boot. Ours holds one static busybox (every command is a link to it)',
			'and configs/rootfs/init, a shell script that mounts /proc, /sys and /dev and starts a shell',
			"on the serial line. It is packed by the kernel's own usr/gen_init_cpio, so no root is needed.",
			'Open: configs/rootfs/init.',
		].join('\n'),
		async run(ctx) {
			const rootfs = ctx.session.packRootfs(extras(ctx));
			const size = (fs.statSync(rootfs.path).size / 1024 / 1024).toFixed(1);
			return `initramfs ${size} MB (${rootfs.rebuilt ? 'packed now' : 'unchanged, from the cache'}): ${rootfs.path}`;
		},
	};
}

/** Boots the session's kernel and rootfs; a milestone adds devices through `vm`. */
export function bootStepWith(vmSpec: (ctx: StepContext) => Partial<VmSpec> = () => ({}), lesson?: string): Step {
	return {
		id: 'boot',
		title: 'Boot it in QEMU',
		lesson:
			[
				'QEMU emulates a PC (q35) and loads the kernel and initramfs itself (-kernel/-initrd), so no',
				"bootloader or disk is needed. The guest's first serial port is wired to a pseudo-terminal:",
				'that is the console beside this text, and console=ttyS0 tells the kernel to print there.',
				"QMP, QEMU's control protocol, listens on a private socket: the virtqueue panel reads it.",
				'The header shows the accelerator: KVM runs guest code on the CPU, TCG translates it.',
				'Watch the boot log: the PCI scan, the virtio devices, then the unpacking of the initramfs.',
				'The boot time is split in three, by when bytes reach the console: firmware (QEMU start to the',
				'first byte: QEMU, the firmware, unpacking the kernel), kernel (to "Run /init as init process")',
				'and userspace (/init to the shell prompt). Each was cut: qboot instead of SeaBIOS, an LZ4 kernel',
				'without the PS/2 driver (configs/kernel/30-fast-boot.config), nolapic_timer (see qemu-vm.ts).',
			].join('\n') + (lesson ? `\n${lesson}` : ''),
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

export const unameStep: Step = {
	id: 'uname',
	title: 'Talk to the guest',
	lesson: [
		"The prompt alone could be anyone's kernel. `uname -r` asks the running kernel for its",
		'release string, which was fixed when it was built: it must match the build just made.',
		'Press Tab to type into the guest yourself: try `dmesg | head`, `cat /proc/cpuinfo`, `ls /sys/bus/pci/devices`.',
	].join('\n'),
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
		ask: 'Ask the running kernel for its release and keep the answer in a file: `uname -r > /tmp/release`.',
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
	hints: [
		"Press Tab to type into the guest's shell; Ctrl-] gives the keys back to kernelcraft.",
		'`uname` prints facts the running kernel keeps about itself; `-r` is its release.',
		"The shell's `>` sends a command's output into a file instead of the screen.",
	],
	solution: '`uname -r > /tmp/release`',
};

export const bootMilestone: Milestone = {
	id: 'boot',
	title: 'Boot a kernel you built',
	summary:
		'Build Linux from source, pack a tiny root filesystem, boot both in QEMU and reach a shell on the serial console.',
	steps: [kernelStep, rootfsStep(), bootStep, unameStep],
};
