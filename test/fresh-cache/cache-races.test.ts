import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {readStamp} from '../../source/lab/build/cache-entry.js';
import {safeParse, startCli, type CliRun} from '../helpers/cli.js';
import {tempDir} from '../helpers/temp.js';
import {processesMatching, waitUntil} from '../helpers/processes.js';

// A new machine, as kernelcraft sees it: no kernel source unpacked, no kernel built. In CI
// (.ci/run) the suite's own cache is still empty when this first phase runs, and these tests use
// it, so the builds they make are the ones the rest of the suite reuses. Anywhere else they use a
// new empty folder of their own (and pay for a cold kernel build).
const cache = pickEmptyCache();
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'kernelcraft-fresh-state-'));
const env = {KERNELCRAFT_CACHE: cache, XDG_STATE_HOME: state};

test.after.always(() => {
	fs.rmSync(state, {recursive: true, force: true});
	// A cache of our own is gone with the tests; the suite's shared one stays for the suite.
	if (cache !== process.env.KERNELCRAFT_CACHE) fs.rmSync(cache, {recursive: true, force: true});
});

function pickEmptyCache(): string {
	const shared = process.env.KERNELCRAFT_CACHE;
	if (shared && !fs.existsSync(path.join(shared, 'src')) && !fs.existsSync(path.join(shared, 'kernel'))) return shared;
	return fs.mkdtempSync(path.join(os.tmpdir(), 'kernelcraft-fresh-cache-'));
}

const published = (dir: string) =>
	fs.existsSync(dir) ? fs.readdirSync(dir).filter(name => readStamp(path.join(dir, name)) !== undefined) : [];
const scratches = (dir: string) =>
	fs.existsSync(dir) ? fs.readdirSync(dir).filter(name => name.includes('.scratch-')) : [];
const linesOf = (run: CliRun) =>
	run.lines
		.map(line => safeParse(line))
		.filter(event => event?.type === 'log')
		.map(event => String(event!.line));

/** Resolves once a log line of the run matches, or fails naming what it waited for. */
async function waitForLine(run: CliRun, pattern: RegExp, what: string, timeoutMs: number): Promise<void> {
	const seen = await waitUntil(() => linesOf(run).some(line => pattern.test(line)), timeoutMs);
	if (!seen)
		throw new Error(
			`no ${what} within ${timeoutMs / 1000} s; last lines: ${linesOf(run).slice(-5).join(' | ')} ${run.stderr.join('')}`,
		);
}

async function noneLeft(t: ExecutionContext, needle: string, what: string): Promise<void> {
	t.true(
		await waitUntil(() => processesMatching(needle).length === 0, 10_000),
		`${what} still running: pids ${processesMatching(needle).join(', ')}`,
	);
}

test.serial('a run SIGKILLed while unpacking the kernel source leaves no source that a later run uses', async t => {
	t.log(`cache: ${cache}`);
	const run = startCli(['run', 'boot', '--json'], env, t);
	await waitForLine(run, /unpacking .*linux-source/, 'unpack line', 60_000);
	// tar is busy for several seconds after its first line: kill in the middle of it.
	await new Promise(resolve => setTimeout(resolve, 1500));
	run.child.kill('SIGKILL');
	await run.exit;
	await noneLeft(t, `-C ${path.join(cache, 'src')}`, 'tar (it dies with kernelcraft)');
	const src = path.join(cache, 'src');
	t.deepEqual(published(src), [], 'no source entry carries a completion stamp');
	t.is(scratches(src).length, 1, 'what tar had written is in a scratch folder of its own');
});

test.serial('a run SIGKILLed during make leaves no kernel that a later run uses, and no make behind', async t => {
	const run = startCli(['run', 'boot', '--json'], env, t);
	await waitForLine(run, /^\s+CC\s+\S+\.o$/, 'compile line from make', 180_000);
	run.child.kill('SIGKILL');
	await run.exit;
	const kernel = path.join(cache, 'kernel');
	await noneLeft(t, `O=${kernel}`, 'make (it dies with kernelcraft)');
	t.deepEqual(published(kernel), [], 'no kernel entry carries a completion stamp');
	t.is(scratches(kernel).length, 1);
	const src = path.join(cache, 'src');
	t.is(published(src).length, 1, 'the second run unpacked the source and published it');
	t.deepEqual(scratches(src), [], 'and removed the scratch folder the killed unpack left');
});

