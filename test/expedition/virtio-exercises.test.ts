import fs from 'node:fs';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {findExercise} from '../../source/expedition/exercises.js';
import {helloBuildSteps} from '../../source/expedition/virtio-hello.js';
import {shellPrompt} from '../../source/expedition/shell.js';
import {findRegions} from '../../source/lab/exercise/markers.js';
import {ensureWorkspace} from '../../source/lab/exercise/workspace.js';
import {Session} from '../../source/lab/session.js';
import {cacheRoot, projectRoot} from '../../source/lab/paths.js';
import type {RunEvent} from '../../source/runner/events.js';
import {startCli} from '../helpers/cli.js';
import {withAnswer, withOpen as withOpenIn} from '../helpers/exercise-copies.js';

/*
 * The virtio-hello exercises against a real VM, a real driver build and a real (incremental) QEMU
 * build of the learner's device. Each case opens some TODOs of the references and checks that the
 * run fails at the greeting, naming the TODO whose absence the system's state shows (the driver's
 * sysfs counters, the device's over QMP), at its file:line in the learner's copy.
 */

const driver = {exercise: findExercise('virtio-driver')!, file: 'virtio_hello_core.c'};
const device = {exercise: findExercise('virtio-device')!, file: 'virtio-hello.c'};
type Part = typeof driver;

const events = (lines: string[]) =>
	lines.filter(line => line.startsWith('{')).map(line => JSON.parse(line) as RunEvent);

/** The reference with the given TODOs open (their regions replaced by the skeleton's comment). */
const withOpen = (part: Part, open: number[]) => withOpenIn(part.exercise, part.file, open);

/** One workspace for the whole file: each case writes its own versions of the two copies. */
const root = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'kernelcraft-virtio-exercises-'));
test.after.always(() => fs.rmSync(root, {recursive: true, force: true}));
const env = {KERNELCRAFT_WORKSPACE: path.join(root, 'ws'), KERNELCRAFT_STATE: path.join(root, 'progress.json')};
const copyOf = (part: Part) => path.join(root, 'ws', part.exercise.id, part.file);

async function run(t: ExecutionContext, args: string[]) {
	const cli = startCli(args, env, t);
	const code = await cli.waitForExit(900_000);
	return {code, all: events(cli.lines), stderr: cli.stderr.join('')};
}

/** Writes both copies, runs the milestone on them, and expects the greeting to fail at `todo`. */
async function failsAt(
	t: ExecutionContext,
	copies: {driver: number[]; device: number[]},
	expected: {part: Part; todo: number; says: RegExp},
) {
	fs.writeFileSync(copyOf(driver), withOpen(driver, copies.driver));
	fs.writeFileSync(copyOf(device), withOpen(device, copies.device));
	const {code, all, stderr} = await run(t, ['run', 'virtio-hello', '--json', '--exercise']);
	t.is(code, 1, stderr);
	const failed = all.find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
	t.is(failed?.step, 'greet', JSON.stringify(failed));
	const file = copyOf(expected.part);
	const line =
		fs
			.readFileSync(file, 'utf8')
			.split('\n')
			.findIndex(text => text.includes(`TODO ${expected.todo}:`)) + 1;
	t.true(failed.failure.what.startsWith(`${file}:${line}: TODO ${expected.todo}: `), failed.failure.what);
	t.regex(failed.failure.what, expected.says);
	t.log(failed.failure.what);
	return all;
}

const qemuMs = (all: RunEvent[]) =>
	(all.find(event => event.type === 'verified' && event.step === 'qemu') as {ms: number; detail: string} | undefined)!;

test.serial('the skeletons as they are: the greeting fails at the driver, TODO 1 (no request queued)', async t => {
	t.is((await run(t, ['exercise', 'path', 'virtio-driver'])).code, 0);
	t.is((await run(t, ['exercise', 'path', 'virtio-device'])).code, 0);
	// The skeletons themselves, as `exercise path` made them.
	const {code, all, stderr} = await run(t, ['run', 'virtio-hello', '--json', '--exercise']);
	t.is(code, 1, stderr);
	const failed = all.find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
	t.is(failed.step, 'greet', JSON.stringify(failed));
	const line =
		fs
			.readFileSync(copyOf(driver), 'utf8')
			.split('\n')
			.findIndex(text => text.includes('TODO 1:')) + 1;
	t.true(failed.failure.what.startsWith(`${copyOf(driver)}:${line}: TODO 1: \`hello-client greet Ada\` failed`));
	t.regex(failed.failure.what, /the driver queued no request \(its requests count stayed at 0\)\.$/);
	t.log(failed.failure.what);
	t.regex(qemuMs(all).detail, /from .*virtio-device/, "the learner's device was built");
});

test.serial('the driver without its kick: TODO 2, told by the device that saw no kick', async t => {
	await failsAt(t, {driver: [2], device: [1, 2, 3]}, {part: driver, todo: 2, says: /no kick reached the device/});
});

