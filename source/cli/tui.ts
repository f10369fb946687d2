import {milestones} from '../expedition/milestones.js';
import type {Workbench} from '../runner/workbench.js';

/** Loaded only for the interactive command, so headless runs never load React. */
export async function startTui(workbench: Workbench): Promise<number> {
	const {renderApp} = await import('../ui/render-app.js');
	await renderApp(workbench, milestones.map(({id, title, summary, available, steps}) => ({id, title, summary, available, steps: steps.map(({id, title, lesson}) => ({id, title, lesson}))})));
	return 0;
}
