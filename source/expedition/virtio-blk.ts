import {qemuOptionValue} from '../lab/vm/socket-dir.js';
import path from 'node:path';
import {makeDiskImage} from '../lab/build/disk-image.js';
import {LabError} from '../lab/lab-error.js';
import {configsDir} from '../lab/paths.js';
import {idxDelta} from '../lab/virtio/wrap.js';
import type {QueueView} from '../lab/virtio/views.js';
import {bootStepWith, kernelStep, rootfsStep} from './boot.js';
import {describePci, pciIdentityOf} from './pci-identity.js';
import {guest} from './shell.js';
import type {MilestoneLogic, StepContext, StepLogic} from './types.js';

const diskContent = path.join(configsDir, 'disk');
const expectedHello = 'kernelcraft: these bytes travelled from a disk image, through a virtqueue, into the guest.';

/** The request queue of the virtio-blk device, as the panel last sampled it. */
async function blkQueue(ctx: StepContext): Promise<QueueView> {
	const panel = ctx.session.panel;
	if (!panel) throw new LabError({what: 'The virtqueue panel is off, so the queue cannot be read.'});
	const devices = await panel.sampleNow();
	const queue = devices.find(device => device.name === 'virtio-blk')?.queues[0];
	if (!queue)
		throw new LabError({
			what: 'QMP lists no virtio-blk device with a queue.',
			lastSeen: devices.map(device => `${device.name} (${device.queues.length} queues)`),
		});
	return queue;
}

interface QueueMovement {
	requests: number;
	kicks: number;
	interrupts: number;
}

/**
 * Runs a guest command and measures what crossed the queue meanwhile (16-bit index wrap included),
 * inside a counting window: QEMU traces kicks and interrupts from before the first sample to after
 * the last, and not otherwise.
 */
async function measure(ctx: StepContext, command: string): Promise<QueueMovement> {
	const panel = ctx.session.panel;
	if (!panel) throw new LabError({what: 'The virtqueue panel is off, so the queue cannot be read.'});
	return panel.countKicks(() => measureCounted(ctx, command));
}

async function measureCounted(ctx: StepContext, command: string): Promise<QueueMovement> {
	const before = await blkQueue(ctx);
	const {output, status} = await guest(ctx, command, 60_000);
	if (status !== 0)
		throw new LabError({what: `\`${command}\` failed in the guest (status ${status}).`, lastSeen: output.split('\n')});
	// The trace log is read on each sample: one more sample makes sure the last kicks are counted.
	const after = await blkQueue(ctx);
	return {
		requests: idxDelta(before.usedIdx, after.usedIdx),
		kicks: (after.totals.kicks ?? 0) - (before.totals.kicks ?? 0),
		interrupts: (after.totals.interrupts ?? 0) - (before.totals.interrupts ?? 0),
	};
}

/** An experiment: the learner predicts, the queue answers. */
function predictionStep(id: string, blockSize: number, count: number): StepLogic {
	return {
		id,
		predict: {
			actual: figures => (figures[id] as QueueMovement | undefined)?.requests,
		},
		async run(ctx) {
			const moved = await measure(
				ctx,
				`dd if=/dev/vda of=/dev/null bs=${blockSize} count=${count} skip=${id === 'predict-big' ? 64 : 0} iflag=direct 2>/dev/null`,
			);
			ctx.figures[id] = {predicted: count, ...moved};
			// An idle disk carries exactly our requests; allow two more for a stray metadata read.
			if (moved.requests < count || moved.requests > count + 2) {
				throw new LabError({
					what: `${count} direct reads of ${blockSize} bytes moved the used index by ${moved.requests}, not ${count}.`,
					hint: 'Was something else using the disk (a mount, a background job)? Run it again on an idle disk.',
				});
			}
			if (moved.kicks < 1 || moved.interrupts < 1)
				throw new LabError({
					what: `The trace counted ${moved.kicks} kicks and ${moved.interrupts} interrupts for ${moved.requests} requests: tracing did not work.`,
				});
			return `${count} reads of ${blockSize / 1024} KiB → used index +${moved.requests} (one per read), ${moved.kicks} kicks, ${moved.interrupts} interrupts`;
		},
	};
}

