import {spawnSync} from 'node:child_process';
import readline from 'node:readline/promises';
import {packageStates, requirements, type Requirement} from '../lab/host/requirements.js';

export interface SetupOptions {
	yes: boolean;
	quiet: boolean;
	extra?: Requirement[];
}

/** Installs what doctor finds missing, through apt-get (with sudo when not root), asking first. */
export async function setupCommand(options: SetupOptions, out: NodeJS.WritableStream): Promise<number> {
	const missing = packageStates([...requirements, ...(options.extra ?? [])]).filter(state => !state.installed);
	if (missing.length === 0) {
		if (!options.quiet) out.write('All host packages kernelcraft needs are installed.\n');
		return 0;
	}
	const names = missing.map(state => state.pkg);
	out.write(`kernelcraft needs these Debian packages: ${names.join(' ')}\n`);
	if (!options.yes) {
		if (!process.stdin.isTTY) {
			out.write('Not asking without a terminal: run `kernelcraft setup --yes` to install them.\n');
			return 1;
		}
		const rl = readline.createInterface({input: process.stdin, output: process.stdout});
		const answer = await rl.question('Install them with apt-get now? [y/N] ');
		rl.close();
		if (!/^y(es)?$/i.test(answer.trim())) {
			out.write('Nothing installed.\n');
			return 1;
		}
	}
	const asRoot = process.getuid?.() === 0;
	const apt = (args: string[]) => {
		const command = asRoot ? 'apt-get' : 'sudo';
		const full = asRoot ? args : ['apt-get', ...args];
		out.write(`$ ${asRoot ? '' : 'sudo '}apt-get ${args.join(' ')}\n`);
		return spawnSync(command, full, {stdio: ['ignore', 'inherit', 'inherit'], env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}}).status;
	};
	if (apt(['update', '-q']) !== 0) {
		out.write('apt-get update failed: check the network and your apt sources, then run `kernelcraft setup` again.\n');
		return 1;
	}
	if (apt(['install', '-y', '-q', '--no-install-recommends', ...names]) !== 0) {
		out.write('apt-get install failed (see above). On a distribution other than Debian/Ubuntu, install the equivalents by hand.\n');
		return 1;
	}
	const still = packageStates(missing).filter(state => !state.installed);
	if (still.length > 0) {
		out.write(`Still missing after apt-get: ${still.map(state => state.pkg).join(' ')}\n`);
		return 1;
	}
	out.write('Host packages installed.\n');
	return 0;
}
