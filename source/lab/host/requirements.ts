import {execFileSync} from 'node:child_process';

/** A Debian package the expedition needs, and which milestone needs it (for doctor's table). */
export interface Requirement {
	pkg: string;
	why: string;
	/** Only these milestones need it (default: all). */
	only?: string[];
}

/** The milestones that build QEMU themselves. */
const qemuBuilders = ['virtio-hello', 'tune'];

export const requirements: Requirement[] = [
	{pkg: 'build-essential', why: 'gcc and make for the kernel and modules'},
	{pkg: 'bc', why: 'the kernel build computes constants with it'},
	{pkg: 'flex', why: "Kconfig's lexer"},
	{pkg: 'bison', why: "Kconfig's parser"},
	{pkg: 'libelf-dev', why: 'objtool and module builds'},
	{pkg: 'libssl-dev', why: "the kernel's signing tools"},
	{pkg: 'cpio', why: 'initramfs tooling'},
	{pkg: 'ccache', why: 'compiler cache: a changed config or a second QEMU tree rebuilds only what changed'},
	{pkg: 'linux-source-6.1', why: 'the kernel source (unless KERNEL_SRC is set)'},
	{pkg: 'busybox-static', why: "the guest's userland"},
	{pkg: 'e2fsprogs', why: 'mke2fs -d builds the virtio-blk disk image'},
	{pkg: 'qemu-system-x86', why: 'the emulator'},
	{pkg: 'qemu-system-data', only: qemuBuilders, why: 'firmware for QEMU built from source'},
	{pkg: 'dpkg-dev', only: qemuBuilders, why: 'apt-get source qemu (virtio-hello)'},
	{pkg: 'ninja-build', only: qemuBuilders, why: 'the QEMU build (virtio-hello)'},
	{pkg: 'meson', only: qemuBuilders, why: 'the QEMU build (virtio-hello)'},
	{pkg: 'pkg-config', only: qemuBuilders, why: 'the QEMU build (virtio-hello)'},
	{pkg: 'libglib2.0-dev', only: qemuBuilders, why: 'the QEMU build (virtio-hello)'},
	{pkg: 'libpixman-1-dev', only: qemuBuilders, why: 'the QEMU build (virtio-hello)'},
	{pkg: 'libfdt-dev', only: qemuBuilders, why: 'the QEMU build (virtio-hello)'},
	{pkg: 'gdb', only: ['gdb'], why: '`kernelcraft gdb`: attaches to the guest kernel and to QEMU'},
];

/** Packages that only the test suite needs: a real Redis server for the shared compiler cache's test. */
export const testRequirements: Requirement[] = [
	{pkg: 'redis-server', why: "the shared compiler cache's test starts its own server on 127.0.0.1"},
];

/** Packages that are only needed by the benchmark (Debian's distro kernel, as the peer). */
export const benchRequirements: Requirement[] = [
	{pkg: 'linux-image-amd64', why: 'the distro kernel the benchmark boots as a peer'},
];

export interface PackageState {
	pkg: string;
	why: string;
	installed: boolean;
	version?: string;
}

/** Asks dpkg which of the packages are installed, in one call. */
export function packageStates(list: Requirement[]): PackageState[] {
	let output: string;
	try {
		output = execFileSync(
			'dpkg-query',
			['-W', '-f=${Package}\t${db:Status-Abbrev}\t${Version}\n', ...list.map(r => r.pkg)],
			{encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']},
		);
	} catch (error) {
		// dpkg-query exits 1 when some package is unknown but still prints the known ones.
		output = String((error as {stdout?: string}).stdout ?? '');
	}
	const found = new Map<string, string>();
	for (const line of output.split('\n')) {
		const [pkg, status, version] = line.split('\t');
		if (pkg && status?.startsWith('ii')) found.set(pkg.replace(/:.*$/, ''), version ?? '');
	}
	return list.map(r => ({pkg: r.pkg, why: r.why, installed: found.has(r.pkg), version: found.get(r.pkg)}));
}

/** What a milestone needs from the host, so a run can say up front what is missing. */
export function requirementsFor(milestone: string): Requirement[] {
	return requirements.filter(requirement => !requirement.only || requirement.only.includes(milestone));
}
