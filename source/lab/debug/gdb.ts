import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {ensureKernel, listFragments, type KernelBuild} from '../build/kernel.js';
import type {KernelSource} from '../build/kernel-source.js';
import {LabError} from '../lab-error.js';
import {configsDir} from '../paths.js';
import {qemuOptionValue, socketDirFor} from '../vm/socket-dir.js';

/**
 * gdb on the expedition's VM: a kernel flavour with DWARF and the kernel's gdb scripts
 * (configs/kernel/ + configs/kernel-gdb/, so it is cached under its own key and built only when
 * someone asks for gdb), QEMU's gdbstub on a unix socket in the run's private folder, and the
 * gdb command lines that attach to the guest kernel and to QEMU itself.
 */

/** The gdb flavour's fragments: the normal ones, then configs/kernel-gdb/. */
export function gdbFragments(dir = configsDir): string[] {
	return [...listFragments(path.join(dir, 'kernel')), ...listFragments(path.join(dir, 'kernel-gdb'))];
}

/** The kernel command line the gdb flavour boots with: addresses in vmlinux are the running ones. */
export const gdbKernelAppend = 'nokaslr';

/** What a gdb session needs from the gdb-flavour build folder. */
export interface GdbKernel extends KernelBuild {
	vmlinux: string;
	/** vmlinux-gdb.py: the kernel's gdb scripts (lx-symbols, lx-dmesg, $lx_current()...). */
	gdbScript: string;
	/**
	 * The folder the kernel was compiled in, when it is not buildDir: a cache entry is built in a
	 * scratch folder and renamed, and DWARF names sources relative to the folder it was compiled in.
	 */
	compiledIn?: string;
}

export interface GdbKernelOptions {
	source: KernelSource;
	cacheDir: string;
	signal?: AbortSignal;
	onLine?: (line: string) => void;
	onProgress?: (fraction: number, label: string, estimated: boolean) => void;
	/** Where configs/ lives (tests point it elsewhere). */
	configs?: string;
}

/**
 * Builds (once, then from the cache) the gdb-flavour kernel. With CONFIG_GDB_SCRIPTS the kernel's
 * `make` (target all) also makes `scripts_gdb`: vmlinux-gdb.py and scripts/gdb/linux/ (links into
 * the source, and the generated constants.py) land in the build folder. Checked here, not assumed.
 */
export async function ensureGdbKernel(options: GdbKernelOptions): Promise<GdbKernel> {
	const build = await ensureKernel({
		source: options.source,
		fragments: gdbFragments(options.configs),
		cacheDir: options.cacheDir,
		signal: options.signal,
		onLine: options.onLine,
		onProgress: options.onProgress,
	});
	const vmlinux = path.join(build.buildDir, 'vmlinux');
	const gdbScript = path.join(build.buildDir, 'vmlinux-gdb.py');
	const missing = [vmlinux, gdbScript, path.join(build.buildDir, 'scripts/gdb/linux/constants.py')].filter(
		file => !fs.existsSync(file),
	);
	if (missing.length > 0)
		throw new LabError({
			what: `The gdb kernel in ${build.buildDir} has no ${missing.map(file => path.relative(build.buildDir, file)).join(', ')}.`,
			hint: 'Check that configs/kernel-gdb/ still sets CONFIG_DEBUG_INFO_DWARF5 and CONFIG_GDB_SCRIPTS, then `kernelcraft cache --clear kernels`.',
			logPath: build.logPath,
		});
	return {...build, vmlinux, gdbScript, compiledIn: compiledIn(build.buildDir, build.logPath)};
}

/** The scratch folder make ran in (its log says so), if the build was published from one. */
export function compiledIn(buildDir: string, logPath: string): string | undefined {
	let log: string;
	try {
		log = fs.readFileSync(logPath, 'utf8');
	} catch {
		return undefined;
	}
	// ensureCacheEntry's scratch folder: <entry>.scratch-<pid>-<random>, renamed to <entry> when done.
	const scratch = [...log.matchAll(/Entering directory '([^']+)'/g)]
		.map(match => match[1]!)
		.find(folder => folder.startsWith(`${buildDir}.scratch-`));
	return scratch;
}

/** QEMU's gdbstub on a unix socket: a chardev server, never a TCP port. */
export function gdbstubArgs(socket: string): string[] {
	return ['-chardev', `socket,path=${qemuOptionValue(socket)},server=on,wait=off,id=gdb0`, '-gdb', 'chardev:gdb0'];
}

/**
 * A free socket path for the gdbstub in `dir` (the run's 0700 folder): gdb.sock, else gdb-1.sock...
 * when something already listens there. A leftover socket nobody listens on is removed and reused.
 * The folder is the run's socket folder: `dir`, or a private one when `dir` is too deep (socket-dir.ts).
 */
