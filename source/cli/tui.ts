import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {milestones} from '../expedition/milestones.js';
import type {Workbench} from '../runner/workbench.js';

/** Loaded only for the interactive command, so headless runs never load React. */
export async function startTui(workbench: Workbench): Promise<number> {
	if (!process.stdin.isTTY) {
		process.stderr.write('kernelcraft\'s screen needs an interactive terminal (stdin is not a TTY); run a milestone headless with: kernelcraft run <milestone> [--json]\n');
		return 2;
	}
	// React's development build checks and warns on every render: several times the CPU of the
	// production build for the same screen. Set before React is first imported.
	process.env.NODE_ENV ??= 'production';
	const {renderApp} = await import('../ui/render-app.js');
	const info = milestones.map(({id, title, summary, available, steps}) => ({id, title, summary, available, steps: steps.map(({id, title, lesson}) => ({id, title, lesson}))}));
	let autoRun: string | undefined;
	// The edit loop: the screen steps aside for the editor, then comes back and runs the milestone.
	for (;;) {
		let editRequest: string | undefined;
		await renderApp(workbench, info, {autoRun, onEdit: id => (editRequest = id)});
		if (!editRequest) return 0;
		const file = workbench.editableFile(editRequest);
		if (!file) return 0;
		await workbench.cancel();
		const editor = pickEditor();
		const result = spawnSync(editor, [file], {stdio: 'inherit'});
		if (result.error) process.stderr.write(`Could not start the editor "${editor}": ${result.error.message}. Set $EDITOR.\n`);
		autoRun = editRequest;
	}
}

/** $VISUAL, $EDITOR, then Debian's `editor` alternative, nano and vi, whichever exists first. */
export function pickEditor(env: NodeJS.ProcessEnv = process.env): string {
	const chosen = env.VISUAL || env.EDITOR;
	if (chosen) return chosen;
	return ['/usr/bin/editor', '/usr/bin/nano', '/usr/bin/vi', '/bin/vi'].find(candidate => fs.existsSync(candidate)) ?? 'vi';
}
