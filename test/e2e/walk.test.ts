import test from 'ava';
import {startCli} from '../helpers/cli.js';
import {isAlive, processesMatching, waitUntil} from '../helpers/processes.js';
import {lessonText, loadAndGreet, markOf, startLearner, typeInGuest, waitForLesson} from '../helpers/learner.js';
import {qemuChildOf} from '../bench/tui-pty.js';

// The virtio-hello milestone with --debug: one request followed with two real gdbs (the guest
// kernel's through QEMU's gdbstub, and QEMU's own), headless and guided in a real terminal.

/** gdbs kernelcraft started (GdbSession's command line), still alive. */
function liveGdbs(): number[] {
	return processesMatching('gdb -nx -iex set pagination off').filter(pid => isAlive(pid));
}

test.serial(
	'run virtio-hello --debug --json: the walk stops in the driver, the device and the callback, on the same buffer',
	async t => {
		// From an empty cache this builds the gdb kernel and QEMU with -g first.
		const run = startCli(['run', 'virtio-hello', '--debug', '--json'], {}, t);
		const code = await run.waitForExit(1_800_000);
		const events = run.lines.map(line => JSON.parse(line) as Record<string, unknown>);
		const summary = events.at(-1)!;
		t.is(code, 0, run.lines.slice(-20).join('\n'));
		t.is(summary.milestone, 'virtio-hello', 'the last line is the summary');
		const stops = events.filter(event => event.type === 'walk-stop');
		t.deepEqual(
			stops.map(stop => [stop.n, stop.side, stop.where]),
			[
				[1, 'driver', 'vh_queue'],
				[2, 'device', 'virtqueue_fill'],
				[3, 'driver', 'vh_vq_done'],
			],
		);
		t.regex(String(stops[0]!.descriptor), /^0x[0-9a-f]+$/);
		t.is(stops[1]!.descriptor, stops[0]!.descriptor, 'QEMU popped the buffer the driver queued');
		// Each side's indices: the driver before it adds, the device after it popped, the callback
		// once the device has published it.
		t.regex(String(stops[0]!.indices), /^avail idx \d+, last used idx \d+$/);
		t.regex(String(stops[1]!.indices), /^last avail idx \d+, used idx \d+; used len \d+$/);
		t.regex(String(stops[2]!.indices), /^used idx \d+, last used idx \d+$/);
		const walk = (summary.steps as {name: string; ok: boolean; detail: string}[]).find(step => step.name === 'walk');
		t.true(walk?.ok);
		t.regex(walk!.detail, /hello-client got "Hello, Ada! from kernelcraft QEMU"/);
		t.is(summary.walkBuffers, 5, 'header and name out, response, room and status in');
		const logs = events.filter(event => event.type === 'log' && event.step === 'walk').map(event => event.line);
		t.true(
			logs.some(line => /^#0 +vh_queue \(/.test(String(line))),
			"the driver's backtrace names vh_queue",
		);
		t.true(
			logs.some(line => /virtio_hello_handle_one/.test(String(line))),
			"QEMU's backtrace names the device's handler",
		);
		t.deepEqual(liveGdbs(), [], 'no gdb left');
	},
);

test.serial(
	'guided --debug: the learner catches a request in vh_queue with the gdb pane and continues it through QEMU',
	async t => {
		const {app, progress} = await startLearner(t, ['virtio-driver', 'virtio-device'], ['--debug']);
		const hello = /virtio-hello/i;
		// The gdb kernel, and the learner's device in a QEMU with -g: built the first time.
		await loadAndGreet(app, 1_800_000);
		await waitForLesson(app, /Predict: One greeting: how many buffers/, 60_000, "the walk's prediction");
		app.write('5\r');
		await waitForLesson(app, /Your turn: Catch one request in your driver/, 30_000, "the walk's task");
		t.regex(lessonText(app), /You predicted 5 buffers: checked once the step has run/);
		const qemu = qemuChildOf(app.pid);
		t.truthy(qemu);
		// g: gdb on the guest kernel, in the pane; x stops the guest so gdb takes commands.
		app.write('g');
		await app.waitForScreen(/gdb \(guest runs\)/, 300_000, 'gdb attached, the guest running');
		app.write('x');
		await app.waitForScreen(/gdb \(guest stopped\)/, 30_000, 'the guest stopped');
		app.write('\t');
		app.write('break vh_queue\r');
		await app.waitForScreen(/Breakpoint \d+ at 0x/, 30_000, 'the breakpoint set');
		app.write('continue\r');
		// Ctrl-] back to the pane's keys, whose title says whether the guest runs.
		app.write('\x1d');
		await app.waitForScreen(/gdb \(guest runs\)/, 30_000, 'the guest running again');
		app.write('\x1b');
		await app.waitForScreen(/q quit/, 10_000, 'back at the list');
		await typeInGuest(app, 'hello-client greet Grace');
		await waitForLesson(app, /Press c in the gdb pane: the request goes to the device/, 120_000, 'caught in vh_queue');
		// The panel shows the first stop's indices.
		await app.waitForScreen(/gdb walk: one request/, 10_000, 'the walk in the panel');
		app.write('g');
		app.write('c');
		await waitForLesson(
			app,
			/Press c in the gdb pane: the driver wakes hello-client/,
			180_000,
			'stopped in the callback',
		);
		t.regex(app.screen(), /2 device in virtqueue_fill/, "the device's stop in the panel");
		app.write('c');
		await waitForLesson(app, /you predicted 5 buffers, the system says 5: right/, 60_000, 'the prediction checked');
		await waitForLesson(app, /Predict: `hello-client echo 1M 5`/, 60_000, "integrity's prediction");
		// Esc leaves the gdb pane; the digits come after it, not glued to it as one escape sequence.
		app.write('\x1b');
		await app.waitForScreen(/q quit/, 10_000, 'back at the list');
		app.write('15\r');
		// The hostile step is the learner's too: one chain that lies, refused by their device.
		await waitForLesson(app, /Your turn: Send the device a chain that lies/, 180_000, "hostile's task");
		await typeInGuest(app, 'hello-client bad short');
		await app.waitForScreen(() => markOf(app, hello) === '✔', 180_000, 'virtio-hello ticked');
		const walk = progress().steps?.['virtio-hello']?.walk;
		t.is(walk?.byLearner, true);
		t.deepEqual(
			walk?.predictions?.map(({guess, actual}) => ({guess, actual})),
			[{guess: 5, actual: 5}],
		);
		app.write('q');
		await app.waitForExit(30_000);
		t.true(await waitUntil(() => !isAlive(qemu!.pid), 10_000), 'QEMU stopped with the app');
		t.true(await waitUntil(() => liveGdbs().length === 0, 10_000), 'no gdb left');
	},
);
