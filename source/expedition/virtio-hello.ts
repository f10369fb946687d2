import path from 'node:path';
import {qemuBuildPackages} from './host-packages.js';
import {buildGuestProgram} from '../lab/build/guest-program.js';
import {buildKernelModule, writeModulesDep} from '../lab/build/kernel-module.js';
import {ensureQemu} from '../lab/build/qemu-build.js';
import {LabError} from '../lab/lab-error.js';
import {devicesDir, driversDir, projectRoot} from '../lab/paths.js';
import {idxDelta} from '../lab/virtio/wrap.js';
import {bootStepWith, kernelStep, rootfsStep} from './boot.js';
import {
	describeCounts,
	greetingFailure,
	greetingTimeoutS,
	requestCounts,
	stalledRun,
	stuckGreeting,
} from './greeting-diagnosis.js';
import {helloDevices} from './hello-devices.js';
import {describePci, pciIdentityOf} from './pci-identity.js';
import {check, guest} from './shell.js';
import type {MilestoneLogic, StepContext, StepLogic} from './types.js';

export const helloDriverDir = path.join(driversDir, 'virtio-hello');
export const helloAbiHeader = path.join(devicesDir, 'virtio-hello', 'include', 'virtio_hello.h');
export const deviceGreeting = 'kernelcraft QEMU';

export function guestDriverPath(ctx: StepContext): string {
	return `/lib/modules/${ctx.session.kernel!.release}/extra/virtio_hello.ko`;
}

/**
 * One greeting, sent on the check channel and checked end to end: answered, completed, with the
 * device's text. A failure says where the request stopped (greeting-diagnosis.ts), which the
 * exercises map to a TODO. Both `run` and the learner's guided greeting end here.
 */
async function verifyGreeting(ctx: StepContext): Promise<string> {
	const before = await requestCounts(ctx);
	// A bounded wait: a request that never comes back must not hold the check shell.
	const command = 'hello-client greet Ada';
	const result = await guest(ctx, `timeout -s KILL ${greetingTimeoutS} ${command}`, 60_000);
	if (result.status !== 0) throw await greetingFailure(ctx, command, before, result);
	const reply = result.output.trim();
	const expected = `Hello, Ada! from ${deviceGreeting}`;
	if (reply !== expected) throw new LabError({what: `The device answered "${reply}", not "${expected}".`});
	return `the device answered "${reply}"`;
}

/**
 * The malformed chains the device's header check (virtio-device TODO 2) must refuse, each with
 * the status it must answer (hello-client bad KIND prints ok or FAIL against these).
 */
export const refusedChains = ['short', 'wrongdir', 'mismatch', 'oversized', 'nospace'] as const;

/**
 * The driver sends hostile chains only when loaded with allow_raw=1 (a switch for tests, root
 * only): it is reloaded with it. Its node comes back as /dev/virtio-hello0.
 */
async function allowRawChains(ctx: StepContext): Promise<void> {
	await check(ctx, `rmmod virtio_hello && insmod ${guestDriverPath(ctx)} allow_raw=1 && test -c /dev/virtio-hello0`);
}

/** Seconds the integrity step's echo may take; on TCG it takes a fraction of one. */
const integrityTimeoutS = 60;

/**
 * Runs `work` with the driver reloaded with `params`, then loads it again as the milestone had it,
 * whatever `work` did: the steps after this one find the driver they expect.
 */
async function withDriverLoaded<T>(ctx: StepContext, params: string, work: () => Promise<T>): Promise<T> {
	const reload = (args: string) =>
		check(ctx, `rmmod virtio_hello && insmod ${guestDriverPath(ctx)} ${args} && test -c /dev/virtio-hello0`);
	await reload(params);
	try {
		return await work();
	} finally {
		if (ctx.session.vm?.running && !ctx.signal.aborted) await reload('').catch(() => undefined);
	}
}

/**
 * The same device with VIRTIO_RING_F_EVENT_IDX left out by the driver (its event_idx=0): kick
 * suppression is then the VRING_USED_F_NO_NOTIFY flag the device sets while it drains, a path the
 * steps before (under EVENT_IDX, with avail_event) never took. A drain loop that leaves
 * notifications off stops requests here as it does there: the flag stays set.
 */
