import path from 'node:path';
import {qemuBuildPackages} from './host-packages.js';
import {buildGuestProgram} from '../lab/build/guest-program.js';
import {buildKernelModule, writeModulesDep} from '../lab/build/kernel-module.js';
import {ensureQemu} from '../lab/build/qemu-build.js';
import {LabError} from '../lab/lab-error.js';
import {devicesDir, driversDir, projectRoot} from '../lab/paths.js';
import {idxDelta} from '../lab/virtio/wrap.js';
import type {DeviceView} from '../runner/events.js';
import {bootStepWith, kernelStep, rootfsStep} from './boot.js';
import {greetingFailure, greetingTimeoutS, requestCounts, stuckGreeting} from './greeting-diagnosis.js';
import {check, guest} from './shell.js';
import type {Milestone, Step, StepContext} from './types.js';

export const helloDriverDir = path.join(driversDir, 'virtio-hello');
export const helloAbiHeader = path.join(devicesDir, 'virtio-hello', 'include', 'virtio_hello.h');
export const deviceGreeting = 'kernelcraft QEMU';

export function guestDriverPath(ctx: StepContext): string {
	return `/lib/modules/${ctx.session.kernel!.release}/extra/virtio_hello.ko`;
}

/** The virtio-hello devices QMP lists, sampled now. */
export async function helloDevices(ctx: StepContext): Promise<DeviceView[]> {
	const devices = (await ctx.session.panel?.sampleNow()) ?? [];
	return devices.filter(device => device.name === 'virtio-hello');
}

export const qemuStep: Step = {
	id: 'qemu',
	title: 'Build QEMU with the new device',
	lesson: [
		'devices/virtio-hello/ is a new device model for QEMU: virtio-hello.c (the device: its',
		'queue handler pops each request, checks it, answers it), virtio-hello-pci.c (the PCI proxy',
		"that puts it on the bus) and two build lines. kernelcraft applies them to Debian's QEMU 7.2",
		'source and builds qemu-system-x86_64 alone (the first build is a few minutes; after an edit of',
		'devices/ only the changed files are compiled).',
		'Open: devices/virtio-hello/virtio-hello.c, then docs/virtio-hello.md for the contract.',
		'In the TUI you build your own copy of the queue handler, with TODOs to fill in',
		'(`kernelcraft exercise path virtio-device`), in a QEMU work tree of its own.',
	].join('\n'),
	async run(ctx) {
		const learners = ctx.session.options.exerciseDirs?.['virtio-device'];
		const qemu = await ensureQemu({
			given: ctx.session.options.qemuSrc,
			deviceDir: learners,
			cacheDir: ctx.session.cacheDir,
			// --debug: QEMU keeps its debug info, so gdb can stop in the device (the walk step).
			debugInfo: ctx.session.options.debug,
			signal: ctx.signal,
			onLine: line => ctx.emit({type: 'log', step: ctx.step, line}),
			onProgress: (fraction, label, estimated) =>
				ctx.emit({type: 'progress', step: ctx.step, fraction, label, estimated}),
		});
		ctx.session.customQemu = qemu.binary;
		const from = learners ? ` from ${learners}` : '';
		return `QEMU ${qemu.version} with virtio-hello${from} ${qemu.rebuilt ? 'built' : 'unchanged, from the cache'}: ${qemu.binary}`;
	},
};

/** The guest's static hello-client, keyed by its sources and the headers it shares with the driver. */
export function buildHelloClient(cacheDir: string, signal?: AbortSignal): Promise<{path: string; rebuilt: boolean}> {
	return buildGuestProgram({
		name: 'hello-client',
		source: path.join(helloDriverDir, 'client', 'hello-client.c'),
		includeDirs: [helloDriverDir, path.dirname(helloAbiHeader)],
		// hello-client.c #includes its benchmarks from hello-bench.c: an edit there rebuilds it too.
		inputs: [
			path.join(helloDriverDir, 'client', 'hello-bench.c'),
			path.join(helloDriverDir, 'virtio_hello_ioctl.h'),
			helloAbiHeader,
		],
		cacheDir,
		signal,
	});
}

export const driverStep: Step = {
	id: 'driver',
	title: 'Build the driver and its client',
	lesson: [
		'drivers/virtio-hello/virtio_hello_core.c is the Linux half: a virtio_driver whose probe() finds',
		'the queue, a misc device (/dev/virtio-hello0) for user space, and one completion per',
		'request. Both halves include the same header, devices/virtio-hello/include/virtio_hello.h:',
		'one ABI, no copy to drift. hello-client is a static program for the guest.',
		'In the TUI you build your own copy of the request path, with TODOs to fill in',
		'(`kernelcraft exercise path virtio-driver`): press e to open it at the first TODO.',
	].join('\n'),
	async run(ctx) {
		const kernel = ctx.session.kernel!;
		const learners = ctx.session.options.exerciseDirs?.['virtio-driver'];
		const build = await ctx.session.foreground(() =>
			buildKernelModule({
				srcDir: learners ?? helloDriverDir,
				// The learner's copy builds where the reference does: its Kbuild's relative include
				// of devices/virtio-hello/include (copied beside it, an extra input) still resolves.
				buildAs: learners ? path.relative(projectRoot, helloDriverDir) : undefined,
				kernel,
				cacheDir: ctx.session.cacheDir,
				extraInputs: [helloAbiHeader],
				signal: ctx.signal,
				onLine: line => ctx.emit({type: 'log', step: ctx.step, line}),
			}),
		);
		ctx.session.modules.virtio_hello = build.modules.virtio_hello!;
		const client = await buildHelloClient(ctx.session.cacheDir, ctx.signal);
		ctx.session.guestPrograms['hello-client'] = client.path;
		const from = learners ? ` from ${learners}` : '';
		return `virtio_hello.ko${from} ${build.rebuilt ? 'built' : 'unchanged'}; hello-client ${client.rebuilt ? 'built' : 'unchanged'}`;
	},
};