test.serial('three runs started at once all pass, and the kernel is built once', async t => {
	const runs = [0, 1, 2].map(() => startCli(['run', 'boot', '--json'], env, t));
	const codes = await Promise.all(runs.map(run => run.waitForExit(15 * 60_000)));
	const summaries = runs.map(run => safeParse(run.lines.at(-1) ?? '') ?? {});
	t.deepEqual(
		codes,
		[0, 0, 0],
		runs.map(run => run.stderr.join('') + run.lines.filter(line => line.includes('"failed"')).join('\n')).join('\n'),
	);
	t.deepEqual(
		summaries.map(summary => summary.ok),
		[true, true, true],
	);
	t.is(summaries.filter(summary => summary.kernelRebuilt === true).length, 1, 'exactly one run built the kernel');
	const waited = runs.filter(run =>
		linesOf(run).some(line =>
			/waiting for another kernelcraft process \(pid \d+\) that is building this kernel/.test(line),
		),
	);
	t.is(waited.length, 2, 'the other two said whom they waited for');
	const kernel = path.join(cache, 'kernel');
	t.is(published(kernel).length, 1);
	t.deepEqual(scratches(kernel), [], "the killed build's scratch folder is gone");
	const log = fs.readFileSync(path.join(kernel, published(kernel)[0]!, 'build.log'), 'utf8');
	t.is(log.match(/^\$ make -C \S+ O=\S+ -j\d+$/gm)?.length, 1, 'one make run built the published kernel');
});

/** The process group of the live process whose command line has `needle` and whose cwd is under `dir`. */
function groupOf(needle: string, dir: string): number | undefined {
	for (const pid of processesMatching(needle)) {
		try {
			if (!fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(dir)) continue;
			return Number(
				fs
					.readFileSync(`/proc/${pid}/stat`, 'utf8')
					.replace(/^.*\) /s, '')
					.split(' ')[2],
			);
		} catch {}
	}
	return undefined;
}

test.serial(
	"setup SIGKILLed while fetching QEMU's source leaves no source that a later run uses; the next fetch has every Debian patch applied",
	async t => {
		const own = tempDir(t);
		const ownEnv = {KERNELCRAFT_CACHE: own};
		const first = startCli(['setup', '--yes'], ownEnv, t);
		const seen = await waitUntil(() => first.lines.some(line => /extracting qemu in/.test(line)), 120_000);
		t.true(seen, `setup printed no "extracting qemu" line: ${first.lines.slice(-5).join(' | ')}`);
		// Freeze the fetch mid-way (it is only seconds long), so the kill lands inside it every time.
		const group = groupOf('apt-get source', own);
		t.truthy(group, 'apt-get source runs in the cache');
		process.kill(-group!, 'SIGSTOP');
		first.child.kill('SIGKILL');
		await first.exit;
		t.teardown(() => {
			try {
				process.kill(-group!, 'SIGKILL');
			} catch {}
		});
		// apt-get clears the parent-death signal when it changes user for the download (prctl(2)), so
		// unlike make it may outlive us; it only ever writes into its own scratch folder.
		const qemu = path.join(own, 'qemu');
		t.deepEqual(published(qemu), [], 'no source entry carries a completion stamp');
		process.kill(-group!, 'SIGKILL');

		const second = startCli(['setup', '--yes'], ownEnv, t);
		t.is(await second.waitForExit(300_000), 0, second.lines.slice(-10).join('\n'));
		t.deepEqual(published(qemu), ['debian-source']);
		t.deepEqual(scratches(qemu), [], "the killed fetch's scratch folder is gone");
		const tree = path.join(
			qemu,
			'debian-source',
			readStamp<{tree: string}>(path.join(qemu, 'debian-source'))!.meta.tree,
		);
		const series = fs
			.readFileSync(path.join(tree, 'debian/patches/series'), 'utf8')
			.split('\n')
			.filter(line => line.trim() && !line.startsWith('#'));
		const applied = fs.readFileSync(path.join(tree, '.pc/applied-patches'), 'utf8').split('\n').filter(Boolean);
		t.deepEqual(applied, series, "every patch of Debian's series is applied");
	},
);

test.serial('two virtio-hello runs at once on a cache without QEMU: QEMU is built once, and both pass', async t => {
	const runs = [0, 1].map(() => startCli(['run', 'virtio-hello', '--json'], env, t));
	const codes = await Promise.all(runs.map(run => run.waitForExit(20 * 60_000)));
	t.deepEqual(
		codes,
		[0, 0],
		runs.map(run => run.stderr.join('') + run.lines.filter(line => line.includes('"failed"')).join('\n')).join('\n'),
	);
	const qemuDetails = runs.map(run => {
		const summary = safeParse(run.lines.at(-1) ?? '') as {steps?: {name: string; detail?: string}[]} | undefined;
		return summary?.steps?.find(step => step.name === 'qemu')?.detail ?? '';
	});
	t.is(qemuDetails.filter(detail => / built: /.test(detail)).length, 1, qemuDetails.join('\n'));
	t.is(qemuDetails.filter(detail => /unchanged, from the cache/.test(detail)).length, 1, 'the other run reused it');
	const bin = path.join(cache, 'qemu', 'bin');
	t.is(published(bin).length, 1);
	t.deepEqual(scratches(bin), []);
});
