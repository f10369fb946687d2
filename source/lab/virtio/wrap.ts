// Virtqueue indices (avail->idx, used->idx, last_avail_idx, signalled_used) are free-running
// 16-bit counters: they count forever and are read modulo 2^16, so 65535 is followed by 0. Only
// their differences mean anything. This is serial-number arithmetic (RFC 1982) on 16 bits.

export const IDX_MODULUS = 0x1_0000;
const mask = 0xffff;

/** Normalises any integer to the 0..65535 range of a ring index. */
export function idx16(value: number): number {
	return ((Math.trunc(value) % IDX_MODULUS) + IDX_MODULUS) & mask;
}

/**
 * How far a counter moved forward from `previous` to `current`, assuming it moved forward by
 * less than 65536: idxDelta(65530, 4) === 10.
 */
export function idxDelta(previous: number, current: number): number {
	return (idx16(current) - idx16(previous)) & mask;
}

/**
 * The signed distance from `previous` to `current`, in -32768..32767: positive when current is
 * ahead. idxDiff(4, 65530) === -10. Use it when the counter may also have gone back (a reset).
 */
export function idxDiff(previous: number, current: number): number {
	const d = idxDelta(previous, current);
	return d >= 0x8000 ? d - IDX_MODULUS : d;
}

/** True when `a` is strictly ahead of `b` in ring order (within half the index space). */
export function idxAfter(a: number, b: number): boolean {
	return idxDiff(b, a) > 0;
}

/** Entries between two indices, e.g. in flight: avail entries the device has not consumed yet. */
export function idxPending(consumer: number, producer: number): number {
	return idxDelta(consumer, producer);
}

export interface IdxAdvance {
	/** How many entries went by (0 when the counter restarted from a reset). */
	delta: number;
	/**
	 * The counter went backwards (a device reset puts it back to 0): the step is not a count.
	 * `delta` then counts from 0 to `current`, the entries since the reset.
	 */
	reset: boolean;
}

/**
 * One step of a sampled counter. Forward steps of 0..32767 are counts (wraps included); a step
 * that lands "behind" the previous value is taken as a reset to 0 followed by `current` entries.
 * So more than 32767 completions between two samples read as a reset: at 4 Hz that is over
 * 131 000 requests per second, far beyond an emulated device under TCG.
 */
export function idxAdvance(previous: number, current: number): IdxAdvance {
	const diff = idxDiff(previous, current);
	if (diff >= 0) return {delta: diff, reset: false};
	return {delta: idx16(current), reset: true};
}
