import {chooseAccel} from '../lab/host/accel.js';
import {allRequirements, packageStates} from '../lab/host/requirements.js';
import {milestones} from '../expedition/milestones.js';

export async function doctorCommand(out: NodeJS.WritableStream): Promise<number> {
	// Which milestone needs which package comes from the milestones' own data.
	const requirements = allRequirements(milestones);
	const states = packageStates(requirements);
	const width = Math.max(...states.map(state => state.pkg.length));
	out.write('Host packages:\n');
	states.forEach((state, index) => {
		const mark = state.installed ? '✔' : '✗';
		const version = state.installed ? state.version : 'missing';
		const only = requirements[index]!.only;
		const who = only ? ` (${only.join(', ')})` : '';
		out.write(`  ${mark} ${state.pkg.padEnd(width)}  ${String(version).padEnd(22)} ${state.why}${who}\n`);
	});
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
