import {qemuOptionValue, socketDirFor} from '../lab/vm/socket-dir.js';
import path from 'node:path';
import {qemuBuildPackages} from './host-packages.js';
import {LabError} from '../lab/lab-error.js';
import {QmpClient} from '../lab/vm/qmp.js';
import {
	bookkeepingProblems,
	countedSeconds,
	evaluateTargets,
	hostDelta,
	nextSampleDelayMs,
	parseBenchLine,
	queueOf,
	runProblems,
	variantResult,
	variants,
	type Variant,
	type VariantResult,
	type VariantRun,
} from '../lab/tune/bench.js';
import {benchTable, latencyUnit, opsChart, targetLines, type BenchReport} from '../lab/tune/report.js';
import type {Session} from '../lab/session.js';
import type {DeviceView} from '../lab/virtio/views.js';
import {bootStepWith} from './boot.js';
import {lessonFileOf, lessons} from './compose.js';
import {fillText} from './lesson-content.js';
import {check} from './shell.js';
import type {MilestoneLogic, StepContext, StepLogic} from './types.js';
import {guestDriverPath, helloBuildSteps} from './virtio-hello.js';

/** Seconds each variant is measured for (bench --seconds / --short); 2 s by default. */
export function tuneSeconds(ctx: StepContext): number {
	return ctx.session.options.tuneSeconds ?? 2;
}

/** The devices of the benchmark VM, all with ioeventfd=off so every kick is one trace line. */
export const tuneDeviceArgs = [
	// Small requests need no indirect table: with indirect_desc=off a 2-descriptor NOP sits in
	// the ring itself (hello2 keeps INDIRECT_DESC, to measure what it costs). hello3 and hello4
	// answer from a bottom half (defer=on) instead of inside the kick. Each device's greeting is
	// its id, so the guest can tell which /dev node is which.
	'-device',
	'virtio-hello-pci,id=hello0,greeting=hello0,ioeventfd=off,indirect_desc=off',
	'-device',
	'virtio-hello-pci,id=hello1,greeting=hello1,ioeventfd=off,indirect_desc=off,event_idx=off',
	'-device',
	'virtio-hello-pci,id=hello2,greeting=hello2,ioeventfd=off',
	'-device',
	'virtio-hello-pci,id=hello3,greeting=hello3,ioeventfd=off,indirect_desc=off,defer=on',
	'-device',
	'virtio-hello-pci,id=hello4,greeting=hello4,ioeventfd=off,indirect_desc=off,event_idx=off,defer=on',
	// The peer: a production device doing the least work it can. null-co completes every read
	// without touching the buffer (read-zeroes=off).
	'-blockdev',
	'null-co,node-name=nullblk,size=67108864,read-zeroes=off',
	'-device',
	'virtio-blk-pci,drive=nullblk,id=blk0,ioeventfd=off',
];

/**
 * A QMP connection of the benchmark's own (a second -qmp socket: the panel holds the first) for
 * the devices' 64-bit request counters.
 */
const counters = new WeakMap<Session, {socket: string; client?: QmpClient}>();

function countersSocket(ctx: StepContext): string {
	const socket = path.join(socketDirFor(ctx.session.runDir()), 'tune-qmp.sock');
	counters.set(ctx.session, {socket});
	return socket;
}

/** Requests the device itself has completed since it was created. */
async function deviceCount(ctx: StepContext, id: string): Promise<number> {
	const entry = counters.get(ctx.session);
	if (!entry) throw new LabError({what: 'The benchmark VM has no counter socket.'});
	entry.client ??= await QmpClient.connect({socketPath: entry.socket, timeoutMs: 15_000, signal: ctx.signal});
	if (id.startsWith('hello'))
		return Number(await entry.client.execute<number>('qom-get', {path: id, property: 'requests'}));
	const stats = await entry.client.execute<{qdev?: string; stats: {rd_operations: number}}[]>('query-blockstats');
	const entryFor = stats.find(s => s.qdev?.split('/').includes(id));
	if (!entryFor) throw new LabError({what: `query-blockstats lists no device "${id}".`});
	return entryFor.stats.rd_operations;
}

async function closeCounters(session: Session): Promise<void> {
	const entry = counters.get(session);
	counters.delete(session);
	await entry?.client?.close().catch(() => undefined);
}

const helloIds = ['hello0', 'hello1', 'hello2', 'hello3', 'hello4'];

