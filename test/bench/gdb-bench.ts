// What gdb costs a learner: the gdb kernel flavour's first build (next to the normal one's, in
// the same empty cache), and the time from starting gdb to its first breakpoint being hit.
import {shellPrompt} from '../../source/expedition/shell.js';
import type {KernelSource} from '../../source/lab/build/kernel-source.js';
import {GdbSession} from '../../source/lab/debug/gdb-session.js';
import {ensureGdbKernel, kernelGdbCommand, type GdbKernel} from '../../source/lab/debug/gdb.js';
import {Session} from '../../source/lab/session.js';
import {seconds, spread, stats, type Row} from './report.js';

/**
 * The gdb flavour built into `cacheDir` right after the normal kernel (what a learner's first
 * `--debug` does): it starts from that build, but debug info changes every object's flags.
 */
export async function gdbKernelBuildRow(
	source: KernelSource,
	cacheDir: string,
	normalMs: number,
	log: (line: string) => void,
): Promise<Row> {
	const started = Date.now();
	const built = await ensureGdbKernel({
		source,
		cacheDir,
		onProgress: (fraction, label) => {
			if (Math.round(fraction * 100) % 25 === 0)
				log(`gdb kernel ${Math.round(fraction * 100)}%  ${label.slice(0, 60)}`);
		},
	});
	const ms = Date.now() - started;
	if (!built.rebuilt) throw new Error(`the gdb kernel in the empty cache ${cacheDir} reported rebuilt=false`);
	return {
		figure:
			'first build of the gdb kernel flavour (configs/kernel-gdb: DWARF 5, gdb scripts), right after the normal one, same cache',
		value: `${seconds(ms, 0)} (${(ms / normalMs).toFixed(2)}× the normal build)`,
		target: '',
	};
}

/**
 * gdb started on a running guest (the boot milestone's VM on the gdb kernel, through the
 * gdbstub) until it is attached with vmlinux and lx-symbols loaded, then until a breakpoint on
 * sync(2) is hit by `sync` in the guest: `runs` fresh gdbs on one VM.
 */
export async function gdbToBreakpointRows(cacheDir: string, runs: number, log: (line: string) => void): Promise<Row[]> {
	const session = new Session({cacheDir, debug: true, panel: false}, () => {});
	const attachMs: number[] = [];
	const hitMs: number[] = [];
	try {
		const kernel = (await session.buildKernel('bench', new AbortController().signal)) as GdbKernel;
		session.packRootfs();
		const vm = await session.boot();
		await vm.console.expect(shellPrompt, {what: 'the prompt', timeoutMs: 120_000, since: 0});
		const argv = kernelGdbCommand({kernel, socket: session.gdbSocket!, modulePaths: []});
		for (let run = 0; run < runs; run++) {
			const started = Date.now();
			const gdb = new GdbSession({argv});
			try {
				await gdb.ready;
				attachMs.push(Date.now() - started);
				const set = await gdb.break('__x64_sys_sync');
				if (!set.set) throw new Error(set.message);
				const sync = vm.checks.run('sync', {timeoutMs: 120_000});
				// Awaited below; a failure before then must not go unhandled.
				sync.catch(() => undefined);
				const deadline = Date.now() + 120_000;
				while (!gdb.stopped) {
					if (Date.now() > deadline) throw new Error('the breakpoint on sync(2) was not hit in 120 s');
					await new Promise(resolve => setTimeout(resolve, 20));
				}
				hitMs.push(Date.now() - started);
				// gdb names the function inlined at the breakpoint's address: __do_sys_sync.
				if (!/^__(x64|do)_sys_sync$/.test(gdb.breakpointFunction ?? ''))
					throw new Error(`gdb stopped in ${gdb.breakpointFunction ?? 'no breakpoint'}, not sync(2)'s entry`);
				await gdb.command('delete');
				gdb.continue();
				await sync;
				log(`gdb: attached ${seconds(attachMs.at(-1)!)}, breakpoint hit ${seconds(hitMs.at(-1)!)}`);
			} finally {
				await gdb.dispose();
			}
		}
	} finally {
		await session.dispose();
	}
	return [
		{
			figure: 'gdb started → attached to the running guest (vmlinux and lx-symbols loaded)',
			value: spread(stats(attachMs)),
			target: '',
		},
		{
			figure: 'gdb started → first breakpoint hit (`break __x64_sys_sync`, then `sync` in the guest)',
			value: spread(stats(hitMs)),
			target: '',
		},
	];
}
