import type {GuestView} from './views.js';

/**
 * Parses one frame the guest's side-channel script writes (configs/rootfs/side-channel):
 * /proc/interrupts lines for virtio, and "inflight <disk> <reads> <writes>" lines.
 */
export function parseGuestFrame(lines: string[]): GuestView {
	const interrupts: Record<string, number> = {};
	const inflight: Record<string, {reads: number; writes: number}> = {};
	for (const line of lines) {
		const disk = /^inflight (\S+)\s+(\d+)\s+(\d+)/.exec(line);
		if (disk) {
			inflight[disk[1]!] = {reads: Number(disk[2]), writes: Number(disk[3])};
			continue;
		}
		// " 24:   12   34  PCI-MSI 49153-edge  virtio0-req.0": IRQ, one count per CPU, chip, name.
		const irq = /^\s*\w+:\s+((?:\d+\s+)+)(.*)$/.exec(line);
		if (!irq) continue;
		const count = irq[1]!
			.trim()
			.split(/\s+/)
			.reduce((sum, value) => sum + Number(value), 0);
		const name = irq[2]!.trim().split(/\s+/).at(-1)!;
		interrupts[name] = (interrupts[name] ?? 0) + count;
	}
	return {interrupts, inflight};
}

/**
 * A frame is a few dozen short lines (one per interrupt line and queue). The guest is not to be
 * trusted with memory: a longer line or frame is dropped whole, and reading starts again at the
 * next `kc-side begin`.
 */
export const maxFrameLines = 512;
export const maxFrameLineChars = 4096;

/** Splits the side channel's stream into frames; incomplete frames wait for more data. */
export class GuestFrameReader {
	private pending = '';
	private frame: string[] | undefined;
	/** Frames and lines thrown away for their size (a guest that never ends one). */
	dropped = 0;

	constructor(private readonly onFrame: (view: GuestView) => void) {}

	push(data: string): void {
		const lines = (this.pending + data.replace(/\r/g, '')).split('\n');
		this.pending = lines.pop() ?? '';
		if (this.pending.length > maxFrameLineChars) {
			this.pending = '';
			this.drop();
		}
		for (const line of lines) {
			if (line === 'kc-side begin') this.frame = [];
			else if (line === 'kc-side end' && this.frame) {
				this.onFrame(parseGuestFrame(this.frame));
				this.frame = undefined;
			} else if (this.frame) {
				if (line.length > maxFrameLineChars || this.frame.length >= maxFrameLines) this.drop();
				else this.frame.push(line);
			}
		}
	}

	private drop(): void {
		this.dropped++;
		this.frame = undefined;
	}
}
