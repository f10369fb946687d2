import test from 'ava';
import {loadAndGreet, markOf, selectMilestone, startLearner, typeInGuest, waitForLesson} from '../helpers/learner.js';

// A scripted learner in a real pseudo-terminal, against a real VM: the TUI in its default, guided
// mode. The learner types into the guest's console, answers predictions and asks for hints; the
// ticks come from what the checks find in the guest and in QEMU, and the progress file keeps it.

test.serial(
	'guided boot: the learner types the last step into the guest, a wrong answer is named, a hint is counted',
	async t => {
		const {app, progress} = await startLearner(t);
		const boot = /\bboot\b/i;
		app.write('\r');
		// The build, the rootfs and the boot run by themselves; the last step waits for the learner.
		await waitForLesson(app, /Your turn: Ask the running kernel for its release/, 300_000, "the uname step's task");
		t.is(markOf(app, boot), '▸', 'the milestone waits for the learner, not ticked');

		app.write('h');
		await waitForLesson(app, /Hint 1 of 3: Press Tab/, 10_000, 'the first hint');

		// A file with the wrong content: the check says what it found, from the guest itself.
		await typeInGuest(app, 'echo 0.0-wrong > /tmp/release');
		await waitForLesson(app, /Not yet: \/tmp\/release says "0\.0-wrong"/, 30_000, 'the check naming the wrong release');
		t.is(markOf(app, boot), '▸');

		await typeInGuest(app, 'uname -r > /tmp/release');
		await app.waitForScreen(() => markOf(app, boot) === '✔', 30_000, 'boot ticked');
		t.regex(app.screen(), /you asked the guest: \/tmp\/release says/);

		const steps = progress().steps?.boot;
		t.truthy(progress().verified.boot, 'the milestone is ticked in the progress file');
		t.is(steps?.uname?.byLearner, true, 'the uname step is recorded as done by the learner');
		t.is(steps?.uname?.hints, 1, 'one hint used');
		t.is(steps?.kernel?.byLearner, false, 'the build ran by itself');
		app.write('q');
		t.truthy(await app.waitForExit(20_000), 'the app exits on q');
	},
);

test.serial('guided virtio-blk: one prediction wrong, one right, and the learner mounts the disk', async t => {
	const {app, progress} = await startLearner(t);
	const blk = /virtio-blk/i;
	// boot, hello-module, virtio-blk: the third milestone.
	await selectMilestone(app, blk);
	app.write('\r');

	await waitForLesson(app, /Predict: `dd if=\/dev\/vda bs=4096 count=32/, 300_000, 'the first prediction');
	app.write('1');
	await waitForLesson(app, /Your answer: 1/, 5000, 'the typed digit');
	app.write('\r');
	const first = await waitForLesson(
		app,
		/you predicted 1 requests, the system says (\d+): off by/,
		60_000,
		'the wrong prediction named',
	);
	const actual = Number(/the system says (\d+)/.exec(first)![1]);
	t.true(actual >= 32, `32 reads moved the used index by ${actual}`);

	await waitForLesson(app, /Predict: Now `bs=65536 count=8`/, 60_000, 'the second prediction');
	app.write('8\r');
	await waitForLesson(app, /you predicted 8 requests, the system says 8: right/, 60_000, 'the right prediction');

	await waitForLesson(app, /Your turn: Mount the disk's ext4 filesystem/, 60_000, "read-file's task");
	await typeInGuest(app, 'mount /dev/vda /mnt && cat /mnt/hello.txt');
	await app.waitForScreen(() => markOf(app, blk) === '✔', 120_000, 'virtio-blk ticked');

	const steps = progress().steps?.['virtio-blk'];
	t.deepEqual(
		steps?.['predict-small']?.predictions?.map(({guess, actual}) => ({guess, actual})),
		[{guess: 1, actual}],
	);
	t.deepEqual(
		steps?.['predict-big']?.predictions?.map(({guess, actual}) => ({guess, actual})),
		[{guess: 8, actual: 8}],
	);
	t.is(steps?.['read-file']?.byLearner, true);
	t.is(steps?.['write-back']?.byLearner, false, 'the step with no task ran by itself');
	app.write('q');
	t.truthy(await app.waitForExit(20_000));
});

test.serial('d hands a guided run to kernelcraft: the waiting task is done for the learner', async t => {
	const {app, progress} = await startLearner(t, ['hello']);
	await selectMilestone(app, /hello-module/i);
	app.write('\r');
	await waitForLesson(app, /Your turn: Load the module yourself/, 300_000, "insmod's task");
	app.write('d');
	await app.waitForScreen(() => markOf(app, /hello-module/i) === '✔', 120_000, 'hello-module ticked');
	const steps = progress().steps?.['hello-module'];
	t.is(steps?.insmod?.byLearner, false, 'insmod was done by kernelcraft');
	t.is(steps?.rmmod?.byLearner, false, 'and so was every later task');
	app.write('q');
	t.truthy(await app.waitForExit(20_000));
});

test.serial(
	'guided virtio-hello: the learner loads the driver and greets the device; a 1 MiB echo is 3 requests',
	async t => {
		const {app, progress} = await startLearner(t, ['virtio-driver', 'virtio-device']);
		const hello = /virtio-hello/i;
		await loadAndGreet(app, 600_000);
		await waitForLesson(app, /Predict: `hello-client echo 1M 5`/, 60_000, "integrity's prediction");
		// 1 MiB is 3 requests of at most 126 pages each way (no chain longer than the 256-entry ring): 15.
		app.write('15\r');
		await waitForLesson(app, /you predicted 15 requests, the system says 15: right/, 120_000, 'the prediction checked');
		await waitForLesson(app, /Your turn: Send the device a chain that lies/, 120_000, "hostile's task");
		await typeInGuest(app, 'hello-client bad short');
		await app.waitForScreen(() => markOf(app, hello) === '✔', 120_000, 'virtio-hello ticked');
		const steps = progress().steps?.['virtio-hello'];
		t.is(steps?.probe?.byLearner, true);
		t.is(steps?.greet?.byLearner, true);
		t.deepEqual(
			steps?.integrity?.predictions?.map(({guess, actual}) => ({guess, actual})),
			[{guess: 15, actual: 15}],
		);
		app.write('q');
		t.truthy(await app.waitForExit(20_000));
	},
);

test.serial(
	"guided virtio-hello with the device's skeleton: the greet task says the request is not popped, and which TODO pops it",
	async t => {
		// The driver solved, the device as the skeleton has it: its queue handler pops nothing yet.
		const {app} = await startLearner(t, ['virtio-driver']);
		await loadAndGreet(app, 900_000);
		const lesson = await waitForLesson(app, /Not yet: .*TODO 1/, 60_000, 'the stuck request named');
		t.regex(lesson, /virtio-hello\.c:\d+: TODO 1: the device was kicked/);
		t.regex(lesson, /has not popped your request/);
		app.write('q');
		t.truthy(await app.waitForExit(20_000));
	},
);