export const virtioBlkMilestone: MilestoneLogic = {
	id: 'virtio-blk',
	steps: [
		kernelStep,
		rootfsStep(),
		{
			id: 'disk',
			async run(ctx) {
				const disk = await makeDiskImage({
					contentDir: diskContent,
					cacheDir: ctx.session.cacheDir,
					sizeMb: 32,
					runDir: ctx.session.runDir(),
					signal: ctx.signal,
				});
				ctx.session.disk = disk.path;
				return `32 MB ext4 image ${disk.rebuilt ? 'made' : 'from the cache'}; this run's copy: ${disk.path}`;
			},
		},
		bootStepWith(ctx => ({
			extraArgs: [
				'-drive',
				`file=${qemuOptionValue(ctx.session.disk ?? '')},format=raw,if=none,id=disk0,cache=writeback`,
				// ioeventfd=off: every guest kick goes through QEMU's notify handler, so the panel
				// counts kicks exactly (with it on they are batched by QEMU's main loop).
				// indirect_desc=off: each chain sits in the main descriptor table, where "look inside
				// the ring" can read it after completion (an indirect table is freed by the driver).
				'-device',
				'virtio-blk-pci,drive=disk0,id=vblk0,ioeventfd=off,indirect_desc=off',
			],
		})),
		{
			id: 'probe',
			async run(ctx) {
				const probe = await guest(ctx, 'dmesg | grep -m1 "virtio_blk.*\\[vda\\]"');
				if (probe.status !== 0)
					throw new LabError({
						what: 'dmesg has no virtio_blk line for vda: the driver did not probe the disk.',
						lastSeen: (await guest(ctx, 'dmesg | tail -n 8')).output.split('\n'),
					});
				const sectors = (await guest(ctx, 'cat /sys/block/vda/size')).output.trim();
				const queue = await blkQueue(ctx);
				const pci = await pciIdentityOf(ctx, '/sys/block/vda/device');
				ctx.figures.pci = pci;
				return `${probe.output.replace(/^\[[^\]]*\]\s*/, '')}; PCI ${describePci(pci)}; /sys/block/vda: ${sectors} sectors; queue 0 has ${queue.size} descriptors`;
			},
		},
		predictionStep('predict-small', 4096, 32),
		predictionStep('predict-big', 65536, 8),
		{
			id: 'read-file',
			async run(ctx) {
				const moved = await measure(ctx, 'mount -t ext4 /dev/vda /mnt && cat /mnt/hello.txt > /tmp/hello.out');
				const content = (await guest(ctx, 'cat /tmp/hello.out')).output.trim();
				if (content !== expectedHello)
					throw new LabError({what: `/mnt/hello.txt reads "${content}", not the text the image was made with.`});
				ctx.figures.mount = moved;
				return `read hello.txt (${content.length} bytes, as written into the image); mount + read took ${moved.requests} requests`;
			},
			task: {
				async check(ctx) {
					const mounted = (await guest(ctx, 'grep "^/dev/vda /mnt " /proc/mounts')).output.trim();
					if (!mounted) return {done: false, missing: '/proc/mounts shows nothing from /dev/vda at /mnt.'};
					const content = (await guest(ctx, 'cat /mnt/hello.txt')).output.trim();
					if (content !== expectedHello)
						return {done: false, missing: `/mnt/hello.txt reads "${content}", not the text the image was made with.`};
					return {
						done: true,
						detail: `you mounted it: ${mounted.split(' ').slice(0, 3).join(' ')}; hello.txt reads as written into the image`,
					};
				},
			},
		},
		{
			id: 'write-back',
			async run(ctx) {
				const stamp = `written by run ${Date.now().toString(36)}`;
				const moved = await measure(
					ctx,
					`echo '${stamp}' > /mnt/note.txt && sync && umount /mnt && mount -t ext4 /dev/vda /mnt`,
				);
				const back = (await guest(ctx, 'cat /mnt/note.txt')).output.trim();
				if (back !== stamp) throw new LabError({what: `After a remount note.txt reads "${back}", not "${stamp}".`});
				ctx.figures.writeBack = moved;
				const queue = await blkQueue(ctx);
				ctx.figures.queue = {size: queue.size, usedIdx: queue.usedIdx, totals: queue.totals};
				ctx.figures.guestInterrupts = ctx.session.panel?.latestGuest?.interrupts;
				return `note.txt survived a remount; the write, sync and remount took ${moved.requests} requests`;
			},
		},
	],
};
