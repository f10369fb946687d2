// What the virtqueue panel costs the guest: direct-read throughput of the virtio disk with the
// panel as headless runs have it (QMP samples at 4 Hz while queues move, 2 Hz idle; the guest's
// stats loop; QEMU's per-request trace events off outside counting windows, and this read is in
// none), with the panel on screen as the TUI has it (the same, and the trace on in a short window
// every 3 s: PanelFeed's duty cycle), and with it off (kc.panel=0: none of it), in alternating VMs of one run.
import {makeDiskImage} from '../../source/lab/build/disk-image.js';
import {configsDir} from '../../source/lab/paths.js';
import {shellPrompt} from '../../source/expedition/shell.js';
import {Session} from '../../source/runner/session.js';
import path from 'node:path';

export interface PanelCost {
	withPanelMBps: number[];
	/** The panel on screen (Session panelShown, the TUI's): counters live, the trace duty-cycled. */
	shownPanelMBps: number[];
	withoutPanelMBps: number[];
}

/** Reads 64 MiB with O_DIRECT in 4 KiB requests (16384 requests) and returns MB/s by the guest's clock. */
async function ddThroughput(session: Session): Promise<number> {
	// Timed by the guest's own clock (busybox dd prints no rate): /proc/uptime before and after.
	const command =
		'a=$(cut -d" " -f1 /proc/uptime); dd if=/dev/vda of=/dev/null bs=4096 count=16384 iflag=direct 2>/dev/null; b=$(cut -d" " -f1 /proc/uptime); echo "$a $b"';
	const {output, status} = await session.vm!.checks.run(command, {timeoutMs: 120_000});
	const [start, end] = output.trim().split(' ').map(Number);
	if (status !== 0 || !(end! > start!)) throw new Error(`dd in the guest printed: ${output}`);
	return (64 * 1024 * 1024) / (end! - start!) / 1e6;
}

export async function measurePanelCost(
	cacheDir: string,
	rounds: number,
	log: (line: string) => void,
): Promise<PanelCost> {
	const result: PanelCost = {withPanelMBps: [], shownPanelMBps: [], withoutPanelMBps: []};
	for (let round = 0; round < rounds; round++) {
		for (const mode of ['on', 'shown', 'off'] as const) {
			const panel = mode !== 'off';
			const session = new Session({cacheDir, panel, panelShown: mode === 'shown'}, () => {});
			try {
				await session.buildKernel('bench', new AbortController().signal);
				session.packRootfs();
				const disk = await makeDiskImage({
					contentDir: path.join(configsDir, 'disk'),
					cacheDir,
					sizeMb: 80,
					runDir: session.runDir('bench-panel'),
				});
				const vm = await session.boot({
					extraArgs: [
						'-drive',
						`file=${disk.path},format=raw,if=none,id=disk0`,
						'-device',
						'virtio-blk-pci,drive=disk0,ioeventfd=off,indirect_desc=off',
					],
				});
				await vm.console.expect(shellPrompt, {what: 'the prompt', timeoutMs: 60_000, since: 0});
				// One warm-up read (the host's page cache), then the median of three.
				await ddThroughput(session);
				const reads = [await ddThroughput(session), await ddThroughput(session), await ddThroughput(session)].sort(
					(a, b) => a - b,
				);
				const mbps = reads[1]!;
				const into = {on: result.withPanelMBps, shown: result.shownPanelMBps, off: result.withoutPanelMBps};
				into[mode].push(mbps);
				log(`panel ${mode.padEnd(5)} round ${round + 1}: ${mbps.toFixed(2)} MB/s`);
			} finally {
				await session.dispose();
			}
		}
	}
	return result;
}