test.serial('the driver done, the device skeleton: the device never pops, its TODO 1', async t => {
	await failsAt(t, {driver: [], device: [1, 2, 3]}, {part: device, todo: 1, says: /never popped the request/});
});

test.serial('the device without its header check: TODO 2, the device refuses the request', async t => {
	const all = await failsAt(t, {driver: [], device: [2]}, {part: device, todo: 2, says: /answered with status UNSUPP/});
	t.log(`incremental QEMU build of the learner's device: ${qemuMs(all).ms} ms`);
});

test.serial('the device without its interrupt: TODO 3, the used index moved, no interrupt came', async t => {
	await failsAt(t, {driver: [], device: [3]}, {part: device, todo: 3, says: /the guest got no interrupt/});
});

test.serial("the driver's callback left out: TODO 3, answered and interrupted but never completed", async t => {
	await failsAt(t, {driver: [3], device: []}, {part: driver, todo: 3, says: /never completed (the|a) request/});
});

test.serial(
	'the device that copies the header and checks nothing: the greeting works, the hostile step names TODO 2',
	async t => {
		// A plausible wrong answer to TODO 2: the header copied, the room set, no length checked.
		for (const part of [driver, device]) fs.mkdirSync(path.dirname(copyOf(part)), {recursive: true});
		fs.copyFileSync(path.join(projectRoot, 'drivers/virtio-hello', driver.file), copyOf(driver));
		fs.writeFileSync(
			copyOf(device),
			withAnswer(device.exercise, device.file, 2, [
				'    iov_to_buf(elem->out_sg, elem->out_num, 0, req, sizeof(*req));',
				'    *room = in_size - sizeof(struct virtio_hello_resp) - 1;',
			]),
		);
		const {code, all, stderr} = await run(t, ['run', 'virtio-hello', '--json', '--exercise']);
		t.is(code, 1, stderr);
		t.true(
			all.some(event => event.type === 'verified' && event.step === 'greet'),
			'a well-formed greeting is answered',
		);
		const failed = all.find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
		t.is(failed?.step, 'hostile', JSON.stringify(failed));
		t.true(failed.failure.what.startsWith(`${copyOf(device)}: TODO 2: `), failed.failure.what);
		t.regex(
			failed.failure.what,
			/answered a hostile chain \(8-byte request header -> status 0 \(OK\).*\) with the wrong status/,
		);
	},
);

test.serial(
	'the drain loop that never turns notifications back on: the greeting goes through, the 1 MiB echoes stall, and the failure names TODO 1',
	async t => {
		for (const part of [driver, device]) fs.mkdirSync(path.dirname(copyOf(part)), {recursive: true});
		fs.copyFileSync(path.join(projectRoot, 'drivers/virtio-hello', driver.file), copyOf(driver));
		// The reference's loop without `virtio_queue_set_notification(s->vq, 1)`: a plausible slip.
		// The first kick is answered (notifications start on), every later one is never asked for.
		const reference = fs.readFileSync(path.join(projectRoot, device.exercise.reference, device.file), 'utf8');
		const region = findRegions(reference, device.exercise.id).find(found => found.todo === 1)!;
		const loop = reference
			.split('\n')
			.slice(region.begin, region.end - 1)
			.filter(line => !line.includes('virtio_queue_set_notification(s->vq, 1)'));
		t.is(loop.length, region.end - 1 - region.begin - 1, 'the re-enable line was there and is gone');
		fs.writeFileSync(copyOf(device), withAnswer(device.exercise, device.file, 1, loop));
		const {code, all, stderr} = await run(t, ['run', 'virtio-hello', '--json', '--exercise']);
		t.is(code, 1, stderr);
		t.true(
			all.some(event => event.type === 'verified' && event.step === 'greet'),
			'one greeting needs one kick',
		);
		const failed = all.find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
		t.is(failed?.step, 'integrity', JSON.stringify(failed));
		// TODO 1's comment is gone (answered, wrongly): the pointer names the file.
		t.true(
			failed.failure.what.startsWith(
				`${copyOf(device)}: TODO 1: \`hello-client echo 1M 5\` stopped and was killed after 60 s`,
			),
			failed.failure.what,
		);
		t.regex(
			failed.failure.what,
			/the driver queued \d+ requests? that the device never popped, with no kick in this run/,
		);
		t.is(failed.failure.symptom, 'stalled-unkicked');
	},
);

