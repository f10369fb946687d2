import {Box, Text} from 'ink';
import type {AccelChoice} from '../../runner/events.js';
import type {BackgroundView, VmState} from '../state.js';

export interface HeaderProps {
	width: number;
	accel?: AccelChoice;
	vm: VmState;
	background?: BackgroundView;
	notice?: string;
	/** Who holds the guest stopped (gdb), if anyone. */
	pausedBy?: string;
}

/** The QEMU build that runs ahead of time, in a few words, with the key that acts on it. */
export function backgroundText(job: BackgroundView | undefined): string | undefined {
	if (!job) return undefined;
	const percent = `${Math.floor(job.fraction * 100)}%`;
	switch (job.state) {
		case 'running':
			return `QEMU build ${percent} (b pause)`;
		case 'paused':
			return `QEMU build ${percent} ${job.note ?? 'paused'} (b resume)`;
		case 'done':
			return 'QEMU ready';
		case 'failed':
			return 'QEMU build failed (the milestone that needs it retries)';
		case 'stopped':
			return `QEMU build ${job.note ?? 'stopped'}`;
		default:
			return undefined;
	}
}

function vmText(vm: VmState): string {
	if (vm.running) return `VM running${vm.pid === undefined ? '' : ` (pid ${vm.pid})`}`;
	return vm.stoppedReason ? `no VM (stopped: ${vm.stoppedReason})` : 'no VM';
}

/** One line: the app, how the guest is accelerated and why (TCG is slow: say so), the VM. */
export function Header({width, accel, vm, background, notice, pausedBy}: HeaderProps) {
	const accelText = accel ? `${accel.accel.toUpperCase()} — ${accel.reason}` : 'accel not chosen yet';
	const job = backgroundText(background);
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate">
				<Text bold color="cyan">
					kernelcraft
				</Text>
				{/* First, so a narrow terminal never cuts it off. */}
				{pausedBy && vm.running ? <Text bold color="magenta">{`  ·  guest paused by ${pausedBy}`}</Text> : null}
				{`  ·  ${accelText}  ·  ${vmText(vm)}`}
				{job ? <Text color={background?.state === 'failed' ? 'red' : undefined}>{`  ·  ${job}`}</Text> : null}
				{notice ? <Text color="yellow">{`  ·  ${notice}`}</Text> : null}
			</Text>
		</Box>
	);
}
