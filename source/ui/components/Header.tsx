import {Box, Text} from 'ink';
import type {AccelChoice} from '../../runner/events.js';
import type {VmState} from '../state.js';

export interface HeaderProps {
	width: number;
	accel?: AccelChoice;
	vm: VmState;
	notice?: string;
}

function vmText(vm: VmState): string {
	if (vm.running) return `VM running${vm.pid === undefined ? '' : ` (pid ${vm.pid})`}`;
	return vm.stoppedReason ? `no VM (stopped: ${vm.stoppedReason})` : 'no VM';
}

/** One line: the app, how the guest is accelerated and why (TCG is slow: say so), the VM. */
export function Header({width, accel, vm, notice}: HeaderProps) {
	const accelText = accel ? `${accel.accel.toUpperCase()} — ${accel.reason}` : 'accel not chosen yet';
	return (
		<Box width={width} height={1} overflow="hidden">
			<Text wrap="truncate">
				<Text bold color="cyan">
					kernelcraft
				</Text>
				{`  ·  ${accelText}  ·  ${vmText(vm)}`}
				{notice ? <Text color="yellow">{`  ·  ${notice}`}</Text> : null}
			</Text>
		</Box>
	);
}
