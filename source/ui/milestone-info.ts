// What the UI needs to know about a milestone: plain data, so the UI never imports the
// expedition's step code (which pulls in the host side).

export interface StepInfo {
	id: string;
	title: string;
	/** Shown while the step runs. */
	lesson: string;
}

export interface MilestoneInfo {
	id: string;
	title: string;
	summary: string;
	/** False: announced but not built yet; listed as "coming", not runnable. */
	steps: StepInfo[];
}
