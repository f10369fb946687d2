import type {UiState} from './state.js';

// What guided mode adds to the lesson pane: the prediction being asked, the task the learner is
// doing, the last hint, and how the last prediction went. Plain text, like the lesson itself.

export function guidanceText(state: UiState, steps: ReadonlyArray<{id: string; title: string}>): string {
	const title = (id: string) => steps.find(step => step.id === id)?.title ?? id;
	const parts: string[] = [];
	const {prediction, task, hint, predictionResult} = state;
	if (prediction?.answered)
		parts.push(`You predicted ${prediction.input} ${prediction.unit}: checked once the step has run.`);
	else if (prediction)
		parts.push(`Predict: ${prediction.question}`, `Your answer: ${prediction.input}▌ ${prediction.unit}`);
	if (predictionResult) parts.push(predictionLine(predictionResult, title(predictionResult.step)));
	if (task) {
		parts.push(`Your turn: ${task.ask}`);
		if (task.missing) parts.push(`Not yet: ${task.missing}`);
		// The keys (Tab, h, d) are in the footer while the run waits: the pane keeps its rows for this.
	}
	if (hint && (hint.step === state.currentStep || !state.currentStep))
		parts.push(`${hint.solution ? 'Solution' : `Hint ${hint.index} of ${hint.of - 1}`}: ${hint.text}`);
	// Blank lines: the lesson pane flows single line breaks into one paragraph.
	return parts.join('\n\n');
}

function predictionLine(result: NonNullable<UiState['predictionResult']>, stepTitle: string): string {
	const verdict =
		result.guess === result.actual
			? 'right'
			: `off by ${Math.abs(result.guess - result.actual)} (${result.guess > result.actual ? 'too high' : 'too low'})`;
	return `${stepTitle}: you predicted ${result.guess} ${result.unit}, the system says ${result.actual}: ${verdict}. ${result.why}`;
}
