// Decoders for what QEMU's x-query-virtio-status reports: device status bits and negotiated
// feature bits turned into bare names (the spec's device-independent bits named where QEMU 7.2
// leaves them unknown), and guest-physical addresses as hex text.

import type {U64, VirtioStatus} from '../vm/qmp-types.js';

/** ["VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready"] -> ["DRIVER_OK"]; also decodes a raw byte. */
export function decodeStatus(status: VirtioStatus['status'] | number | undefined): string[] {
	if (typeof status === 'number') {
		const bits: [number, string][] = [
			[1, 'ACKNOWLEDGE'],
			[2, 'DRIVER'],
			[8, 'FEATURES_OK'],
			[4, 'DRIVER_OK'],
			[0x40, 'DEVICE_NEEDS_RESET'],
			[0x80, 'FAILED'],
		];
		return bits.filter(([bit]) => status & bit).map(([, name]) => name);
	}
	const names = (status?.statuses ?? []).map(s => featureName(s).replace(/^VIRTIO_CONFIG_S_/, ''));
	if (status?.['unknown-statuses']) names.push(`UNKNOWN(0x${status['unknown-statuses'].toString(16)})`);
	return names;
}

/**
 * The device-independent feature bits of the virtio spec (1.3, "Reserved Feature Bits"), 24 to 40.
 * QEMU 7.2 names only some of them and lists the rest as unknown (bit 40, RING_RESET, among them).
 */
export const standardFeatureBits: Readonly<Record<number, string>> = {
	24: 'VIRTIO_F_NOTIFY_ON_EMPTY',
	27: 'VIRTIO_F_ANY_LAYOUT',
	28: 'VIRTIO_RING_F_INDIRECT_DESC',
	29: 'VIRTIO_RING_F_EVENT_IDX',
	30: 'VIRTIO_F_BAD_FEATURE',
	32: 'VIRTIO_F_VERSION_1',
	33: 'VIRTIO_F_ACCESS_PLATFORM',
	34: 'VIRTIO_F_RING_PACKED',
	35: 'VIRTIO_F_IN_ORDER',
	36: 'VIRTIO_F_ORDER_PLATFORM',
	37: 'VIRTIO_F_SR_IOV',
	38: 'VIRTIO_F_NOTIFICATION_DATA',
	39: 'VIRTIO_F_NOTIF_CONFIG_DATA',
	40: 'VIRTIO_F_RING_RESET',
};

/** Negotiated features ("guest-features"), transport ones first, as bare names. */
export function decodeFeatures(features: VirtioStatus['guest-features'] | undefined): string[] {
	if (!features) return [];
	const names = [...(features.transports ?? []), ...(features['dev-features'] ?? [])].map(featureName);
	const unknown = features['unknown-dev-features'];
	if (unknown === undefined) return names;
	let rest = BigInt(unknown);
	for (const [bit, name] of Object.entries(standardFeatureBits)) {
		const mask = 1n << BigInt(bit);
		if (!(rest & mask)) continue;
		rest &= ~mask;
		if (!names.includes(name)) names.push(name);
	}
	if (rest !== 0n) names.push(`UNKNOWN(0x${rest.toString(16)})`);
	return names;
}

function featureName(entry: string): string {
	const colon = entry.indexOf(':');
	return (colon >= 0 ? entry.slice(0, colon) : entry).trim();
}

export function hexAddr(value: U64 | undefined): string {
	if (value === undefined) return '0x0';
	return '0x' + BigInt(value).toString(16);
}