async function drainWithoutEventIdx(ctx: StepContext): Promise<string> {
	const [device] = await helloDevices(ctx);
	if (device?.features.includes('VIRTIO_RING_F_EVENT_IDX'))
		throw new LabError({
			what: `The driver was loaded with event_idx=0, but the device still lists VIRTIO_RING_F_EVENT_IDX as negotiated: ${device.features.join(' ')}.`,
		});
	const before = await requestCounts(ctx);
	const command = 'hello-client nop 200 && hello-client batch 16 5';
	const result = await guest(ctx, `timeout -s KILL ${greetingTimeoutS * 2} sh -c '${command}'`, 60_000);
	if (result.status === 0) {
		const after = await requestCounts(ctx);
		const requests = (after.driver?.requests ?? 0) - (before.driver?.requests ?? 0);
		const [b, a] = [before.device?.kicks, after.device?.kicks];
		const kicks = b !== undefined && a !== undefined ? `, ${a - b} kicks` : '';
		return `without EVENT_IDX: ${requests} requests answered (200 one at a time, 5 batches of 16)${kicks}, kicks suppressed by the NO_NOTIFY flag alone`;
	}
	const after = await requestCounts(ctx);
	const [b, a] = [before.device, after.device];
	const kicks = b && a && b.kicks !== undefined && a.kicks !== undefined ? a.kicks - b.kicks : undefined;
	throw new LabError({
		what:
			`Without EVENT_IDX the requests stopped: \`${command}\` did not finish within ${greetingTimeoutS * 2} s` +
			(kicks !== undefined ? ` (the device counted ${kicks} kick${kicks === 1 ? '' : 's'})` : '') +
			': the driver kicks only while the device has notifications on (VRING_USED_F_NO_NOTIFY clear), and a drain loop that turns them off must turn them back on before it stops.',
		lastSeen: [...result.output.trim().split('\n'), ...describeCounts(before, after)],
		symptom: 'stuck-without-event-idx',
	});
}

/** The device's own count of requests it answered with a status other than OK (QOM, over QMP). */
async function deviceErrors(ctx: StepContext): Promise<number | undefined> {
	return ctx.session.panel?.qomGet<number>('hello0', 'errors');
}

/**
 * Each malformed chain refused with its status, and the device still greets afterwards: a
 * device that trusts what a guest puts in its queue fails here, at its header check.
 */
async function verifyRefusals(ctx: StepContext): Promise<string> {
	const lines: string[] = [];
	for (const kind of refusedChains) {
		const {output, status} = await guest(
			ctx,
			`timeout -s KILL ${greetingTimeoutS} hello-client bad ${kind} 2>&1`,
			60_000,
		);
		lines.push(...output.trim().split('\n'));
		const verdict = new RegExp(`^bad ${kind}\\s+(ok|FAIL)\\s+(.*)$`, 'm').exec(output);
		if (status !== 0 || verdict?.[1] !== 'ok')
			throw new LabError({
				what: verdict
					? `The device answered a hostile chain (${verdict[2]}) with the wrong status: it must refuse it and stay usable.`
					: `\`hello-client bad ${kind}\` did not come back (status ${status}): the device did not survive a hostile chain.`,
				lastSeen: lines,
				symptom: 'not-refused',
			});
	}
	const answer = await greetingAfter(ctx);
	return `${refusedChains.length} hostile chains refused, each with its status; the device still greets: "${answer}"`;
}

/** A greeting after the hostile chains: the device is still alive and correct. */
async function greetingAfter(ctx: StepContext): Promise<string> {
	const {output, status} = await guest(ctx, `timeout -s KILL ${greetingTimeoutS} hello-client greet Ada`, 60_000);
	const expected = `Hello, Ada! from ${deviceGreeting}`;
	if (status !== 0 || output.trim() !== expected)
		throw new LabError({
			what: `After the hostile chains the device answered "${output.trim()}" (status ${status}), not "${expected}".`,
			symptom: 'not-refused',
		});
	return output.trim();
}

