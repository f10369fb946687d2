import test from 'ava';
import {RerunOnSave, type RerunHost} from '../../source/runner/rerun-on-save.js';

/** A workbench stand-in whose runs last until cancelled or finished by the test. */
function fakeHost() {
	const log: string[] = [];
	let running: {milestone: string; end: () => void} | undefined;
	let stopped = false;
	const host: RerunHost = {
		runningMilestone: () => running?.milestone,
		async cancel() {
			if (!running) return;
			log.push(`cancel ${running.milestone}`);
			running.end();
		},
		run: milestone =>
			new Promise<void>(resolve => {
				log.push(`run ${milestone}`);
				running = {
					milestone,
					end() {
						running = undefined;
						resolve();
					},
				};
			}),
		stopped: () => stopped,
		failed: (milestone, error) => log.push(`failed ${milestone}: ${(error as Error).message}`),
	};
	return {host, log, finish: () => running?.end(), stop: () => (stopped = true), running: () => running};
}

const tick = () => new Promise(resolve => setImmediate(resolve));

test('a save runs the milestone; a save during that run cancels it and runs once more', async t => {
	const fake = fakeHost();
	const reruns = new RerunOnSave(fake.host);
	const first = reruns.saved('hello-module');
	await tick();
	void reruns.saved('hello-module');
	void reruns.saved('hello-module');
	await tick();
	fake.finish();
	await first;
	t.deepEqual(fake.log, ['run hello-module', 'cancel hello-module', 'run hello-module']);
});

test('a save while another milestone runs leaves that run alone', async t => {
	const fake = fakeHost();
	void fake.host.run('virtio-blk');
	await new RerunOnSave(fake.host).saved('hello-module');
	t.deepEqual(fake.log, ['run virtio-blk']);
	t.is(fake.running()?.milestone, 'virtio-blk');
});

test('a save after the workbench stopped runs nothing', async t => {
	const fake = fakeHost();
	fake.stop();
	await new RerunOnSave(fake.host).saved('hello-module');
	t.deepEqual(fake.log, []);
});

test('a re-run that rejects (its tick could not be saved) is told, not dropped', async t => {
	const fake = fakeHost();
	fake.host.run = async milestone => {
		fake.log.push(`run ${milestone}`);
		throw new Error('hello-module passed, but its tick could not be saved');
	};
	await new RerunOnSave(fake.host).saved('hello-module');
	t.deepEqual(fake.log, [
		'run hello-module',
		'failed hello-module: hello-module passed, but its tick could not be saved',
	]);
});
