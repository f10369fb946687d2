import fs from 'node:fs';
import path from 'node:path';
import {buildKernelModule, writeModulesDep} from '../lab/build/kernel-module.js';
import {LabError} from '../lab/lab-error.js';
import {driversDir} from '../lab/paths.js';
import {bootStep, kernelStep, rootfsStep} from './boot.js';
import {withTodoPointer} from './exercise-failure.js';
import {guest, requireVm} from './shell.js';
import type {MilestoneLogic, StepContext} from './types.js';

/** The module's parameters: passed to insmod, then read back from dmesg and sysfs. */
export interface HelloParams {
	whom: string;
	times: number;
}

export const defaultHelloParams: HelloParams = {whom: 'Ada', times: 2};

/** --module-params "whom=Grace times=3": what insmod is given (the checks follow it). */
export function parseHelloParams(text: string | undefined): HelloParams {
	const params = {...defaultHelloParams};
	for (const pair of (text ?? '').trim().split(/\s+/).filter(Boolean)) {
		const [key, value] = pair.split('=');
		if (key === 'whom' && value && /^[A-Za-z0-9_-]+$/.test(value)) params.whom = value;
		else if (key === 'times' && value && /^-?\d+$/.test(value)) params.times = Number(value);
		else
			throw new LabError({
				what: `"${pair}" is not a hello parameter this milestone understands.`,
				hint: 'Use whom=<word> and times=<number>, e.g. --module-params "whom=Grace times=3".',
			});
	}
	return params;
}

/**
 * The parameters the module was loaded with: the learner's own when they typed the insmod
 * (guided), else what `run` passed.
 */
function loadedParams(ctx: StepContext): HelloParams {
	return (ctx.figures.helloParams as HelloParams | undefined) ?? parseHelloParams(ctx.session.options.moduleParams);
}

/** The module's parameters as sysfs shows them; undefined when hello is not loaded. */
async function sysfsParams(ctx: StepContext): Promise<{whom: string; times: number} | undefined> {
	const {output, status} = await guest(
		ctx,
		'cat /sys/module/hello/parameters/whom /sys/module/hello/parameters/times 2>/dev/null',
	);
	const [whom, times] = output.trim().split('\n');
	if (status !== 0 || whom === undefined || times === undefined) return undefined;
	return {whom, times: Number(times)};
}

/** Whether hello is loaded at all (whatever its parameters show). */
async function isLoaded(ctx: StepContext): Promise<boolean> {
	return (await guest(ctx, 'test -d /sys/module/hello')).status === 0;
}

/**
 * Why sysfs shows no parameters: hello is not loaded, or it is and a parameter has no file (one
 * declared with permission 0 gets none: it loads, and its value cannot be read back).
 */
async function notLoadedOrHidden(ctx: StepContext): Promise<string> {
	if (!(await isLoaded(ctx))) return 'hello is not loaded: /sys/module/hello does not exist.';
	const files = (await guest(ctx, 'ls /sys/module/hello/parameters 2>/dev/null')).output
		.trim()
		.split(/\s+/)
		.filter(Boolean);
	const hidden = Object.keys(defaultHelloParams).filter(name => !files.includes(name));
	return withTodoPointer(
		'hello-module',
		'sysfs',
		{
			what: `hello is loaded, but /sys/module/hello/parameters has no ${hidden.join(' or ')}: a parameter declared with permission 0 gets no file there, so its value cannot be read (TODO 1 asks for 0644).`,
		},
		ctx.session.options.exerciseDirs,
	).what;
}

/**
 * Whether a built module has an exit function: module_exit() defines cleanup_module, whose name
 * is then in the module's symbol table. Read on the host, from the .ko the guest loaded.
 */
export function hasExitFunction(ko: string | undefined): boolean {
	if (!ko) return true;
	return fs.readFileSync(ko).includes(Buffer.from('\0cleanup_module\0'));
}

/** How many times dmesg has this exact line from hello (grep -F: the name may hold regex characters). */
async function dmesgCount(ctx: StepContext, line: string): Promise<number> {
	return Number((await guest(ctx, `dmesg | grep -cF ${shellWord(line)}`)).output.trim()) || 0;
}