export const qemuStep: StepLogic = {
	id: 'qemu',
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

export const driverStep: StepLogic = {
	id: 'driver',
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
export const helloBuildSteps: StepLogic[] = [kernelStep, qemuStep, driverStep, helloRootfsStep];

export const virtioHelloMilestone: MilestoneLogic = {
	id: 'virtio-hello',
	packages: qemuBuildPackages,
	builds: ['qemu'],
	steps: [
		...helloBuildSteps,
		bootStepWith(ctx => ({
			qemu: ctx.session.customQemu,
			extraArgs: ['-device', `virtio-hello-pci,id=hello0,greeting=${deviceGreeting}`],
		})),
		{
			id: 'probe',
			async run(ctx) {
				await check(ctx, `insmod ${guestDriverPath(ctx)}`);
				const probe = await check(ctx, 'dmesg | grep -m1 "virtio_hello.*/dev/virtio-hello"');
				await check(ctx, 'test -c /dev/virtio-hello0');
				const pci = await pciIdentityOf(ctx, '/sys/class/misc/virtio-hello0/device');
				ctx.figures.pci = pci;
				return `${probe.replace(/^\[[^\]]*\]\s*/, '')}; PCI ${describePci(pci)}`;
			},
			task: {
				async check(ctx) {
					const probe = await guest(ctx, 'dmesg | grep -m1 "virtio_hello.*/dev/virtio-hello"');
					if (probe.status !== 0)
						return {done: false, missing: 'dmesg has no probe line from virtio_hello: the driver is not bound yet.'};
					if ((await guest(ctx, 'test -c /dev/virtio-hello0')).status !== 0)
						return {done: false, missing: '/dev/virtio-hello0 is not there.'};
					return {done: true, detail: `you loaded it: ${probe.output.trim().replace(/^\[[^\]]*\]\s*/, '')}`};
				},
			},
		},
		{
			id: 'greet',
			run: verifyGreeting,
			task: {
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
				// The used index moves for a request the device refused, or one the driver never
				// completes: the learner's greeting is then checked as `run` checks its own.
				async then(ctx, done) {
					return `${done}; ${await verifyGreeting(ctx)}`;
				},
			},
		},
		{
			id: 'integrity',
			async run(ctx) {
				const [before] = await helloDevices(ctx);
				const counts = await requestCounts(ctx);
				const command = 'hello-client echo 1M 5';
				// 5 MiB each way takes well under a second; a run that stalls is killed and told apart.
				const ran = await guest(
					ctx,
					`timeout -s KILL ${integrityTimeoutS} ${command}`,
					(integrityTimeoutS + 30) * 1000,
				);
				if (ran.status !== 0) throw await stalledRun(ctx, command, counts, ran, integrityTimeoutS);
				const result = ran.output;
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
				actual: figures => figures.echoRequests as number | undefined,
			},
		},
		{
			id: 'hostile',
			async run(ctx) {
				await allowRawChains(ctx);
				return verifyRefusals(ctx);
			},
			task: {
				prepare: allowRawChains,
				async check(ctx) {
					const errors = await deviceErrors(ctx);
					if (errors === undefined) return {done: false, missing: "QMP does not answer for hello0's error count yet."};
					const start = (ctx.figures.hostileFrom ??= errors) as number;
					if (errors === start)
						return {
							done: false,
							missing: `the device has refused nothing since this step began (its error count is ${errors}).`,
						};
					return {
						done: true,
						detail: `you sent one: the device refused ${errors - start} (its error count ${start} → ${errors})`,
					};
				},
				// The learner saw one refusal; every kind the device must refuse is then tried as `run` does.
				async then(ctx, done) {
					return `${done}; ${await verifyRefusals(ctx)}`;
				},
			},
		},
		{
			id: 'drain',
			async run(ctx) {
				return withDriverLoaded(ctx, 'event_idx=0', () => drainWithoutEventIdx(ctx));
			},
		},
		{
			id: 'panel',
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