export const helloRootfsStep = rootfsStep(ctx => {
	const release = ctx.session.kernel!.release;
	return [
		{guestPath: guestDriverPath(ctx), hostPath: ctx.session.modules.virtio_hello!},
		{
			guestPath: `/lib/modules/${release}/modules.dep`,
			hostPath: writeModulesDep(ctx.session.cacheDir, release, [guestDriverPath(ctx)]),
		},
		{guestPath: '/usr/bin/hello-client', hostPath: ctx.session.guestPrograms['hello-client']!, mode: '755'},
	];
});

/** Everything virtio-hello and tune build before they boot: kernel, QEMU, driver, initramfs. */
export const helloBuildSteps: Step[] = [kernelStep, qemuStep, driverStep, helloRootfsStep];

export const virtioHelloMilestone: Milestone = {
	id: 'virtio-hello',
	title: 'A virtio device of your own',
	summary: 'A new virtio device in QEMU and its Linux driver, moving real data over a virtqueue.',
	packages: qemuBuildPackages,
	builds: ['qemu'],
	steps: [
		...helloBuildSteps,
		bootStepWith(
			ctx => ({
				qemu: ctx.session.customQemu,
				extraArgs: ['-device', `virtio-hello-pci,id=hello0,greeting=${deviceGreeting}`],
			}),
			'This QEMU is the one just built, started with -device virtio-hello-pci: the PCI scan finds 1af4:1078.',
		),
		{
			id: 'probe',
			title: 'Load the driver: probe',
			lesson: [
				'The virtio layers, mapped to the files. The device (devices/virtio-hello/virtio-hello.c)',
				'only sees virtqueues. The transport (QEMU hw/virtio/virtio.c and virtio-pci.c; Linux',
				'drivers/virtio/virtio_ring.c and virtio_pci_modern.c) moves them over a bus. The bus is',
				'PCI: vendor 0x1af4, device 0x1040 + 56. insmod registers the driver; the virtio core',
				'matches device ID 56 in its id_table and calls virtio_hello_probe().',
			].join('\n'),
			async run(ctx) {
				await check(ctx, `insmod ${guestDriverPath(ctx)}`);
				const probe = await check(ctx, 'dmesg | grep -m1 "virtio_hello.*/dev/virtio-hello"');
				await check(ctx, 'test -c /dev/virtio-hello0');
				return probe.replace(/^\[[^\]]*\]\s*/, '');
			},
			task: {
				ask: 'Load the driver yourself: `insmod /lib/modules/$(uname -r)/extra/virtio_hello.ko`, then look for its line in dmesg.',
				async check(ctx) {
					const probe = await guest(ctx, 'dmesg | grep -m1 "virtio_hello.*/dev/virtio-hello"');
					if (probe.status !== 0)
						return {done: false, missing: 'dmesg has no probe line from virtio_hello: the driver is not bound yet.'};
					if ((await guest(ctx, 'test -c /dev/virtio-hello0')).status !== 0)
						return {done: false, missing: '/dev/virtio-hello0 is not there.'};
					return {done: true, detail: `you loaded it: ${probe.output.trim().replace(/^\[[^\]]*\]\s*/, '')}`};
				},
			},
			hints: [
				'The driver was packed beside the kernel it was built for, under /lib/modules/$(uname -r)/extra/.',
				'Once loaded, the virtio core matches device ID 56 and calls probe(): dmesg says which node it made.',
			],
			solution: '`insmod /lib/modules/$(uname -r)/extra/virtio_hello.ko && dmesg | tail -n 3`',
		},
		{
			id: 'greet',
			title: 'A greeting round trip',
			lesson: [
				'hello-client greet Ada: the driver puts a request header and "Ada" in device-readable',
				'descriptors and room for the answer in device-writable ones, kicks, and sleeps on a',
				'completion. QEMU pops the chain, checks every length and direction, writes "Hello, Ada!',
				'from <greeting property>" and a status byte, pushes it to the used ring and interrupts.',
				'To watch it happen: start kernelcraft --debug; the next step then follows one request with',
				'two gdbs, through the driver, into QEMU and back.',
			].join('\n'),
			async run(ctx) {
				const before = await requestCounts(ctx);
				// A bounded wait: a request that never comes back must not hold the check shell.
				const command = 'hello-client greet Ada';
				const result = await guest(ctx, `timeout -s KILL ${greetingTimeoutS} ${command}`, 60_000);
				if (result.status !== 0) throw await greetingFailure(ctx, command, before, result);
				const reply = result.output.trim();
				const expected = `Hello, Ada! from ${deviceGreeting}`;
				if (reply !== expected) throw new LabError({what: `The device answered "${reply}", not "${expected}".`});
				return `the device answered "${reply}"`;
			},
			task: {
				ask: 'Greet the device by your name: `hello-client greet <name>`. The answer comes back through the used ring.',
				async check(ctx) {
					// The device's own count of answered requests, from QMP: the queue moved for the learner.
					const [device] = await helloDevices(ctx);
					const usedIdx = device?.queues[0]?.usedIdx;
					if (usedIdx === undefined) return {done: false, missing: 'QMP lists no virtio-hello queue yet.'};
					const start = (ctx.figures.greetFrom ??= usedIdx) as number;
					const moved = idxDelta(start, usedIdx);
					if (moved < 1)
						return {
							done: false,
							missing: (await stuckGreeting(ctx)) ?? 'the used index has not moved since this step began.',
						};
					return {done: true, detail: `you sent it: the used index moved by ${moved} (${start} → ${usedIdx})`};
				},
			},
			hints: [
				'hello-client is the guest program that talks to /dev/virtio-hello0; `hello-client` alone prints its usage.',
			],
			solution: '`hello-client greet Ada`',
		},
		{
			id: 'integrity',
			title: 'Large buffers, intact',
			lesson: [
				'hello-client echo 1M 5 sends 1 MiB five times and checks every byte that comes back, and',
				'the CRC-32 the device computed. 1 MiB is 256 pages: one descriptor per page, carried in',
				'one indirect descriptor table (VIRTIO_RING_F_INDIRECT_DESC) so it fits a 256-entry ring.',
			].join('\n'),
			async run(ctx) {
				const [before] = await helloDevices(ctx);
				const result = await check(ctx, 'hello-client echo 1M 5', 120_000);
				const [after] = await helloDevices(ctx);
				const from = before?.queues[0]?.usedIdx;
				const to = after?.queues[0]?.usedIdx;
				if (from !== undefined && to !== undefined) ctx.figures.echoRequests = idxDelta(from, to);
				const match = /echo: (\d+) x (\d+) bytes verified, ([\d.]+) MB\/s/.exec(result);
				if (!match || match[1] !== '5' || match[2] !== '1048576')
					throw new LabError({what: `The echo did not verify 5 x 1 MiB: ${result}`});
				ctx.figures.echoMBps = Number(match[3]);
				return `5 x 1 MiB echoed and verified byte for byte and by CRC-32, ${match[3]} MB/s`;
			},
			predict: {
				question:
					'`hello-client echo 1M 5` sends 1 MiB to the device five times and gets it back. By how many requests will the used index move?',
				unit: 'requests',
				actual: figures => figures.echoRequests as number | undefined,
				why: '1 MiB is 256 pages, more than a 256-entry ring holds with the header and the answer. With INDIRECT_DESC the driver puts every page in one indirect table, and the chain is a single ring entry: one request per echo.',
			},
			hints: [
				'Count chains, not pages: how many descriptors can one chain reach without filling the ring?',
				'VIRTIO_RING_F_INDIRECT_DESC lets one ring descriptor point at a whole table of them.',
			],
			solution: '5: one chain per 1 MiB echo, its pages in one indirect table.',
		},
		{
			id: 'panel',
			title: 'The panel sees it move',
			lesson: [
				"The panel reads the same queue from QEMU's side over QMP: status bits, negotiated",
				'features (CRC32, EVENT_IDX, INDIRECT_DESC), and the used index that grew with every request.',
				'Try `hello-client nop 1000` in the console and watch the request rate.',
			].join('\n'),
			async run(ctx) {
				// A counting window: the queue's kick and interrupt totals (in the figures) are exact.
				const count = <T>(work: () => Promise<T>) => ctx.session.panel?.countKicks(work) ?? work();
				const {before, after} = await count(async () => {
					const [before] = await helloDevices(ctx);
					if (!before) throw new LabError({what: 'QMP lists no virtio-hello device.'});
					await check(ctx, 'hello-client nop 100');
					const [after] = await helloDevices(ctx);
					return {before, after};
				});
				const moved = idxDelta(before.queues[0]!.usedIdx, after!.queues[0]!.usedIdx);
				if (!after!.status.includes('DRIVER_OK'))
					throw new LabError({what: `The device's status is ${after!.status.join(' ')}, without DRIVER_OK.`});
				if (moved < 100) throw new LabError({what: `100 NOPs moved the used index by ${moved}.`});
				ctx.figures.helloQueue = {
					usedIdx: after!.queues[0]!.usedIdx,
					features: after!.features,
					totals: after!.queues[0]!.totals,
				};
				return `QMP: ${after!.status.join(' ')}; 100 NOPs moved the used index by ${moved}; features ${after!.features.map(f => f.replace(/^VIRTIO_(RING_)?F?_?/, '')).join(' ')}`;
			},
		},
	],
};
