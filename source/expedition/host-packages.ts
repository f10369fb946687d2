import type {HostPackage} from './types.js';

/**
 * What building QEMU from source needs (milestones that run kernelcraft's own QEMU, with the
 * devices of devices/): the build tools, the libraries QEMU links, and its firmware.
 */
export const qemuBuildPackages: HostPackage[] = [
	{pkg: 'qemu-system-data', why: 'firmware for QEMU built from source'},
	{pkg: 'dpkg-dev', why: 'apt-get source qemu'},
	{pkg: 'ninja-build', why: 'the QEMU build'},
	{pkg: 'meson', why: 'the QEMU build'},
	{pkg: 'pkg-config', why: 'the QEMU build'},
	{pkg: 'libglib2.0-dev', why: 'the QEMU build'},
	{pkg: 'libpixman-1-dev', why: 'the QEMU build'},
	{pkg: 'libfdt-dev', why: 'the QEMU build'},
];
