import path from 'node:path';
import {makeDiskImage} from '../lab/build/disk-image.js';
import {LabError} from '../lab/lab-error.js';
import {configsDir} from '../lab/paths.js';
import {idxDelta} from '../lab/virtio/wrap.js';
import type {QueueView} from '../runner/events.js';
import {bootStepWith, kernelStep, rootfsStep} from './boot.js';
import {guest} from './shell.js';
import type {Milestone, Step, StepContext} from './types.js';

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
function predictionStep(
	id: string,
	title: string,
	blockSize: number,
	count: number,
	lesson: string,
	predict: {question: string; why: string; hints: string[]},
): Step {
	return {
		id,
		title,
		lesson,
		predict: {
			question: predict.question,
			unit: 'requests',
			actual: figures => (figures[id] as QueueMovement | undefined)?.requests,
			why: predict.why,
		},
		hints: predict.hints,
		solution: `${count}: one request per read().`,
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
			return `${count} reads of ${blockSize / 1024} KiB → used index +${moved.requests} (predicted ${count}), ${moved.kicks} kicks, ${moved.interrupts} interrupts`;
		},
	};
}

export const virtioBlkMilestone: Milestone = {
	id: 'virtio-blk',
	title: 'Watch a virtqueue move',
	summary: 'Drive a virtio disk and watch its queues from the device and the driver side.',
	steps: [
		kernelStep,
		rootfsStep(),
		{
			id: 'disk',
			title: 'Make a disk image',
			lesson: [
				'An ext4 filesystem in a plain file, made by `mke2fs -d configs/disk` (no root, no loop',
				'device). QEMU will present it to the guest as a virtio-blk PCI device. Each run gets a',
				'fresh copy, so the write test always starts from the same disk. Open: configs/disk/.',
			].join('\n'),
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
		bootStepWith(
			ctx => ({
				extraArgs: [
					'-drive',
					`file=${ctx.session.disk},format=raw,if=none,id=disk0,cache=writeback`,
					// ioeventfd=off: every guest kick goes through QEMU's notify handler, so the panel
					// counts kicks exactly (with it on they are batched by QEMU's main loop).
					// indirect_desc=off: each chain sits in the main descriptor table, where "look inside
					// the ring" can read it after completion (an indirect table is freed by the driver).
					'-device',
					'virtio-blk-pci,drive=disk0,id=vblk0,ioeventfd=off,indirect_desc=off',
				],
			}),
			'This time QEMU also has -device virtio-blk-pci: watch for "virtio_blk virtio0: [vda]" in the boot log.',
		),
		{
			id: 'probe',
			title: 'The driver finds the disk',
			lesson: [
				'At boot the PCI core found a device with vendor 0x1af4 (virtio) and device 0x1042',
				'(0x1040 + virtio ID 2, block). virtio_pci bound to it and registered a virtio device;',
				"virtio_blk's probe (drivers/block/virtio_blk.c: virtblk_probe) negotiated features, set up",
				'its request queue (init_vq) and added the disk vda. The panel now shows the device with',
				'status ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK, its negotiated features, and queue 0.',
			].join('\n'),
			async run(ctx) {
				const probe = await guest(ctx, 'dmesg | grep -m1 "virtio_blk.*\\[vda\\]"');
				if (probe.status !== 0)
					throw new LabError({
						what: 'dmesg has no virtio_blk line for vda: the driver did not probe the disk.',
						lastSeen: (await guest(ctx, 'dmesg | tail -n 8')).output.split('\n'),
					});
				const sectors = (await guest(ctx, 'cat /sys/block/vda/size')).output.trim();
				const queue = await blkQueue(ctx);
				return `${probe.output.replace(/^\[[^\]]*\]\s*/, '')}; /sys/block/vda: ${sectors} sectors; queue 0 has ${queue.size} descriptors`;
			},
		},
		predictionStep(
			'predict-small',
			'Predict: 32 reads of 4 KiB',
			4096,
			32,
			[
				'Predict before you look: `dd if=/dev/vda bs=4096 count=32 iflag=direct` reads 32 blocks and',
				'bypasses the page cache. How many requests will the queue carry? Watch "used" in the panel.',
				'Each request is a descriptor chain: a header the device reads (type, sector), the data',
				"buffer the device writes, and a status byte. The driver puts the chain's head in the",
				'available ring and kicks; QEMU (hw/virtio/virtio.c: virtqueue_pop) takes it, virtio-blk',
				'(hw/block/virtio-blk.c: virtio_blk_handle_request) reads the file, then virtqueue_push',
				'puts it in the used ring and the interrupt tells the guest (drivers/virtio/virtio_ring.c).',
			].join('\n'),
			{
				question:
					'`dd if=/dev/vda bs=4096 count=32 iflag=direct` reads 32 blocks of 4 KiB, bypassing the page cache. By how many requests will the used index move?',
				why: 'With O_DIRECT every read() goes to the driver as it is, with no read-ahead: one 4 KiB bio, one request, one chain, one used entry.',
				hints: [
					'iflag=direct means no page cache, so no read-ahead: the disk sees exactly what dd asks for.',
					'One read() of 4 KiB is one bio; the block layer turns a bio into a request, and the driver a request into a chain.',
				],
			},
		),
		predictionStep(
			'predict-big',
			'Predict: 8 reads of 64 KiB',
			65536,
			8,
			[
				'Now 8 reads of 64 KiB: sixteen times the bytes per read. How many requests this time?',
				'A request is not a block: one chain can carry many data descriptors (or one indirect',
				'descriptor table), up to the seg_max and size_max the device announced in its config.',
				'Press i to look inside the ring: the descriptors of the latest chain. (This disk runs with',
				'indirect_desc=off so chains stay in the main table; with INDIRECT_DESC a chain is one',
				'descriptor pointing at a separate table.)',
			].join('\n'),
			{
				question: 'Now `bs=65536 count=8`: 8 direct reads of 64 KiB. By how many requests will the used index move?',
				why: 'A request is not a block: 64 KiB is 16 pages, which one chain carries as 16 data descriptors (within the seg_max and max_sectors the device announced), so 8 reads are 8 requests.',
				hints: [
					'Sixteen times the bytes per read does not have to mean sixteen times the requests.',
					'A chain can hold many data descriptors, one per page, up to the seg_max in the device config.',
				],
			},
		),
		{
			id: 'read-file',
			title: 'Mount the disk and read a file',
			lesson: [
				'mount reads the superblock, the inode tables and the directory through the same queue;',
				'cat then reads hello.txt. Watch the used index jump by more than one request per file:',
				"a filesystem is metadata first. Try `cat /sys/block/vda/stat` to see the driver's own counts.",
			].join('\n'),
			async run(ctx) {
				const moved = await measure(ctx, 'mount -t ext4 /dev/vda /mnt && cat /mnt/hello.txt > /tmp/hello.out');
				const content = (await guest(ctx, 'cat /tmp/hello.out')).output.trim();
				if (content !== expectedHello)
					throw new LabError({what: `/mnt/hello.txt reads "${content}", not the text the image was made with.`});
				ctx.figures.mount = moved;
				return `read hello.txt (${content.length} bytes, as written into the image); mount + read took ${moved.requests} requests`;
			},
			task: {
				ask: "Mount the disk's ext4 filesystem at /mnt (`mount /dev/vda /mnt`), then read /mnt/hello.txt: watch the used index while you do.",
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
			hints: [
				'mount needs the device (/dev/vda, the virtio disk) and a folder to show it at.',
				'The kernel finds the filesystem type itself; `-t ext4` says it outright.',
			],
			solution: '`mount /dev/vda /mnt && cat /mnt/hello.txt`',
		},
		{
			id: 'write-back',
			title: 'Write, remount, read back',
			lesson: [
				'A write travels the other way: the data descriptor is device-readable this time. sync',
				'forces it out of the page cache; umount and mount again prove it reached the disk (the',
				"file QEMU serves), not just the guest's memory.",
			].join('\n'),
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
