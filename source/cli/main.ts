import fs from 'node:fs';
import path from 'node:path';
import {expeditionFor, milestones} from '../expedition/milestones.js';
import {benchRequirements, testRequirements} from '../lab/host/requirements.js';
import {toFailure} from '../lab/lab-error.js';
import {cacheRoot, projectRoot, stateFile, workspaceRoot} from '../lab/paths.js';
import {ProgressStore} from '../runner/progress-store.js';
import {Workbench} from '../runner/workbench.js';
import {helpText, parseArgs, UsageError, type Parsed} from './args.js';
import {benchCommand, checkBenchArgs} from './bench.js';
import {commands} from './commands.js';
import {doctorCommand} from './doctor.js';
import {runCommand} from './run.js';
import {setupCommand, sharedCacheCommand} from './setup.js';
import {statusText} from './status.js';
import {ExitGuard, sayToStderr} from './exit-guard.js';

/** What a signal, a hung-up terminal or a closed pipe must stop before the app exits. */
let stopWork: () => Promise<void> = async () => undefined;

export async function main(argv: string[]): Promise<number> {
	// Stays installed after main returns: a pipe can still close under the last write.
	new ExitGuard({shutdown: () => stopWork()}).install();
	return command(argv);
}

async function command(argv: string[]): Promise<number> {
	let parsed: Parsed;
	try {
		parsed = parseArgs(argv, commands, 'tui');
	} catch (error) {
		if (error instanceof UsageError) {
			process.stderr.write(
				`kernelcraft: ${error.message}\nRun \`kernelcraft ${error.command && error.command !== 'tui' ? `${error.command} ` : ''}--help\` for usage.\n`,
			);
			return 2;
		}
		throw error;
	}
	const spec = commands.find(command => command.name === parsed.command)!;
	if (parsed.flags.has('--help')) {
		process.stdout.write(helpText(spec));
		return 0;
	}
	if (parsed.flags.has('--version')) {
		process.stdout.write(`${JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')).version}\n`);
		return 0;
	}
	try {
		switch (parsed.command) {
			case 'doctor':
				return await doctorCommand(process.stdout);
			case 'setup':
				if (parsed.options.has('--shared-cache'))
					return await sharedCacheCommand(parsed.options.get('--shared-cache')!, process.stdout);
				return await setupCommand(
					{
						yes: parsed.flags.has('--yes'),
						quiet: parsed.flags.has('--quiet'),
						extra: [
							...(parsed.flags.has('--bench') ? benchRequirements : []),
							...(parsed.flags.has('--tests') ? testRequirements : []),
						],
					},
					process.stdout,
				);
			case 'status': {
				const store = new ProgressStore(stateFile());
				if (store.warning) process.stderr.write(`kernelcraft: ${store.warning}\n`);
				process.stdout.write(statusText(milestones, store.verified(), id => store.steps(id)));
				return 0;
			}
			case 'hint': {
				const {hintCommand} = await import('./hint.js');
				return await hintCommand(new ProgressStore(stateFile()), parsed.positionals[0], process.stdout);
			}
			case 'reset': {
				const {resetCommand} = await import('./reset.js');
				return await resetCommand(new ProgressStore(stateFile()), parsed.positionals[0]!, process.stdout);
			}
			case 'exercise': {
				const {exerciseCommand} = await import('./exercise.js');
				return exerciseCommand(parsed.positionals[0]!, parsed.positionals[1], workspaceRoot(), process.stdout);
			}
			case 'cache': {
				const {cacheCommand} = await import('./cache.js');
				return await cacheCommand(cacheRoot(), parsed.options.get('--clear'), process.stdout);
			}
			case 'gdb': {
				const {gdbCommand} = await import('./gdb.js');
				const accel = parsed.options.get('--accel') ?? process.env.KERNELCRAFT_ACCEL;
				try {
					return await gdbCommand(
						{
							milestone: parsed.positionals[0],
							qemu: parsed.flags.has('--qemu') || parsed.flags.has('--walk'),
							walk: parsed.flags.has('--walk'),
							cacheDir: cacheRoot(),
							kernelSrc: parsed.options.get('--kernel-src') ?? process.env.KERNEL_SRC,
							qemuSrc: parsed.options.get('--qemu-src') ?? process.env.QEMU_SRC,
							accel,
							onSession: session => (stopWork = () => session.dispose()),
						},
						process.stdout,
					);
				} finally {
					stopWork = async () => undefined;
				}
			}
			case 'bench':
				checkBenchArgs(parsed);
				return await withWorkbench(parsed, false, workbench =>
					benchCommand(workbench, parsed.flags.has('--json'), process.stdout),
				);
			case 'run':
				return await withWorkbench(parsed, false, workbench =>
					runCommand(workbench, parsed.positionals[0]!, parsed.flags.has('--json'), process.stdout),
				);
			default:
				return await withWorkbench(parsed, true, async workbench => {
					const {startTui} = await import('./tui.js');
					return startTui(workbench);
				});
		}
	} catch (error) {
		if (error instanceof UsageError) {
			process.stderr.write(`kernelcraft: ${error.message}\n`);
			return 2;
		}
		const failure = toFailure(error);
		sayToStderr(`kernelcraft: ${failure.what}\n${failure.hint ? `  try: ${failure.hint}\n` : ''}`);
		if (!(error as {failure?: unknown}).failure && error instanceof Error) sayToStderr(`${error.stack}\n`);
		return 1;
	}
}

