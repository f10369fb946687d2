import {execFileSync} from 'node:child_process';

/** A Debian package kernelcraft needs, and why (for doctor's table). */
export interface Requirement {
	pkg: string;
	why: string;
	/** Only these milestones (or commands) need it; undefined: every milestone. */
	only?: string[];
}

/**
 * What one milestone asks of the host, as its data declares it (source/expedition/): the lab knows
 * no milestone by name and takes this as input.
 */
export interface HostNeeds {
	id: string;
	/** Packages beyond the ones every milestone needs. */
	packages?: ReadonlyArray<{pkg: string; why: string}>;
}

/** What every milestone needs: the kernel build, the guest's userland, the emulator. */
export const baseRequirements: Requirement[] = [
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
];

/** `kernelcraft gdb`'s own package, on top of what the milestone it debugs needs. */
export const gdbRequirements: Requirement[] = [
	{pkg: 'gdb', only: ['kernelcraft gdb'], why: 'attaches to the guest kernel and to QEMU'},
];

/** What a milestone needs from the host, so a run can say up front what is missing. */
export function requirementsFor(milestone: HostNeeds): Requirement[] {
	const own = (milestone.packages ?? []).filter(need => !baseRequirements.some(base => base.pkg === need.pkg));
	return [...baseRequirements, ...own.map(need => ({...need, only: [milestone.id]}))];
}

/**
 * Every package the milestones and commands need, once each, with the milestones that need it
 * (`only`): for doctor's table and setup.
 */
export function allRequirements(milestones: readonly HostNeeds[]): Requirement[] {
	const byPackage = new Map<string, Requirement>();
	for (const requirement of [...milestones.flatMap(requirementsFor), ...gdbRequirements]) {
		const known = byPackage.get(requirement.pkg);
		if (!known) byPackage.set(requirement.pkg, {...requirement, only: requirement.only && [...requirement.only]});
		else if (known.only && requirement.only) known.only.push(...requirement.only);
	}
	return [...byPackage.values()];
}

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