export async function chooseGdbSocket(dir: string): Promise<string> {
	const base = socketDirFor(dir);
	for (let index = 0; index < 100; index++) {
		const candidate = path.join(base, index === 0 ? 'gdb.sock' : `gdb-${index}.sock`);
		if (!fs.existsSync(candidate)) return candidate;
		if (await listening(candidate)) continue;
		try {
			fs.rmSync(candidate, {force: true});
			return candidate;
		} catch {
			continue;
		}
	}
	throw new LabError({what: `No free socket path for the gdbstub in ${base}: gdb.sock to gdb-99.sock are all taken.`});
}

/** True when a process accepts connections on the unix socket `socket`. */
export function listening(socket: string): Promise<boolean> {
	return new Promise(resolve => {
		const client = net.connect(socket);
		const done = (result: boolean) => {
			client.destroy();
			resolve(result);
		};
		client.once('connect', () => done(true));
		client.once('error', () => done(false));
		client.setTimeout(1000, () => done(false));
	});
}

export interface KernelGdbOptions {
	kernel: Pick<GdbKernel, 'buildDir' | 'vmlinux' | 'compiledIn'>;
	socket: string;
	/** Folders lx-symbols searches for the modules' .ko files (with their debug info). */
	modulePaths?: string[];
	/** Leave out lx-symbols (a batch run that only reads). */
	symbols?: boolean;
	gdb?: string;
}

/**
 * gdb attached to the guest kernel: vmlinux for symbols, the build folder trusted for auto-load
 * (-iex runs before vmlinux is read, so vmlinux-gdb.py loads with it), then the gdbstub.
 */
export function kernelGdbCommand(options: KernelGdbOptions): string[] {
	const {buildDir, vmlinux, compiledIn: scratch} = options.kernel;
	return [
		options.gdb ?? 'gdb',
		'-q',
		'-iex',
		`add-auto-load-safe-path ${buildDir}`,
		// Sources are named relative to the folder make ran in; it was renamed to buildDir.
		...(scratch ? ['-iex', `set substitute-path ${scratch} ${buildDir}`] : []),
		vmlinux,
		'-ex',
		`target remote ${options.socket}`,
		...(options.symbols === false ? [] : ['-ex', ['lx-symbols', ...(options.modulePaths ?? [])].join(' ')]),
	];
}

/**
 * gdb attached to the QEMU process: its own binary (built with -g) for symbols. QEMU's vCPU
 * thread is kicked with SIGUSR1 under TCG, and gdb would stop on every one.
 */
export function qemuGdbCommand(options: {qemu: string; pid: number; gdb?: string}): string[] {
	return [
		options.gdb ?? 'gdb',
		'-q',
		options.qemu,
		'-p',
		String(options.pid),
		'-ex',
		'handle SIGUSR1 SIGUSR2 SIGPIPE nostop noprint pass',
	];
}

/** A command line as a shell (and an IDE's "custom gdb command" field) takes it. */
export function shellLine(argv: string[]): string {
	return argv.map(arg => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Finds a program on PATH, as a shell would; undefined when it is not there. */
export function onPath(program: string, envPath = process.env.PATH ?? ''): string | undefined {
	if (program.includes('/')) return isExecutable(program) ? program : undefined;
	for (const dir of envPath.split(':').filter(Boolean)) {
		const candidate = path.join(dir, program);
		if (isExecutable(candidate)) return candidate;
	}
	return undefined;
}

function isExecutable(file: string): boolean {
	try {
		fs.accessSync(file, fs.constants.X_OK);
		return fs.statSync(file).isFile();
	} catch {
		return false;
	}
}

/**
 * Whether gdb may attach to a process that is not its own child (QEMU is kernelcraft's child, and
 * gdb its sibling): Yama's ptrace_scope, and who we are. Undefined when it may; else what to do.
 */
export function ptraceBlocker(
	scopeFile = '/proc/sys/kernel/yama/ptrace_scope',
	uid = process.getuid?.() ?? 0,
): string | undefined {
	let scope: number;
	try {
		scope = Number(fs.readFileSync(scopeFile, 'utf8').trim());
	} catch {
		return undefined; // No Yama: classic ptrace rules, same user may attach.
	}
	if (scope === 0) return undefined;
	if (scope === 3)
		return `${scopeFile} is 3: no process may attach to another until the next reboot. Boot with kernel.yama.ptrace_scope=0 or 1 (e.g. in /etc/sysctl.d/), or use the kernel gdb alone (without --qemu).`;
	if (uid === 0) return undefined;
	if (scope === 2)
		return `${scopeFile} is 2: only root may attach to a process. Run kernelcraft as root (sudo -E), or allow it until the next reboot with: sudo sysctl kernel.yama.ptrace_scope=0.`;
	return `${scopeFile} is 1: gdb may attach only to its own children, and QEMU is not gdb's child. Allow it until the next reboot with: sudo sysctl kernel.yama.ptrace_scope=0 (or run kernelcraft as root).`;
}
