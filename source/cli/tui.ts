import {editorArgs, pickEditor, runEditor} from '../lab/host/editor.js';
import type {Workbench} from '../runner/workbench.js';
import {setupCommand} from './setup.js';

/** Loaded only for the interactive command, so headless runs never load React. */
export async function startTui(workbench: Workbench): Promise<number> {
	if (!process.stdin.isTTY) {
		process.stderr.write(
			"kernelcraft's screen needs an interactive terminal (stdin is not a TTY); run a milestone headless with: kernelcraft run <milestone> [--json]\n",
		);
		return 2;
	}
	// React's development build checks and warns on every render: several times the CPU of the
	// production build for the same screen. Set before React is first imported.
	process.env.NODE_ENV ??= 'production';
	const {renderApp} = await import('../ui/render-app.js');
	const info = workbench.milestones.map(({id, title, summary, steps}) => ({
		id,
		title,
		summary,
		steps: steps.map(({id, title, lesson}) => ({id, title, lesson})),
	}));
	// QEMU for milestones 4 and 5 builds while the learner works through the first three.
	workbench.startBackgroundBuilds();
	let autoRun: string | undefined;
	// The screen steps aside for the editor or for setup (apt-get and sudo talk to the learner in
	// this terminal), then comes back and runs the milestone.
	for (;;) {
		let editRequest: string | undefined;
		let setupRequest: string | undefined;
		await renderApp(workbench, info, {autoRun, onEdit: id => (editRequest = id), onSetup: id => (setupRequest = id)});
		if (setupRequest) {
			autoRun = (await setupInTerminal(workbench, setupRequest)) ? setupRequest : undefined;
			// What setup installed may be what the background build waited for.
			workbench.afterSetup();
			continue;
		}
		if (!editRequest) return 0;
		const target = workbench.editTarget(editRequest);
		if (!target) return 0;
		await workbench.cancel();
		const editor = pickEditor();
		const result = await runEditor(editor, editorArgs(editor, target));
		if (result.error || result.code === 127) {
			process.stderr.write(
				`Could not start the editor "${editor}"${result.error ? `: ${result.error.message}` : ' (not found)'}. Set $EDITOR (for example EDITOR=nano). Press Enter to go back to kernelcraft.\n`,
			);
			process.stdin.ref();
			process.stdin.resume();
			await new Promise<void>(resolve => process.stdin.once('data', () => resolve()));
			// Back to how the screen expects it (it reads stdin itself).
			process.stdin.pause();
		}
		// In watch mode the save itself re-runs the milestone (once the screen is back); a run
		// started here as well would collide with it.
		autoRun = workbench.watchMode ? undefined : editRequest;
	}
}

/**
 * Runs `kernelcraft setup` in the plain terminal (it asks before changing anything; sudo asks for
 * its password here). True when the milestone then has everything it needs.
 */
async function setupInTerminal(workbench: Workbench, milestone: string): Promise<boolean> {
	// Ink unrefs stdin when its screen goes away: without this, waiting for the learner's answer
	// would leave nothing keeping the process alive, and it would just end.
	process.stdin.ref();
	process.stdout.write(`\nSetting up the host for ${milestone}.\n`);
	const code = await setupCommand({yes: false, quiet: false}, process.stdout);
	const still = workbench.hostNeeds(milestone);
	if (code === 0 && still.length === 0) return true;
	process.stdout.write(
		`\n${still.length > 0 ? `Still missing: ${still.join(', ')}.` : 'Setup did not finish.'} Press Enter to go back to kernelcraft.`,
	);
	await new Promise<void>(resolve => process.stdin.once('data', () => resolve()));
	return false;
}
