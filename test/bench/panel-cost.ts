// What the virtqueue panel costs the guest: direct-read throughput of the virtio disk with the
// panel at work and with it stopped, in the same VM, pair after pair. Separate VMs differ by
// far more than the panel costs (one VM's reads ran anywhere from 35 to 80 MB/s on a shared
// 2-core host), so only a pair in one VM, read back to back, tells 2 % from 5 %.
//
// With the panel: everything the panel does runs, as in the TUI (panel on screen: QMP at 4 Hz,
// 2 Hz idle; the guest's stats loop; QEMU's per-request trace on in a short window every 3 s) or
// as in a headless `run` (the same, the trace off outside counting windows). Without it: the
// host samples nothing (PanelFeed.hold), the trace is off (withoutCounting), and the guest's
// stats loop is stopped (kill -STOP). What stays is an idle QMP connection and QEMU's -trace
// option with its events off (each trace point then tests one flag).
import {makeDiskImage} from '../../source/lab/build/disk-image.js';
import {configsDir} from '../../source/lab/paths.js';
import {shellPrompt} from '../../source/expedition/shell.js';
import {Session} from '../../source/lab/session.js';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

export interface PanelPairs {
	/** MB/s with the panel at work, one per pair. */
	withPanelMBps: number[];
	/** MB/s with it stopped, in the same VM, read next to the one above. */
	withoutPanelMBps: number[];
	/** (without - with) / without, per pair, in per cent. */
	lossPercent: number[];
	/** The share of each read with the panel during which QEMU's per-request trace was on. */
	traceOnShare: number[];
}

export interface PanelCost {
	/** The panel as a headless `run` has it. */
	run: PanelPairs;
	/** The panel on screen, as the TUI has it. */
	shown: PanelPairs;
}

/** Reads 256 MiB with O_DIRECT in 4 KiB requests and returns MB/s by the guest's clock. */
async function ddThroughput(session: Session): Promise<number> {
	// 256 MiB: about 6 s at 45 MB/s, so a read spans two whole periods of the trace's windows.
	// Timed by the guest's own clock (busybox dd prints no rate): /proc/uptime before and after.
	const command =
		'a=$(cut -d" " -f1 /proc/uptime); dd if=/dev/vda of=/dev/null bs=4096 count=65536 iflag=direct 2>/dev/null; b=$(cut -d" " -f1 /proc/uptime); echo "$a $b"';
	const {output, status} = await session.vm!.checks.run(command, {timeoutMs: 120_000});
	const [start, end] = output.trim().split(' ').map(Number);
	if (status !== 0 || !(end! > start!)) throw new Error(`dd in the guest printed: ${output}`);
	return (256 * 1024 * 1024) / (end! - start!) / 1e6;
}

async function guestLoop(session: Session, signal: 'STOP' | 'CONT'): Promise<void> {
	const {output, status} = await session.vm!.checks.run(`kill -${signal} "$(cat /run/kc-side-channel.pid)"`);
	if (status !== 0) throw new Error(`kill -${signal} of the guest's stats loop: ${output}`);
}

/** One VM: `pairs` reads with the panel and as many without, alternating which comes first. */
async function pairsInOneVm(
	cacheDir: string,
	shown: boolean,
	pairs: number,
	into: PanelPairs,
	log: (line: string) => void,
): Promise<void> {
	const session = new Session({cacheDir, panel: true, panelShown: shown}, () => {});
	try {
		await session.buildKernel('bench', new AbortController().signal);
		session.packRootfs();
		const disk = await makeDiskImage({
			contentDir: path.join(configsDir, 'disk'),
			cacheDir,
			sizeMb: 288,
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
		const panel = session.panel!;
		await panel.ready;
		const withPanel = async () => {
			panel.hold(false);
			await guestLoop(session, 'CONT');
			// Settle: resuming opens a trace window at once, which may stay open its longest (1.5 s)
			// while the guest is idle. The read starts after it, in the duty cycle's steady state.
			await sleep(3500);
			let polls = 0;
			let on = 0;
			const poll = setInterval(() => {
				polls++;
				if (panel.counting) on++;
			}, 50);
			try {
				return await ddThroughput(session);
			} finally {
				clearInterval(poll);
				into.traceOnShare.push(polls > 0 ? on / polls : 0);
			}
		};
		const withoutPanel = async () => {
			panel.hold(true);
			await guestLoop(session, 'STOP');
			await sleep(3500);
			return panel.withoutCounting(() => ddThroughput(session));
		};
		// Warm-up, twice: the host's page cache, then the guest's first reads, slower in every VM tried.
		await ddThroughput(session);
		await ddThroughput(session);
		for (let pair = 0; pair < pairs; pair++) {
			let on: number;
			let off: number;
			if (pair % 2 === 0) {
				on = await withPanel();
				off = await withoutPanel();
			} else {
				off = await withoutPanel();
				on = await withPanel();
			}
			into.withPanelMBps.push(on);
			into.withoutPanelMBps.push(off);
			into.lossPercent.push(((off - on) / off) * 100);
			log(
				`panel ${shown ? 'on screen' : 'as in run'}, pair ${pair + 1}: ${on.toFixed(1)} MB/s with, ${off.toFixed(1)} without (${(((off - on) / off) * 100).toFixed(1)} %); trace on ${((into.traceOnShare.at(-1) ?? 0) * 100).toFixed(0)} % of the read`,
			);
		}
	} finally {
		await session.dispose();
	}
}

export async function measurePanelCost(
	cacheDir: string,
	vms: number,
	pairsPerVm: number,
	log: (line: string) => void,
): Promise<PanelCost> {
	const empty = (): PanelPairs => ({withPanelMBps: [], withoutPanelMBps: [], lossPercent: [], traceOnShare: []});
	const result: PanelCost = {run: empty(), shown: empty()};
	for (let vm = 0; vm < vms; vm++) {
		await pairsInOneVm(cacheDir, true, pairsPerVm, result.shown, log);
		await pairsInOneVm(cacheDir, false, pairsPerVm, result.run, log);
	}
	return result;
}