/**
 * Owns the workbench for the command's lifetime: Ctrl-C, SIGTERM, SIGHUP, a closed terminal or
 * pipe and crashes all end in dispose(), which stops QEMU (see ExitGuard); the child reaper is
 * the last line behind it. `onScreen`: the command is the TUI, the learner's screen (its VM stays
 * up, its steps are guided, its exercises watched, its panel shown), not a headless run.
 */
async function withWorkbench(
	parsed: Parsed,
	onScreen: boolean,
	body: (workbench: Workbench) => Promise<number>,
): Promise<number> {
	const workbench = new Workbench({
		milestones: expeditionFor({debug: parsed.flags.has('--debug')}),
		cacheDir: cacheRoot(),
		stateFile: stateFile(),
		kernelSrc: parsed.options.get('--kernel-src') ?? process.env.KERNEL_SRC,
		accel: parsed.options.get('--accel') ?? process.env.KERNELCRAFT_ACCEL,
		qemuSrc: parsed.options.get('--qemu-src') ?? process.env.QEMU_SRC,
		moduleSrc: parsed.options.get('--module-src'),
		moduleParams: parsed.options.get('--module-params'),
		tuneSeconds: parsed.flags.has('--short')
			? 0.3
			: parsed.options.has('--seconds')
				? Number(parsed.options.get('--seconds'))
				: undefined,
		// The screen's VM stays up between milestones for the learner's console.
		keepVm: onScreen,
		// The screen is guided unless asked otherwise; headless commands run every step themselves.
		guided: onScreen && !parsed.flags.has('--demo'),
		// The screen builds the learner's exercise copies and re-runs on each save; `run`
		// builds the reference unless asked for the exercise.
		exerciseWorkspace: onScreen || parsed.flags.has('--exercise') ? workspaceRoot() : undefined,
		watchExercises: onScreen,
		// The VM kept for the learner is the TUI's, whose panel is on screen: counters live.
		panelShown: onScreen,
		debug: parsed.flags.has('--debug'),
	});
	if (parsed.flags.has('--exercise') && parsed.options.has('--module-src'))
		throw new UsageError('--exercise builds the exercise copy; --module-src builds another folder: give one.', 'run');
	const accel = parsed.options.get('--accel');
	if (accel && accel !== 'tcg' && accel !== 'kvm')
		throw new UsageError(`--accel takes tcg or kvm, not "${accel}".`, parsed.command);
	stopWork = () => workbench.dispose();
	try {
		return await body(workbench);
	} finally {
		await workbench.dispose();
		stopWork = async () => undefined;
	}
}
