import {LabError} from '../lab/lab-error.js';
import {guest} from './shell.js';
import type {StepContext} from './types.js';

/** How a PCI device identifies itself in its config space, as the guest's sysfs shows it. */
export interface PciIdentity {
	/** "0000:00:02.0" */
	address: string;
	/** Four hex digits each, without 0x: "1af4". */
	vendor: string;
	device: string;
	subsystemVendor: string;
	subsystemDevice: string;
	/** Six hex digits: class, subclass, programming interface ("010000": mass storage, SCSI). */
	class: string;
	revision: string;
}

/**
 * The PCI device a virtio device hangs off, read in the guest from sysfs: `virtioDevice` is a
 * sysfs path that resolves to the virtio device (/sys/block/vda/device), whose parent is the
 * PCI function virtio_pci registered it for. What the lesson says about IDs is checked against this.
 */
export async function pciIdentityOf(ctx: StepContext, virtioDevice: string): Promise<PciIdentity> {
	const fields = ['vendor', 'device', 'subsystem_vendor', 'subsystem_device', 'class', 'revision'];
	const {output, status} = await guest(
		ctx,
		`d=$(readlink -f ${virtioDevice}/..) && basename "$d" && cd "$d" && cat ${fields.join(' ')}`,
	);
	const lines = output.trim().split('\n');
	if (status !== 0 || lines.length !== fields.length + 1)
		throw new LabError({what: `The guest's sysfs has no PCI device above ${virtioDevice}.`, lastSeen: lines});
	const hex = (value: string, digits: number) => value.trim().replace(/^0x/, '').padStart(digits, '0');
	const [address, vendor, device, subsystemVendor, subsystemDevice, klass, revision] = lines;
	return {
		address: address!.trim(),
		vendor: hex(vendor!, 4),
		device: hex(device!, 4),
		subsystemVendor: hex(subsystemVendor!, 4),
		subsystemDevice: hex(subsystemDevice!, 4),
		class: hex(klass!, 6),
		revision: hex(revision!, 2),
	};
}

/** "1af4:1001 (subsystem 1af4:0002, class 010000, revision 00) at 0000:00:02.0" */
export function describePci(pci: PciIdentity): string {
	return `${pci.vendor}:${pci.device} (subsystem ${pci.subsystemVendor}:${pci.subsystemDevice}, class ${pci.class}, revision ${pci.revision}) at ${pci.address}`;
}
