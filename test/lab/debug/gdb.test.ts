import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {shellPrompt} from '../../../source/expedition/shell.js';
import {deviceGreeting, driverStep, helloRootfsStep} from '../../../source/expedition/virtio-hello.js';
import {kernelBuildKey, listFragments} from '../../../source/lab/build/kernel.js';
import {resolveKernelSource, type KernelSource} from '../../../source/lab/build/kernel-source.js';
import {ensureQemu} from '../../../source/lab/build/qemu-build.js';
import {
	chooseGdbSocket,
	ensureGdbKernel,
	gdbKernelAppend,
	kernelGdbCommand,
	ptraceBlocker,
	qemuGdbCommand,
	type GdbKernel,
} from '../../../source/lab/debug/gdb.js';
import {cacheRoot, configsDir} from '../../../source/lab/paths.js';
import type {QemuVm} from '../../../source/lab/vm/qemu-vm.js';
import {Session} from '../../../source/lab/session.js';
import {cliPath} from '../../helpers/cli.js';
import {isAlive, waitUntil} from '../../helpers/processes.js';
import {tempDir} from '../../helpers/temp.js';

// The gdb flavour is built once into the shared cache (the first time: minutes), then booted in
// real QEMU under TCG and read by a real gdb through the gdbstub's unix socket.

let built: Promise<{kernel: GdbKernel; source: KernelSource}> | undefined;
function gdbKernel(): Promise<{kernel: GdbKernel; source: KernelSource}> {
	built ??= (async () => {
		const cacheDir = cacheRoot();
		const source = await resolveKernelSource({cacheDir});
		return {kernel: await ensureGdbKernel({source, cacheDir}), source};
	})();
	return built;
}

/** A gdb-flavour VM with the gdbstub on a socket in the run's 0700 folder, at its shell prompt. */
async function bootGdbVm(t: ExecutionContext): Promise<{vm: QemuVm; socket: string; kernel: GdbKernel}> {
	const {kernel} = await gdbKernel();
	const session = new Session({cacheDir: cacheRoot(), panel: false}, () => {});
	t.teardown(() => session.dispose());
	session.kernel = kernel;
	session.packRootfs();
	const socket = await chooseGdbSocket(session.runDir('gdb-test'));
	const vm = await session.boot({append: gdbKernelAppend, gdbSocket: socket});
	await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
	return {vm, socket, kernel};
}

interface GdbRun {
	stdout: string;
	stderr: string;
	code: number | null;
}