interface TuneState {
	/** QEMU -device id -> guest /dev node. */
	nodes: Record<string, string>;
	results: VariantResult[];
}

function state(ctx: StepContext): TuneState {
	ctx.figures.tune ??= {nodes: {}, results: []} satisfies TuneState;
	return ctx.figures.tune as TuneState;
}

/**
 * A sample that started after this call: the panel's timer may have one in flight that began
 * before, and sampleNow() joins it, so take a second one.
 */
async function freshSample(ctx: StepContext): Promise<DeviceView[]> {
	const panel = ctx.session.panel;
	if (!panel)
		throw new LabError({
			what: 'The virtqueue panel is off, so the host side cannot be measured.',
			hint: 'Run without kc.panel=0.',
		});
	await panel.sampleNow();
	return panel.sampleNow();
}

function queueFor(devices: DeviceView[], id: string) {
	const queue = queueOf(devices, id);
	if (!queue)
		throw new LabError({what: `QMP lists no device "${id}" with a queue.`, lastSeen: devices.map(d => d.path)});
	return queue;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Samples the panel while a variant runs, often enough that its 16-bit used index cannot wrap
 * unseen between two samples (hundreds of thousands of requests per second in a batch), and no
 * more often than that: every sample takes QEMU's lock. Resolves with the longest gap seen.
 */
function sampleDensely(ctx: StepContext, id: string): {stop(): void; maxGapMs: Promise<number>} {
	let running = true;
	const panel = ctx.session.panel!;
	const maxGapMs = (async () => {
		let last = Date.now();
		let maxGap = 0;
		while (running) {
			const devices = await panel.sampleNow();
			const now = Date.now();
			maxGap = Math.max(maxGap, now - last);
			last = now;
			await sleep(nextSampleDelayMs(queueOf(devices, id)?.rates.requests ?? 0));
		}
		await panel.sampleNow();
		return Math.max(maxGap, Date.now() - last);
	})();
	return {stop: () => (running = false), maxGapMs};
}

/**
 * One variant: first a short counted run (countedSeconds) inside a counting window, where QEMU
 * traces every kick and interrupt and the trace's counts are checked against the driver's; then
 * the timed run with the trace's per-request events off, for ops/s and latencies, where every
 * request is still counted on both sides (guest, driver, the device's counter, the used index,
 * the panel's total). Between variants and during timed runs QEMU writes no trace line.
 */
async function measure(ctx: StepContext, variant: Variant): Promise<VariantResult> {
	const tune = state(ctx);
	const counted = await ctx.session.panel!.countKicks(() =>
		runVariant(ctx, variant, Math.min(countedSeconds, tuneSeconds(ctx)), true),
	);
	const timed = await ctx.session.panel!.withoutCounting(() => runVariant(ctx, variant, tuneSeconds(ctx), false));
	const result = variantResult(variant, timed.guest, timed.host, counted);
	const problems = bookkeepingProblems(variant, result);
	if (problems.length > 0)
		throw new LabError({what: `${variant.title}: the guest's and the host's counts disagree: ${problems.join('; ')}.`});
	tune.results = [...tune.results.filter(r => r.id !== variant.id), result];
	return result;
}

/** One run of the variant's command for `seconds`; `traced`: inside a counting window. */
async function runVariant(ctx: StepContext, variant: Variant, seconds: number, traced: boolean): Promise<VariantRun> {
	const tune = state(ctx);
	const node = tune.nodes[variant.device] ?? '';
	const before = queueFor(await freshSample(ctx), variant.device);
	const countBefore = await deviceCount(ctx, variant.device);
	const sampling = sampleDensely(ctx, variant.device);
	const output = await check(ctx, variant.command(seconds).replace('{dev}', node), 60_000 + seconds * 5000).finally(
		() => sampling.stop(),
	);
	const maxGapMs = await sampling.maxGapMs;
	const guestBench = parseBenchLine(output);
	if (!guestBench) throw new LabError({what: 'hello-client printed no bench line.', lastSeen: output.split('\n')});
	const count = {before: countBefore, after: await deviceCount(ctx, variant.device)};
	const take = async (): Promise<VariantRun> => {
		const host = hostDelta(before, queueFor(await freshSample(ctx), variant.device), count, maxGapMs);
		// Untraced: the trace's totals did not move, which says nothing; no count is better than 0.
		return {guest: guestBench, host: traced ? host : {...host, kicks: Number.NaN, interrupts: Number.NaN}};
	};
	// QEMU appends trace lines as it runs; a sample or two later every kick of the run is in.
	let run = await take();
	for (let attempt = 0; attempt < 5 && runProblems(variant, run.guest, run.host, traced).length > 0; attempt++) {
		await sleep(200);
		run = await take();
	}
	const problems = runProblems(variant, run.guest, run.host, traced);
	if (problems.length > 0)
		throw new LabError({
			what: `${variant.title}${traced ? ' (counted run)' : ''}: the guest's and the host's counts disagree: ${problems.join('; ')}.`,
			lastSeen: output.split('\n'),
		});
	return run;
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function variantStep(variant: Variant): StepLogic {
	return {
		id: variant.id,
		async run(ctx) {
			const r = await measure(ctx, variant);
			const per = latencyUnit(r);
			return `${fmt(r.guest.opsPerSec)} ops/s, p50 ${fmt(r.guest.p50Us, 1)} µs, p99 ${fmt(r.guest.p99Us, 1)} µs ${per}; ${r.host.requests} requests (guest and host agree), ${fmt(r.kicksPerRequest, 3)} kicks/req, ${fmt(r.interruptsPerRequest, 3)} irqs/req`;
		},
	};
}

const byId = (id: string) => variants.find(v => v.id === id)!;

/** The explanation, with this run's numbers in it (the texts are tune.md's `# texts`). */
export function explain(results: readonly VariantResult[]): string[] {
	const get = (id: string) => results.find(r => r.id === id);
	const text = (name: string, values: Record<string, string | number>) =>
		fillText(lessons(lessonFileOf('tune')), name, values);
	const ops = (r: VariantResult) => fmt(r.guest.opsPerSec);
	const naive = get('naive');
	const batch = get('batch');
	const indirect = get('batch-indirect');
	const each = get('kick-each');
	const deferNaive = get('naive-defer');
	const deferEach = get('kick-each-defer');
	const deferEachNoEi = get('kick-each-defer-noei');
	const blk = get('blk-null');
	const lines: string[] = [];
	if (naive && batch) {
		const naiveUs = 1e6 / naive.guest.opsPerSec;
		const batchUs = 1e6 / batch.guest.opsPerSec;
		lines.push(
			text('naive', {
				kicks: fmt(naive.kicksPerRequest, 2),
				interrupts: fmt(naive.interruptsPerRequest, 2),
				ops: ops(naive),
			}),
			text('batched', {
				inFlight: batch.inFlight,
				kicks: fmt(batch.kicksPerRequest, 3),
				interrupts: fmt(batch.interruptsPerRequest, 3),
				ops: ops(batch),
				times: fmt(batch.guest.opsPerSec / naive.guest.opsPerSec, 1),
			}),
			text('per-request', {
				naiveUs: fmt(naiveUs, 2),
				batchUs: fmt(batchUs, 2),
				savedUs: fmt(naiveUs - batchUs, 2),
				inFlight: batch.inFlight,
			}),
		);
	}
	if (batch && indirect) lines.push(text('indirect', {ops: ops(indirect), batchOps: ops(batch)}));
	if (each) lines.push(text('kick-each', {kicks: fmt(each.kicksPerRequest, 3)}));
	if (deferEach && deferEachNoEi)
		lines.push(
			text('kick-each-deferred', {
				kicks: fmt(deferEach.kicksPerRequest, 3),
				kicksNoEi: fmt(deferEachNoEi.kicksPerRequest, 3),
				interrupts: fmt(deferEach.interruptsPerRequest, 3),
				interruptsNoEi: fmt(deferEachNoEi.interruptsPerRequest, 3),
			}),
		);
	if (naive && deferNaive)
		lines.push(
			text('deferred-latency', {
				p50: fmt(deferNaive.guest.p50Us, 1),
				naiveP50: fmt(naive.guest.p50Us, 1),
				ops: ops(deferNaive),
				naiveOps: ops(naive),
			}),
		);
	if (naive && blk)
		lines.push(
			text('peer', {
				ops: ops(blk),
				p50: fmt(blk.guest.p50Us, 1),
				kicks: fmt(blk.kicksPerRequest, 2),
				helloOps: ops(naive),
				deferred: deferNaive ? ` (${ops(deferNaive)} ops/s)` : '',
			}),
		);
	return lines;
}

/** Waits (10 s at most) until the trace names the queue of every device; inside a counting window. */
async function mapQueues(ctx: StepContext, tune: TuneState, clock: string): Promise<string> {
	const deadline = Date.now() + 10_000;
	for (;;) {
		const devices = await freshSample(ctx);
		const unmapped = [...helloIds, 'blk0'].filter(id => queueOf(devices, id)?.totals.kicks === undefined);
		if (unmapped.length === 0)
			return `${helloIds.map(id => `${id} = ${tune.nodes[id]}`).join(', ')}, blk0 = /dev/vda (null-co); the trace names all ${helloIds.length + 1} queues; guest clocksource ${clock}`;
		if (Date.now() > deadline)
			throw new LabError({
				what: `QEMU's trace names no queue for ${unmapped.join(', ')} within 10 s, so its kicks cannot be counted.`,
				hint: 'Rebuild QEMU (its virtio-hello device has trace events since this version): delete ~/.cache/kernelcraft/qemu/build.',
			});
		await sleep(250);
	}
}

export const tuneMilestone: MilestoneLogic = {
	id: 'tune',
	packages: qemuBuildPackages,
	builds: ['qemu'],
	steps: [
		...helloBuildSteps,
		bootStepWith(ctx => ({
			qemu: ctx.session.customQemu,
			// Kernel messages stay in dmesg: none lands on the serial console mid-prompt or mid-run.
			append: 'loglevel=4',
			extraArgs: [...tuneDeviceArgs, '-qmp', `unix:${qemuOptionValue(countersSocket(ctx))},server=on,wait=off`],
		})),
		{
			id: 'probe',
			async run(ctx) {
				const tune = state(ctx);
				await check(ctx, `insmod ${guestDriverPath(ctx)}`);
				const nodes = (await check(ctx, 'ls /dev | grep "^virtio-hello"')).split('\n').map(n => `/dev/${n.trim()}`);
				for (const node of nodes) {
					const id = /from (hello\d)$/.exec(await check(ctx, `hello-client -d ${node} greet tune`))?.[1];
					if (id) tune.nodes[id] = node;
				}
				if (helloIds.some(id => !tune.nodes[id]))
					throw new LabError({
						what: `Expected virtio-hello devices ${helloIds.join(', ')}; found ${JSON.stringify(tune.nodes)}.`,
					});
				// virtio-hello's own trace events name each device and its queue from the moment QEMU
				// realized it: those queues are mapped already. virtio-blk is tied to its queue by its
				// first requests: a few reads give it some. Inside a counting window: the reads' kicks are what ties virtio-blk's queue (it is then
				// the one device the trace names and QMP lists unmapped).
				const clock = await check(ctx, 'cat /sys/devices/system/clocksource/clocksource0/current_clocksource');
				if (!ctx.session.panel) await freshSample(ctx); // says why there is no panel
				return ctx.session.panel!.countKicks(async () => {
					await check(ctx, 'dd if=/dev/vda of=/dev/null bs=512 count=7 iflag=direct 2>/dev/null');
					return mapQueues(ctx, tune, clock);
				});
			},
		},
		variantStep(byId('naive')),
		variantStep(byId('naive-noei')),
		variantStep(byId('batch')),
		variantStep(byId('batch-noei')),
		variantStep(byId('batch-indirect')),
		variantStep(byId('kick-each')),
		variantStep(byId('naive-defer')),
		variantStep(byId('kick-each-defer')),
		variantStep(byId('kick-each-defer-noei')),
		variantStep(byId('echo-512')),
		variantStep(byId('blk-null')),
		{
			id: 'results',
			async run(ctx) {
				const tune = state(ctx);
				const results = variants
					.map(v => tune.results.find(r => r.id === v.id))
					.filter((r): r is VariantResult => r !== undefined);
				const targets = evaluateTargets(results);
				const report: BenchReport = {
					accel: ctx.session.chosenAccel?.accel,
					secondsPerVariant: tuneSeconds(ctx),
					results,
					targets,
					notes: explain(results),
				};
				ctx.figures.bench = report;
				await closeCounters(ctx.session);
				for (const line of [
					...benchTable(results),
					'',
					...opsChart(results, 30),
					'',
					...targetLines(targets),
					'',
					...report.notes!,
				])
					ctx.emit({type: 'log', step: ctx.step, line});
				const met = targets.filter(t => t.met).length;
				return `${results.length} variants measured, every count agreed on both sides; targets met: ${met} of ${targets.length} (${targets.map(t => `${t.id} ${t.met ? 'met' : 'not met'}`).join(', ')})`;
			},
		},
	],
};
