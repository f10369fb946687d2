import {chooseAccel} from '../lab/host/accel.js';
import {packageStates, requirements} from '../lab/host/requirements.js';

export async function doctorCommand(out: NodeJS.WritableStream): Promise<number> {
	const states = packageStates(requirements);
	const width = Math.max(...states.map(state => state.pkg.length));
	out.write('Host packages:\n');
	for (const state of states) {
		const mark = state.installed ? '✔' : '✗';
		const version = state.installed ? state.version : 'missing';
		out.write(`  ${mark} ${state.pkg.padEnd(width)}  ${String(version).padEnd(22)} ${state.why}\n`);
	}
	const accel = await chooseAccel('/usr/bin/qemu-system-x86_64', process.env.KERNELCRAFT_ACCEL);
	out.write(`\nAccelerator: ${accel.accel.toUpperCase()} — ${accel.reason}\n`);
	const missing = states.filter(state => !state.installed);
	if (missing.length > 0) {
		out.write(
			`\n${missing.length} required package${missing.length === 1 ? ' is' : 's are'} missing. Install ${missing.length === 1 ? 'it' : 'them'} with: kernelcraft setup\n`,
		);
		return 1;
	}
	out.write('\nEverything kernelcraft needs is here.\n');
	return 0;
}