/** Runs a real gdb in batch mode; `whileRunning` acts while it waits (e.g. on a breakpoint). */
function runGdbBatch(argv: string[], whileRunning?: (seen: () => string) => Promise<void>): Promise<GdbRun> {
	return new Promise((resolve, reject) => {
		const child = spawn(argv[0]!, ['-batch', '-nx', ...argv.slice(1)], {stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
		const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
		child.once('error', reject);
		child.once('exit', code => {
			clearTimeout(timer);
			resolve({stdout, stderr, code});
		});
		whileRunning?.(() => stdout + stderr).catch(error => {
			child.kill('SIGKILL');
			reject(error as Error);
		});
	});
}

test.serial('the gdb kernel: DWARF 5, the gdb scripts, frame pointers, under a key of its own', async t => {
	const {kernel, source} = await gdbKernel();
	const config = fs.readFileSync(path.join(kernel.buildDir, '.config'), 'utf8');
	for (const option of [
		'CONFIG_DEBUG_KERNEL=y',
		'CONFIG_DEBUG_INFO=y',
		'CONFIG_DEBUG_INFO_DWARF5=y',
		'CONFIG_GDB_SCRIPTS=y',
		'CONFIG_FRAME_POINTER=y',
		'CONFIG_UNWINDER_FRAME_POINTER=y',
	])
		t.true(config.includes(`\n${option}\n`), option);
	t.false(config.includes('\nCONFIG_DEBUG_INFO_REDUCED=y\n'), 'full debug info, not reduced');
	// `make scripts_gdb` (part of `all` with GDB_SCRIPTS): the loader and the generated constants.
	t.true(fs.existsSync(kernel.gdbScript));
	t.true(fs.existsSync(path.join(kernel.buildDir, 'scripts/gdb/linux/constants.py')));
	const sections = execFileSync('readelf', ['-S', '-W', kernel.vmlinux], {encoding: 'utf8'});
	t.regex(sections, /\.debug_info/);
	// The first compilation unit's header (the whole dump is gigabytes).
	const dwarf = execFileSync('sh', ['-c', 'readelf --debug-dump=info "$1" | head -n 20', 'sh', kernel.vmlinux], {
		encoding: 'utf8',
	});
	t.regex(dwarf.slice(0, 2000), /Version:\s+5/, 'DWARF version 5');
	const normal = kernelBuildKey(source, listFragments(path.join(configsDir, 'kernel')));
	t.not(kernel.key, normal, 'the gdb flavour never replaces the normal build');
});

test.serial('gdb reads the running kernel through the gdbstub socket, and the guest runs on after', async t => {
	const {vm, socket, kernel} = await bootGdbVm(t);
	// A unix socket in the run's private folder; no TCP port anywhere on QEMU's command line.
	t.true(vm.commandLine.includes(`socket,path=${socket},server=on,wait=off,id=gdb0`));
	t.false(
		vm.commandLine.some(arg => /tcp:|0\.0\.0\.0|^-s$/.test(arg)),
		vm.commandLine.join(' '),
	);
	t.is(fs.statSync(path.dirname(socket)).mode & 0o777, 0o700, "the socket's folder is private");
	const argv = kernelGdbCommand({kernel, socket, symbols: false});
	const run = await runGdbBatch([
		...argv,
		'-ex',
		'lx-version',
		'-ex',
		'p $lx_current().comm',
		'-ex',
		'p jiffies_64',
		'-ex',
		'bt',
		'-ex',
		'lx-ps',
		'-ex',
		'detach',
	]);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /Linux version 6\.1\.\d+/, 'lx-version reads linux_banner from guest memory');
	t.regex(run.stdout, /\$1 = "[^"]+"/, '$lx_current().comm names the current task');
	t.regex(run.stdout, /\$2 = \d+/, 'jiffies_64');
	t.regex(run.stdout, /#0\s+.*\bin\b|#0\s+\w+ \(/, 'a backtrace');
	t.regex(run.stdout, /\binit\b|\bsh\b/, "lx-ps lists the guest's processes");
	t.notRegex(run.stderr, /Python Exception|Undefined command/, run.stderr);
	// Detached: the guest resumes and answers.
	const alive = await vm.checks.run('echo still-here', {timeoutMs: 30_000});
	t.is(alive.output.trim(), 'still-here');
});

test.serial('a breakpoint on a syscall is hit when the guest makes it, with the right task', async t => {
	const {vm, socket, kernel} = await bootGdbVm(t);
	const argv = kernelGdbCommand({kernel, socket, symbols: false});
	let uname: Promise<{output: string; status: number}> | undefined;
	const run = await runGdbBatch(
		[
			...argv,
			'-ex',
			'break __x64_sys_newuname',
			'-ex',
			'continue',
			'-ex',
			'p $lx_current().comm',
			'-ex',
			'bt',
			'-ex',
			'delete',
			'-ex',
			'detach',
		],
		async seen => {
			// The guest stays stopped until gdb continues: the command waits for it, then hits the breakpoint.
			t.true(await waitUntil(() => /Breakpoint 1 at/.test(seen()), 60_000), 'gdb set the breakpoint');
			// The check shell's command blocks on the breakpoint until gdb detaches.
			uname = vm.checks.run('uname -r', {timeoutMs: 120_000});
		},
	);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /Breakpoint 1, __x64_sys_newuname/);
	t.regex(run.stdout, /\$1 = "uname(\\000)*"/, 'the task on the CPU is busybox uname');
	t.regex(run.stdout, /#\d+\s+.*do_syscall_64/, 'bt through the syscall entry');
	// Sources are found although the build was compiled in a scratch folder since renamed.
	t.regex(run.stdout, /^1\d{3}\s+\{|SYSCALL_DEFINE1\(newuname/m, 'gdb shows kernel/sys.c');
	t.notRegex(run.stderr, /sys\.c: No such file/);
	t.truthy(uname);
	const result = await uname!;
	t.is(result.status, 0);
	t.regex(result.output, /^6\.1\.\d+/);
});

test.serial('gdb -p attaches to the running QEMU (ptrace) and leaves it running', async t => {
	t.is(ptraceBlocker(), undefined, 'ptrace is allowed on this machine');
	const {vm} = await bootGdbVm(t);
	const argv = qemuGdbCommand({qemu: vm.commandLine[0]!, pid: vm.pid});
	const run = await runGdbBatch([...argv, '-ex', 'info threads', '-ex', 'detach']);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /qemu-system-x86/);
	t.regex(run.stdout, /Thread .*\(LWP \d+\)/);
	t.true(vm.running);
	const alive = await vm.checks.run('echo still-here', {timeoutMs: 30_000});
	t.is(alive.output.trim(), 'still-here');
});

/** `kernelcraft gdb` with gdb's commands on its stdin (gdb reads a pipe as a script). */
async function gdbCli(
	t: ExecutionContext,
	args: string[],
	gdbInput: string,
	env: NodeJS.ProcessEnv = {},
): Promise<{code: number | null; stdout: string; stderr: string}> {
	const child = spawn(process.execPath, [cliPath, 'gdb', ...args], {
		env: {...process.env, ...env},
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	t.teardown(() => {
		if (child.exitCode === null) child.kill('SIGKILL');
	});
	child.stdin.end(gdbInput);
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
	child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
	const code = await new Promise<number | null>(resolve => {
		const timer = setTimeout(() => child.kill('SIGTERM'), 300_000);
		child.once('exit', exitCode => {
			clearTimeout(timer);
			resolve(exitCode);
		});
	});
	return {code, stdout, stderr};
}

function leftovers(t: ExecutionContext, stdout: string): void {
	const pid = Number(/QEMU pid (\d+)/.exec(stdout)?.[1]);
	const socket = /gdbstub on (\S+)/.exec(stdout)?.[1];
	t.true(pid > 0, stdout);
	t.truthy(socket, stdout);
	t.false(isAlive(pid), 'QEMU is gone once gdb has quit');
	t.false(fs.existsSync(socket!), 'the gdbstub socket is removed');
}

test.serial(
	'kernelcraft gdb boot: prints the gdb line, runs gdb on the guest, stops the VM when gdb quits',
	async t => {
		await gdbKernel();
		const run = await gdbCli(t, ['boot'], 'lx-version\np $lx_current().comm\nquit\n');
		t.is(run.code, 0, run.stdout + run.stderr);
		const line = /^ {2}(gdb -q -iex .*)$/m.exec(run.stdout)?.[1];
		t.truthy(line, run.stdout);
		t.regex(
			line!,
			/^gdb -q -iex 'add-auto-load-safe-path (\S+)'( -iex 'set substitute-path \S+ \1')? \1\/vmlinux -ex 'target remote \S+\/gdb\.sock' -ex lx-symbols$/,
		);
		t.regex(run.stdout, /Linux version 6\.1\.\d+/);
		t.notRegex(run.stdout + run.stderr, /Python Exception/);
		leftovers(t, run.stdout);
	},
);

test.serial('kernelcraft gdb: gdb exiting with an error is said, and the VM is stopped all the same', async t => {
	await gdbKernel();
	const run = await gdbCli(t, ['boot'], 'quit 3\n');
	t.is(run.code, 1);
	t.regex(run.stdout, /gdb exited with code 3; the VM is stopped/);
	leftovers(t, run.stdout);
});

test('kernelcraft gdb without gdb on PATH names `kernelcraft setup`, and boots nothing', async t => {
	// dpkg-query alone on PATH: the packages are there, the gdb program is not.
	const bin = tempDir(t);
	fs.symlinkSync(
		execFileSync('sh', ['-c', 'command -v dpkg-query'], {encoding: 'utf8'}).trim(),
		path.join(bin, 'dpkg-query'),
	);
	const run = await gdbCli(t, ['boot'], '', {PATH: bin});
	t.is(run.code, 1);
	t.regex(run.stderr, /gdb is not on PATH/);
	t.regex(run.stderr, /kernelcraft setup/);
	t.notRegex(run.stdout, /QEMU pid/);
});

test('kernelcraft gdb: a milestone it cannot debug, and --qemu without a QEMU of ours, are usage errors', async t => {
	const other = await gdbCli(t, ['hello-module'], '');
	t.is(other.code, 2);
	t.regex(other.stderr, /boot or virtio-hello/);
	const qemu = await gdbCli(t, ['boot', '--qemu'], '');
	t.is(qemu.code, 2);
	t.regex(qemu.stderr, /virtio-hello --qemu/);
});

test('the gdbstub socket: a busy path is skipped, a stale one reused, a deep folder falls back to a private one', async t => {
	const dir = tempDir(t);
	const first = await chooseGdbSocket(dir);
	t.is(first, path.join(dir, 'gdb.sock'));
	const server = net.createServer();
	await new Promise<void>(resolve => server.listen(first, resolve));
	t.teardown(() => server.close());
	t.is(await chooseGdbSocket(dir), path.join(dir, 'gdb-1.sock'), 'someone listens on gdb.sock: another path');
	// A socket file nobody listens on (a killed QEMU's) is removed and reused.
	const stale = net.createServer();
	const stalePath = path.join(dir, 'gdb-1.sock');
	await new Promise<void>(resolve => stale.listen(stalePath, resolve));
	await new Promise<void>(resolve => stale.close(() => resolve()));
	fs.writeFileSync(stalePath, '');
	t.is(await chooseGdbSocket(dir), stalePath);
	const deep = path.join(dir, 'x'.repeat(60), 'y'.repeat(60));
	fs.mkdirSync(deep, {recursive: true});
	const fallback = await chooseGdbSocket(deep);
	t.true(fallback.length < 108, fallback);
	t.is(fs.statSync(path.dirname(fallback)).mode & 0o777, 0o700);
	fs.rmSync(path.dirname(fallback), {recursive: true, force: true});
});

test('ptrace: what to do when Yama forbids attaching to QEMU', t => {
	const dir = tempDir(t);
	const scope = (value: string) => {
		const file = path.join(dir, `scope-${value}`);
		fs.writeFileSync(file, `${value}\n`);
		return file;
	};
	t.is(ptraceBlocker(path.join(dir, 'none'), 1000), undefined, 'no Yama: same user may attach');
	t.is(ptraceBlocker(scope('0'), 1000), undefined);
	t.is(ptraceBlocker(scope('1'), 0), undefined, 'root may attach under scope 1');
	t.regex(ptraceBlocker(scope('1'), 1000)!, /sysctl kernel\.yama\.ptrace_scope=0/);
	t.regex(ptraceBlocker(scope('2'), 1000)!, /only root/);
	t.regex(ptraceBlocker(scope('3'), 0)!, /next reboot/);
});

test.serial('kernelcraft gdb virtio-hello: the driver is loaded and lx-symbols loads its debug info', async t => {
	await gdbKernel();
	const run = await gdbCli(t, ['virtio-hello'], 'lx-lsmod\nquit\n');
	t.is(run.code, 0, run.stdout + run.stderr);
	t.regex(run.stdout, /virtio_hello is loaded \(\/dev\/virtio-hello0/);
	t.regex(
		run.stdout,
		/loading @0x[0-9a-f]+: \S+\/virtio_hello\.ko/,
		'lx-symbols found the module built for this kernel',
	);
	t.regex(run.stdout, /virtio_hello\s+\d+/, 'lx-lsmod lists it');
	leftovers(t, run.stdout);
});

test.serial('gdb on QEMU built with -g stops in virtio-hello.c when the guest sends a greeting', async t => {
	t.is(ptraceBlocker(), undefined, 'ptrace is allowed on this machine');
	const {kernel} = await gdbKernel();
	const cacheDir = cacheRoot();
	const qemu = await ensureQemu({cacheDir, debugInfo: true});
	const normal = await ensureQemu({cacheDir});
	t.not(path.dirname(qemu.binary), path.dirname(normal.binary), 'the -g build is a cache entry of its own');
	t.regex(execFileSync('readelf', ['-S', '-W', qemu.binary], {encoding: 'utf8'}), /\.debug_info/);
	const session = new Session({cacheDir, panel: false}, () => {});
	t.teardown(() => session.dispose());
	session.kernel = kernel;
	session.customQemu = qemu.binary;
	const abort = new AbortController();
	t.teardown(() => abort.abort());
	for (const step of [driverStep, helloRootfsStep])
		await step.run({emit: () => {}, signal: abort.signal, session, step: step.id, figures: {}});
	const vm = await session.boot({
		qemu: qemu.binary,
		append: gdbKernelAppend,
		extraArgs: ['-device', `virtio-hello-pci,id=hello0,greeting=${deviceGreeting}`],
	});
	await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
	t.is((await vm.checks.run('modprobe virtio_hello', {timeoutMs: 60_000})).status, 0);
	let greeting: Promise<{output: string; status: number}> | undefined;
	const run = await runGdbBatch(
		[
			...qemuGdbCommand({qemu: qemu.binary, pid: vm.pid}),
			'-ex',
			'break virtio_hello_handle_request',
			'-ex',
			'continue',
			'-ex',
			'bt 3',
			'-ex',
			'info source',
			'-ex',
			'delete',
			'-ex',
			'detach',
		],
		async seen => {
			t.true(await waitUntil(() => /Breakpoint 1 at/.test(seen()), 60_000), 'gdb set the breakpoint');
			greeting = vm.checks.run('hello-client greet Ada', {timeoutMs: 120_000});
		},
	);
	t.is(run.code, 0, run.stderr);
	t.regex(run.stdout, /Breakpoint 1, virtio_hello_handle_request \(vdev=/);
	t.regex(run.stdout, /Current source file is \S*virtio-hello\.c/);
	const reply = await greeting!;
	t.is(reply.status, 0, reply.output);
	t.regex(reply.output, /Ada/);
});