function shellWord(text: string): string {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** --module-src, else the learner's copy of the hello exercise (TUI), else the reference. */
export function helloSourceDir(ctx: StepContext): string {
	const options = ctx.session.options;
	return options.moduleSrc ?? options.exerciseDirs?.hello ?? path.join(driversDir, 'hello');
}

function guestModulePath(ctx: StepContext): string {
	return `/lib/modules/${ctx.session.kernel!.release}/extra/hello.ko`;
}

/** The module's vermagic, read from its .modinfo section: what insmod compares with the kernel. */
export function readVermagic(ko: string): string | undefined {
	const bytes = fs.readFileSync(ko);
	const at = bytes.indexOf('vermagic=');
	if (at === -1) return undefined;
	const end = bytes.indexOf(0, at);
	return bytes.subarray(at + 'vermagic='.length, end).toString('utf8');
}

/** On a failed guest command, the dmesg lines that say why (the kernel explains refusals there). */
async function dmesgTail(ctx: StepContext, lines = 8): Promise<string[]> {
	const {output} = await guest(ctx, `dmesg | tail -n ${lines}`);
	return output.split('\n');
}

export const helloModuleMilestone: MilestoneLogic = {
	id: 'hello-module',
	steps: [
		kernelStep,
		{
			id: 'module',
			async run(ctx) {
				const kernel = ctx.session.kernel!;
				const build = await ctx.session.foreground(() =>
					buildKernelModule({
						srcDir: helloSourceDir(ctx),
						kernel,
						cacheDir: ctx.session.cacheDir,
						signal: ctx.signal,
						onLine: line => ctx.emit({type: 'log', step: ctx.step, line}),
					}),
				);
				const ko = build.modules.hello;
				if (!ko)
					throw new LabError({
						what: `The module folder ${helloSourceDir(ctx)} does not build a module named hello (obj-m := hello.o).`,
					});
				ctx.session.modules.hello = ko;
				const vermagic = readVermagic(ko);
				if (!vermagic?.startsWith(`${kernel.release} `))
					throw new LabError({
						what: `hello.ko has vermagic "${vermagic}", which does not start with the kernel's release ${kernel.release}.`,
					});
				ctx.figures.vermagic = vermagic;
				return `hello.ko ${build.rebuilt ? 'built' : 'unchanged'}; vermagic "${vermagic}" matches the kernel`;
			},
		},
		rootfsStep(ctx => {
			const release = ctx.session.kernel!.release;
			return [
				{guestPath: guestModulePath(ctx), hostPath: ctx.session.modules.hello!},
				{
					guestPath: `/lib/modules/${release}/modules.dep`,
					hostPath: writeModulesDep(ctx.session.cacheDir, release, [guestModulePath(ctx)]),
				},
			];
		}),
		bootStep,
		{
			id: 'modinfo',
			async run(ctx) {
				const {output, status} = await guest(ctx, `modinfo ${guestModulePath(ctx)}`);
				for (const line of output.split('\n')) ctx.emit({type: 'log', step: ctx.step, line});
				if (status !== 0)
					throw new LabError({what: `modinfo failed (status ${status}).`, lastSeen: output.split('\n')});
				// Every parameter insmod is given must be declared (module_param, which modinfo shows
				// as parmtype) and described (MODULE_PARM_DESC, shown as parm): an undeclared one would
				// be ignored by the kernel with a warning, and the module would run on its default.
				// busybox's modinfo lists only described parameters; -F parmtype shows every declared one.
				const types = (await guest(ctx, `modinfo -F parmtype ${guestModulePath(ctx)}`)).output.split('\n');
				const lines = [...output.split('\n'), ...types.map(line => `parmtype: ${line.trim()}`)];
				const has = (tag: string, name: string) => lines.some(line => new RegExp(`^${tag}:\\s+${name}:`).test(line));
				for (const name of Object.keys(defaultHelloParams)) {
					if (!has('parm', name) && !has('parmtype', name))
						throw new LabError({
							what: `modinfo lists no parameter ${name}: hello.ko does not declare it with module_param().`,
							lastSeen: lines.filter(line => line.startsWith('parm')),
						});
					if (!has('parm', name))
						throw new LabError({
							what: `modinfo has no description of the parameter ${name}: it needs a MODULE_PARM_DESC().`,
							lastSeen: lines.filter(line => line.startsWith('parm')),
						});
				}
				const parms = output.split('\n').filter(line => line.startsWith('parm:')).length;
				return `modinfo: licence ${/license:\s+(\S+)/.exec(output)?.[1]}, ${parms} parameters, vermagic ${/vermagic:\s+(\S+)/.exec(output)?.[1]}`;
			},
		},
		{
			id: 'insmod',
			async run(ctx) {
				const {whom, times} = parseHelloParams(ctx.session.options.moduleParams);
				const {output, status} = await guest(ctx, `insmod ${guestModulePath(ctx)} whom=${whom} times=${times}`);
				if (status !== 0)
					throw new LabError({
						what: `insmod failed (status ${status}): ${output.trim()}`,
						lastSeen: await dmesgTail(ctx),
						hint: 'The dmesg lines above say why the kernel refused the module.',
					});
				const greetings = (await guest(ctx, `dmesg | grep -c 'hello: Hello, ${whom}!'`)).output.trim();
				if (Number(greetings) !== times)
					throw new LabError({
						what: `dmesg shows the greeting ${greetings} times, not ${times}.`,
						lastSeen: await dmesgTail(ctx),
					});
				return `loaded; dmesg says "hello: Hello, ${whom}!" ${times} times`;
			},
			task: {
				async check(ctx) {
					const params = await sysfsParams(ctx);
					if (!params) return {done: false, missing: await notLoadedOrHidden(ctx)};
					const greetings = await dmesgCount(ctx, `hello: Hello, ${params.whom}!`);
					if (greetings < params.times)
						return {
							done: false,
							missing: `hello is loaded with times=${params.times}, but dmesg shows "hello: Hello, ${params.whom}!" ${greetings} times.`,
						};
					ctx.figures.helloParams = params;
					return {
						done: true,
						detail: `you loaded it: whom=${params.whom} times=${params.times}; dmesg says "hello: Hello, ${params.whom}!" ${greetings} times`,
					};
				},
			},
		},
		{
			id: 'sysfs',
			async run(ctx) {
				const expected = loadedParams(ctx);
				const whom = (await guest(ctx, 'cat /sys/module/hello/parameters/whom')).output.trim();
				const times = (await guest(ctx, 'cat /sys/module/hello/parameters/times')).output.trim();
				if (whom !== expected.whom || Number(times) !== expected.times)
					throw new LabError({
						what: `sysfs shows whom="${whom}" times="${times}", not whom="${expected.whom}" times="${expected.times}".`,
					});
				const listed = (await guest(ctx, 'grep -c "^hello " /proc/modules')).output.trim();
				if (listed !== '1') throw new LabError({what: 'hello is not listed in /proc/modules.'});
				return `/sys/module/hello/parameters: whom=${whom}, times=${times}; listed in /proc/modules`;
			},
			task: {
				async check(ctx) {
					const loaded = loadedParams(ctx);
					const params = await sysfsParams(ctx);
					if (!params) return {done: false, missing: 'hello is not loaded any more: load it again first.'};
					if (params.times === loaded.times)
						return {done: false, missing: `times still reads ${params.times}, the value it was loaded with.`};
					return {
						done: true,
						detail: `you wrote times=${params.times} through sysfs (loaded with ${loaded.times}); the module kept running`,
					};
				},
			},
		},
		{
			id: 'rmmod',
			async run(ctx) {
				const {output, status} = await guest(ctx, 'rmmod hello');
				if (status !== 0) {
					// Nothing holds a module whose refcnt is 0: the kernel then refuses only because
					// it has an init function and no exit function (delete_module returns EBUSY).
					const refcnt = (await guest(ctx, 'cat /sys/module/hello/refcnt')).output.trim();
					throw new LabError({
						what:
							refcnt === '0'
								? `rmmod failed (status ${status}) with nothing using hello: it has no exit function, so the kernel keeps it for good.`
								: `rmmod failed (status ${status}): ${output.trim()}`,
						lastSeen: [...(await dmesgTail(ctx)), output.trim(), `/sys/module/hello/refcnt: ${refcnt}`],
					});
				}
				const {whom} = loadedParams(ctx);
				const farewell = (await guest(ctx, `dmesg | grep -c 'hello: Goodbye, ${whom}.'`)).output.trim();
				if (farewell !== '1')
					throw new LabError({what: 'dmesg has no farewell after rmmod.', lastSeen: await dmesgTail(ctx)});
				const gone = (await guest(ctx, 'test -e /sys/module/hello && echo present || echo gone')).output.trim();
				if (gone !== 'gone') throw new LabError({what: '/sys/module/hello is still there after rmmod.'});
				requireVm(ctx);
				return `unloaded; dmesg says "hello: Goodbye, ${whom}." and /sys/module/hello is gone`;
			},
			task: {
				async check(ctx) {
					const {whom} = loadedParams(ctx);
					if (await isLoaded(ctx)) {
						// A module with an init and no exit function cannot leave (delete_module: EBUSY):
						// say so, and where, rather than "still loaded" for as long as the learner tries.
						if (!hasExitFunction(ctx.session.modules.hello))
							return {
								done: false,
								missing: withTodoPointer(
									'hello-module',
									'rmmod',
									{
										what: 'hello.ko has no exit function (no module_exit), so the kernel refuses to unload it: rmmod fails with EBUSY ("Device or resource busy") and hello stays loaded until the guest reboots.',
									},
									ctx.session.options.exerciseDirs,
								).what,
							};
						return {done: false, missing: 'hello is still loaded: /sys/module/hello is there.'};
					}
					const farewells = await dmesgCount(ctx, `hello: Goodbye, ${whom}.`);
					if (farewells < 1)
						return {done: false, missing: `hello is gone, but dmesg has no "hello: Goodbye, ${whom}."`};
					return {
						done: true,
						detail: `you unloaded it: dmesg says "hello: Goodbye, ${whom}." and /sys/module/hello is gone`,
					};
				},
			},
		},
	],
};
