import anyTest from 'ava';
import {render} from 'ink-testing-library';
import {App} from '../../source/ui/components/App.js';
import {Footer} from '../../source/ui/components/Footer.js';
import {guidanceText} from '../../source/ui/guidance.js';
import {initialUiState} from '../../source/ui/state.js';
import {FakeWorkbench, MILESTONES, until} from './fake-workbench.js';

// Ink instances share the event loop: run these one at a time.
const test = anyTest.serial;

function start(workbench = new FakeWorkbench()) {
	const app = render(<App workbench={workbench} milestones={MILESTONES} columns={120} rows={40} frameIntervalMs={0} />);
	const frame = () => (app.lastFrame() ?? '').replace(/[│\s]+/g, ' ');
	const shows = (pattern: RegExp) => until(() => pattern.test(frame()));
	return {workbench, ...app, frame, shows};
}

function running(workbench: FakeWorkbench, step: string): void {
	workbench.emit(
		{
			type: 'milestone-started',
			milestone: 'boot',
			title: 'Boot your kernel',
			steps: [
				{name: 'build', title: 'Build the kernel'},
				{name: 'boot', title: 'Boot it'},
			],
		},
		{type: 'step-started', step, title: step},
	);
}

test('a prediction takes digits and Backspace, and Enter hands the number to the run', async t => {
	const {stdin, shows, frame, workbench, unmount} = start();
	running(workbench, 'boot');
	workbench.emit({type: 'prediction-asked', step: 'boot', question: 'How many requests?', unit: 'requests'});
	t.true(await shows(/Predict: How many requests\?/));
	stdin.write('\r');
	t.true(await shows(/type a number first/), 'Enter with nothing typed asks for a number');
	stdin.write('4');
	stdin.write('7');
	stdin.write('\x7f');
	stdin.write('2');
	t.true(await shows(/Your answer: 42▌ requests/));
	stdin.write('\r');
	t.true(await until(() => workbench.answers.length === 1));
	t.deepEqual(workbench.answers, [42]);
	workbench.emit({
		type: 'prediction-result',
		step: 'boot',
		guess: 42,
		actual: 32,
		unit: 'requests',
		why: 'One request per read.',
	});
	// Short pieces: the lesson pane wraps, and the step log shares its rows.
	t.true(await shows(/you predicted 42/));
	t.regex(frame(), /too high/);
	t.notRegex(frame(), /Your answer:/, 'the question is gone once answered');
	unmount();
});

test('a task says what to do and what is missing; h asks for a hint, d hands the run over', async t => {
	const {stdin, shows, frame, workbench, unmount} = start();
	running(workbench, 'boot');
	workbench.emit({type: 'task', step: 'boot', ask: 'Type `uname -r > /tmp/release`.'});
	t.true(await shows(/Your turn: Type `uname -r > \/tmp\/release`\./));
	workbench.emit({type: 'task', step: 'boot', ask: 'Type `uname -r > /tmp/release`.', missing: 'no /tmp/release yet.'});
	t.true(await shows(/Not yet: no \/tmp\/release yet\./));
	stdin.write('h');
	t.true(await until(() => workbench.hints.length === 1));
	t.deepEqual(workbench.hints, ['boot'], 'the hint is for the running milestone');
	workbench.emit({
		type: 'hint',
		milestone: 'boot',
		step: 'boot',
		index: 1,
		of: 3,
		text: 'Press Tab first.',
		solution: false,
	});
	t.true(await shows(/Hint 1 of 2: Press Tab first\./));
	stdin.write('d');
	t.true(await until(() => workbench.demos === 1));
	workbench.emit({type: 'mode', mode: 'demo'});
	t.true(await until(() => !/Your turn/.test(frame())), 'in demo mode the task is no longer asked');
	workbench.emit({type: 'verified', step: 'boot', detail: 'done', ms: 5});
	t.true(await shows(/✔ Boot it/));
	unmount();
});

test('the guidance text: a prediction result names the guess, the answer, the miss and why', t => {
	const state = {
		...initialUiState(MILESTONES),
		currentStep: 'boot',
		predictionResult: {step: 'boot', guess: 42, actual: 32, unit: 'requests', why: 'One request per read.'},
	};
	t.is(
		guidanceText(state, [{id: 'boot', title: 'Boot it'}]),
		'Boot it: you predicted 42 requests, the system says 32: off by 10 (too high). One request per read.',
	);
	const right = {...state, predictionResult: {...state.predictionResult, guess: 32}};
	t.regex(guidanceText(right, []), /the system says 32: right\./);
});

test('a step the learner did is marked (you) in the step log; one kernelcraft did is not', async t => {
	const {shows, frame, workbench, unmount} = start();
	running(workbench, 'build');
	workbench.emit({type: 'verified', step: 'build', detail: 'built', ms: 5});
	workbench.emit({type: 'step-started', step: 'boot', title: 'Boot it'});
	workbench.emit({type: 'verified', step: 'boot', detail: 'you typed it', ms: 7, byLearner: true});
	t.true(await shows(/✔ Boot it 7 ms \(you\)/));
	t.regex(frame(), /✔ Build the kernel 5 ms (?!\(you\))/);
	unmount();
});

test('the footer says what the run waits for, and still fits q quit at 120 and at 80 columns', t => {
	for (const [width, pane] of [
		[120, undefined],
		[80, 'console'],
	] as const) {
		for (const waitingFor of ['task', 'prediction'] as const) {
			const {lastFrame, unmount} = render(
				<Footer width={width} consoleFocused={false} running={true} pane={pane} waitingFor={waitingFor} />,
			);
			const line = lastFrame() ?? '';
			t.regex(line, waitingFor === 'task' ? /your turn.*h hint.*d do it/ : /predict.*digits, Enter.*d skip/);
			t.regex(line, /q quit$/, `${width} columns, ${waitingFor}: ${line}`);
			unmount();
		}
	}
});

test("the selected milestone's overview lists its steps with what the learner did in each", async t => {
	const workbench = new FakeWorkbench();
	workbench.records.boot = {
		build: {doneAt: '2026-11-26T12:00:00Z', byLearner: false},
		boot: {doneAt: '2026-11-26T12:01:00Z', byLearner: true, hints: 2, predictions: [{guess: 3, actual: 4, at: ''}]},
	};
	const {shows, unmount} = start(workbench);
	t.true(await shows(/1\. ✔ Build the kernel 2\. ✔ Boot it \(by you, 2 hints, predicted 3, was 4\)/));
	unmount();
});
