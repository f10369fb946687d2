// Small text helpers shared by the panes. Pure, so the panes stay declarative.

const SPARK_LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The last `width` values as a sparkline, scaled to the largest of them (all ▁ when idle). */
export function sparkline(values: readonly number[], width: number): string {
	const shown = values.slice(Math.max(0, values.length - width));
	const max = Math.max(0, ...shown);
	return shown
		.map(v => {
			if (max <= 0 || v <= 0) return SPARK_LEVELS[0];
			const level = Math.ceil((v / max) * (SPARK_LEVELS.length - 1));
			return SPARK_LEVELS[Math.min(SPARK_LEVELS.length - 1, level)];
		})
		.join('');
}

/** "1.2 s", "850 ms", "2 min 52 s": a step's duration as a person would say it. */
export function formatMs(ms: number): string {
	if (ms < 1000) return `${Math.round(ms)} ms`;
	if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
	const minutes = Math.floor(ms / 60_000);
	const seconds = Math.round((ms % 60_000) / 1000);
	return `${minutes} min ${seconds} s`;
}

/** A rate: one decimal below 10 (a trickle of requests matters), whole numbers above. */
export function formatRate(value: number | undefined): string {
	if (value === undefined) return '–';
	return value < 10 ? value.toFixed(1) : String(Math.round(value));
}

/**
 * "VIRTIO_RING_F_EVENT_IDX: Used & avail. event fields enabled" -> "EVENT_IDX".
 * QEMU's decoded names carry a description and a family prefix; the panel is narrow.
 */
export function shortFeature(name: string): string {
	const bare = name.split(':')[0]!.trim();
	return bare.replace(/^VIRTIO_(?:[A-Z0-9]+_)?F_/, '');
}

const STATUS_SHORT: Record<string, string> = {
	ACKNOWLEDGE: 'ACK',
	DRIVER: 'DRV',
	FEATURES_OK: 'FEAT_OK',
	DRIVER_OK: 'DRV_OK',
	NEEDS_RESET: 'NEEDS_RESET',
	FAILED: 'FAILED',
};

/** "VIRTIO_CONFIG_S_DRIVER_OK: Driver setup ..." or "DRIVER_OK" -> "DRV_OK". */
export function shortStatus(name: string): string {
	const bare = name
		.split(':')[0]!
		.trim()
		.replace(/^VIRTIO_CONFIG_S_/, '');
	return STATUS_SHORT[bare] ?? bare;
}

/** A text progress bar of `width` cells. */
export function progressBar(fraction: number, width: number): string {
	const clamped = Math.min(1, Math.max(0, fraction));
	const filled = Math.round(clamped * width);
	return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Cuts a line to `width` cells (the panes clip, but a wrapped line would push the rest down). */
export function clip(line: string, width: number): string {
	if (width <= 0) return '';
	return line.length > width ? line.slice(0, width) : line;
}

/** 16-bit ring indices wrap: the distance from `from` to `to` going forward. */
export function ringDistance(from: number, to: number): number {
	return (((to - from) % 65_536) + 65_536) % 65_536;
}
