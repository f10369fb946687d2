// The ring walk: reads a split virtqueue's descriptor chains for "look inside the ring", either
// straight from guest memory (HMP `xp` answers, walked descriptor by descriptor, indirect tables
// included) or from QEMU's x-query-virtio-queue-element answer. Also picks which avail position is
// safe to read while the device runs.

import type {VirtioQueueElement, VirtQueueStatus} from '../vm/qmp-types.js';
import {hexAddr} from './decoders.js';
import {idxPending} from './wrap.js';

/** The descriptor chain at a ring position, for "look inside the ring". */
export interface RingElementView {
	path: string;
	queue: number;
	/** Avail ring position asked for (default: the next one the device will pop, last-avail-idx). */
	position: number;
	/** Descriptor-table index of the chain's head. */
	head: number;
	/** Head first. addr is hex; flags as QEMU names them ("next", "write", "indirect"). */
	descriptors: {addr: string; len: number; flags: string[]}[];
	/**
	 * True when the guest made this entry available and the device has not popped it yet. When
	 * false the entry at that position is an old one (already completed) or was never written.
	 */
	pending: boolean;
	availIdx?: number;
	usedIdx?: number;
}

/**
 * The avail position of the newest chain that is published and not yet taken by the device: in
 * [last-avail-idx, shadow-avail-idx) as QEMU reports them, or undefined when that range is empty.
 * Pure. Chains before last-avail-idx are popped (in flight or done: a device may complete them out
 * of order, so used-idx says nothing about which); the newest pending one is the furthest from
 * being taken while QEMU answers.
 */
export function safeRingPosition(
	status: Pick<VirtQueueStatus, 'last-avail-idx' | 'shadow-avail-idx' | 'vring-num' | 'vring-desc'>,
): number | undefined {
	if (!status['vring-num'] || !status['vring-desc'] || BigInt(status['vring-desc']) === 0n) return undefined;
	const lastAvail = status['last-avail-idx'] ?? 0;
	const shadowAvail = status['shadow-avail-idx'] ?? 0;
	const pending = idxPending(lastAvail, shadowAvail);
	// More pending than the ring holds: the indices are not sane (a reset in between); read nothing.
	if (pending === 0 || pending > status['vring-num']) return undefined;
	return (shadowAvail - 1) & 0xffff;
}

/** The values of an HMP `xp` answer ("0000000000001000: 0x0001 0x0002\r\n"), in order. */
export function parseXp(text: string): bigint[] {
	const values: bigint[] = [];
	for (const line of text.split('\n')) {
		const colon = line.indexOf(':');
		if (colon === -1) continue;
		for (const word of line
			.slice(colon + 1)
			.trim()
			.split(/\s+/))
			if (/^0x[0-9a-f]+$/i.test(word)) values.push(BigInt(word));
	}
	return values;
}

const descFlagNames: [bigint, string][] = [
	[1n, 'next'],
	[2n, 'write'],
	[4n, 'indirect'],
];

type MemoryRead = (format: string, addr: bigint, len: bigint) => Promise<bigint[] | undefined>;

/**
 * Walks a split-ring chain in guest memory from its head: each descriptor is 16 bytes (addr u64,
 * len u32, flags u16, next u16). An indirect descriptor's table is read and walked the same way.
 * Undefined on anything a well-formed chain cannot hold: an index outside the table, a loop, an
 * indirect table of odd size or inside another, or memory it may not read.
 */
export async function walkChain(
	head: number,
	num: number,
	table: bigint,
	read: MemoryRead,
	nested = false,
): Promise<RingElementView['descriptors'] | undefined> {
	const out: RingElementView['descriptors'] = [];
	const seen = new Set<number>();
	let index = head;
	for (;;) {
		if (index >= num || seen.has(index)) return undefined;
		seen.add(index);
		const words = await read('2gx', table + 16n * BigInt(index), 16n);
		if (!words || words.length < 2) return undefined;
		const [addr, word] = [words[0]!, words[1]!];
		const len = word & 0xffff_ffffn;
		const flags = (word >> 32n) & 0xffffn;
		const next = Number((word >> 48n) & 0xffffn);
		if (flags & 4n) {
			if (nested || len === 0n || len % 16n !== 0n || len / 16n > 1024n || flags & 1n) return undefined;
			const inner = await walkChain(0, Number(len / 16n), addr, read, true);
			if (!inner) return undefined;
			out.push({addr: '0x' + addr.toString(16), len: Number(len), flags: ['indirect']}, ...inner);
			return out;
		}
		out.push({
			addr: '0x' + addr.toString(16),
			len: Number(len),
			flags: descFlagNames.filter(([bit]) => flags & bit).map(([, name]) => name),
		});
		if (!(flags & 1n)) return out;
		index = next;
	}
}

/**
 * Builds the view of one x-query-virtio-queue-element answer. QEMU 7.2 lists the chain tail
 * first (it prepends each descriptor while walking); detected by the NEXT flags and put head
 * first. Pure. Observed with a Linux virtio-blk read: the header (16 B, "next") and data
 * (4096 B, "write|next") addresses were plausible guest-physical addresses, but the tail's
 * (1 B status, "write") was 0x632e8d628e5c85b8, far outside guest RAM: addresses in this answer
 * are shown as QEMU gives them, not trusted.
 */
export function ringElementView(
	path: string,
	queue: number,
	position: number | undefined,
	status: VirtQueueStatus,
	element: VirtioQueueElement,
): RingElementView {
	let descs = element.descs ?? [];
	const hasNext = (d: {flags: string[]}) => d.flags.includes('next');
	if (descs.length > 1 && !hasNext(descs[0]!) && hasNext(descs[descs.length - 1]!)) descs = [...descs].reverse();
	const lastAvail = status['last-avail-idx'] ?? 0;
	const shadowAvail = status['shadow-avail-idx'] ?? 0;
	const at = position ?? lastAvail;
	// pending: at lies in [last-avail-idx, shadow-avail-idx), the entries made available but not popped
	const pending = idxPending(lastAvail, at) < idxPending(lastAvail, shadowAvail);
	const view: RingElementView = {
		path,
		queue,
		position: at & 0xffff,
		head: element.index,
		descriptors: descs.map(d => ({addr: hexAddr(d.addr), len: d.len, flags: [...d.flags]})),
		pending,
	};
	if (element.avail) view.availIdx = element.avail.idx;
	if (element.used) view.usedIdx = element.used.idx;
	return view;
}
