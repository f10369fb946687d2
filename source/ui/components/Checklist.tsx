import {Box, Text} from 'ink';
import type {MilestoneInfo} from '../milestone-info.js';
import type {MilestoneStatus} from '../state.js';
import {clip} from '../format.js';

export interface ChecklistProps {
	milestones: readonly MilestoneInfo[];
	statuses: Readonly<Record<string, MilestoneStatus>>;
	selected: number;
	/** Dim the selection while the keyboard belongs to the guest console. */
	focused: boolean;
	width: number;
	height: number;
}

const MARK: Record<MilestoneStatus, string> = {
	idle: ' ',
	running: '▸',
	verified: '✔',
	failed: '✗',
};

const COLOR: Record<MilestoneStatus, string | undefined> = {
	idle: undefined,
	running: 'yellow',
	verified: 'green',
	failed: 'red',
};

/**
 * The expedition's milestones, in order. Arrow keys are handled by App (one place decides where
 * a key goes, so nothing here listens to the keyboard while the console has focus).
 */
export function Checklist({milestones, statuses, selected, focused, width, height}: ChecklistProps) {
	const inner = width - 4;
	return (
		<Box
			flexDirection="column"
			width={width}
			height={height}
			borderStyle="round"
			borderColor={focused ? 'cyan' : 'gray'}
			overflow="hidden"
		>
			<Text bold>milestones</Text>
			{milestones.map((m, index) => {
				const status = statuses[m.id] ?? 'idle';
				const isSelected = index === selected;
				return (
					<Box key={m.id} flexDirection="column">
						<Box>
							<Text color={isSelected && focused ? 'cyan' : undefined}>{isSelected ? '›' : ' '}</Text>
							<Text color={COLOR[status]}>{MARK[status]} </Text>
							<Text wrap="truncate" inverse={isSelected && focused} bold={isSelected}>
								{clip(`${index + 1}. ${m.id}`, inner - 1)}
							</Text>
						</Box>
					</Box>
				);
			})}
		</Box>
	);
}