test.serial(
	'a device that says it echoed and wrote nothing: in a guest whose free memory is dirty, the learner sees zeros, never old kernel memory',
	async t => {
		// The reference with ECHO's copy into the writable part left out: resp.len still says len.
		const reference = fs.readFileSync(path.join(projectRoot, device.exercise.reference, device.file), 'utf8');
		const copy = `        iov_from_buf(elem->in_sg, elem->in_num,
                     sizeof(struct virtio_hello_resp) + off, s->bounce, n);
`;
		t.true(reference.includes(copy), "the reference's echo copies the payload back");
		const deviceDir = ensureWorkspace(device.exercise, path.join(root, 'ws-lying'));
		fs.writeFileSync(path.join(deviceDir, device.file), reference.replace(copy, ''));
		// The driver is the reference's; only the device is the lying copy.
		const session = new Session(
			{cacheDir: cacheRoot(), panel: false, exerciseDirs: {'virtio-device': deviceDir}},
			() => {},
		);
		t.teardown(() => session.dispose());
		const signal = new AbortController().signal;
		for (const step of helloBuildSteps) await step.run({emit: () => {}, signal, session, step: step.id, figures: {}});
		const vm = await session.boot({qemu: session.customQemu, extraArgs: ['-device', 'virtio-hello-pci,id=hello0']});
		await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
		const sh = (command: string) => vm.checks.run(command, {timeoutMs: 120_000});
		// Free pages full of old data, as in a guest that has been up a while: 64 MB of random
		// bytes in the initramfs's memory, then freed.
		t.is((await sh('dd if=/dev/urandom of=/dirt bs=1M count=64 2>/dev/null && rm /dirt')).status, 0);
		t.is((await sh(`insmod /lib/modules/${session.kernel!.release}/extra/virtio_hello.ko`)).status, 0);
		const echo = await sh('hello-client echo 256K 4 2>&1');
		t.not(echo.status, 0, echo.output);
		// The driver's pages for the answer are zeroed: what the device did not write is zeros.
		t.regex(
			echo.output,
			/data mismatch at byte \d+ of \d+ \(sent 0x[0-9a-f]{2}, got 0x00\); the bytes that came back are all zero/,
		);
	},
);

test.serial('the references copied over both exercises pass run virtio-hello --exercise', async t => {
	fs.copyFileSync(path.join(projectRoot, 'drivers/virtio-hello', driver.file), copyOf(driver));
	fs.copyFileSync(path.join(projectRoot, 'devices/virtio-hello', device.file), copyOf(device));
	const {code, all, stderr} = await run(t, ['run', 'virtio-hello', '--json', '--exercise']);
	t.is(
		code,
		0,
		all
			.filter(event => event.type === 'failed')
			.map(event => JSON.stringify(event))
			.join('\n') + stderr,
	);
	const qemu = qemuMs(all);
	t.regex(qemu.detail, /from .*virtio-device/);
	t.log(`QEMU step: ${qemu.ms} ms (${qemu.detail})`);
	const driverStep = all.find(event => event.type === 'verified' && event.step === 'driver') as {detail: string};
	t.regex(driverStep.detail, /virtio_hello\.ko from .*virtio-driver/);
});

test.serial("a compile error in the learner's device shows as its own file:line at the qemu step", async t => {
	await startCliLines(t, ['exercise', 'path', 'virtio-device']);
	const lines = withOpen(device, []).split('\n');
	const at = lines.findIndex(line => line.startsWith('static void virtio_hello_interrupt('));
	lines.splice(at + 2, 0, '    this is not C;');
	fs.writeFileSync(copyOf(device), lines.join('\n'));
	const {code, all} = await run(t, ['run', 'virtio-hello', '--json', '--exercise']);
	t.is(code, 1);
	const failed = all.find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
	t.is(failed.step, 'qemu');
	t.true(failed.failure.what.startsWith(`${copyOf(device)}:${at + 3}: `), failed.failure.what);
	t.log(failed.failure.what);
});

test.serial('exercise list shows both, with their open TODOs; reset puts a skeleton back', async t => {
	const list = await startCliLines(t, ['exercise', 'list']);
	t.regex(list, /^virtio-driver\s+virtio-hello\s+the virtio-hello driver's request path/m);
	t.regex(list, /^virtio-device\s+virtio-hello\s+the virtio-hello device's queue handler/m);
	await startCliLines(t, ['exercise', 'path', 'virtio-device']);
	fs.writeFileSync(copyOf(device), withOpen(device, [3]));
	t.regex(await startCliLines(t, ['exercise', 'list']), /virtio-device {2}open: TODO 3$/m);
	t.is((await run(t, ['exercise', 'reset', 'virtio-device'])).code, 0);
	t.regex(await startCliLines(t, ['exercise', 'list']), /virtio-device {2}open: TODO 1, TODO 2, TODO 3$/m);
	t.true(fs.readdirSync(path.dirname(copyOf(device))).some(name => name.startsWith('virtio-hello.c.bak-')));
});

async function startCliLines(t: ExecutionContext, args: string[]): Promise<string> {
	const cli = startCli(args, env, t);
	t.is(await cli.waitForExit(60_000), 0);
	return cli.lines.join('\n');
}
