import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import test, {type ExecutionContext} from 'ava';
import {bootStepWith} from '../../source/expedition/boot.js';
import type {StepLogic} from '../../source/expedition/types.js';
import {helloBuildSteps} from '../../source/expedition/virtio-hello.js';
import {qemuDeviceList} from '../../source/lab/build/qemu-build.js';
import {LabError} from '../../source/lab/lab-error.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {Session} from '../../source/lab/session.js';

// kernelcraft's QEMU is built with only the devices in devices/qemu-devices.mak. These tests
// hold it to that list, and hold the boot step to saying clearly when a device is not there.

async function builtSession(
	t: ExecutionContext,
): Promise<{session: Session; run: (step: StepLogic) => Promise<string>}> {
	const session = new Session({cacheDir: cacheRoot(), panel: false}, () => {});
	t.teardown(() => session.dispose());
	const signal = new AbortController().signal;
	const figures = {};
	const run = (step: StepLogic) => step.run({emit: () => {}, signal, session, step: step.id, figures});
	for (const step of helloBuildSteps) await run(step);
	return {session, run};
}

const qemuSays = (qemu: string, args: string[]) => {
	const result = spawnSync(qemu, args, {encoding: 'utf8'});
	return {status: result.status, output: `${result.stdout}${result.stderr}`};
};

test.serial('the built QEMU has what the milestones start, and not the devices the list leaves out', async t => {
	const {session} = await builtSession(t);
	const qemu = session.customQemu!;
	const list = fs.readFileSync(qemuDeviceList(), 'utf8');
	t.regex(list, /^CONFIG_VIRTIO_HELLO=y/m);
	// `-device X,help` exits 0 even for a device QEMU does not have: read the list.
	const devices = qemuSays(qemu, ['-device', 'help']).output;
	for (const device of ['virtio-hello-pci', 'virtio-blk-pci', 'pcie-root-port', 'isa-serial']) {
		t.true(devices.includes(`name "${device}"`), `-device ${device}`);
	}
	const machines = qemuSays(qemu, ['-machine', 'help']).output;
	t.regex(machines, /^q35 /m, '-machine q35');
	// Nothing starts them, so the list leaves them out (they would bring IDE, USB and virtio-mmio).
	for (const machine of ['pc', 'microvm']) t.notRegex(machines, new RegExp(`^${machine} `, 'm'), `-machine ${machine}`);
	t.regex(
		qemuSays(qemu, ['-nodefaults', '-machine', 'none', '-display', 'none', '-drive', 'format=help']).output,
		/\bnull-co\b/,
	);
	// In QEMU's default set (PCI_DEVICES), not in the list: proof the list is what was built.
	for (const device of ['e1000', 'virtio-net-pci', 'VGA']) {
		t.false(devices.includes(`name "${device}"`), `-device ${device} should be absent`);
	}
});

test.serial("a device the list leaves out: the boot step fails with QEMU's own line and names the list", async t => {
	const {run} = await builtSession(t);
	const boot = bootStepWith(ctx => ({qemu: ctx.session.customQemu, extraArgs: ['-device', 'e1000,id=nic0']}));
	const error = await t.throwsAsync(run(boot));
	t.true(error instanceof LabError, String(error));
	const failure = (error as LabError).failure;
	t.regex(failure.what, /'e1000' is not a valid device model name/);
	t.regex(failure.what, /^QEMU exited/);
	t.regex(failure.hint ?? '', /devices\/qemu-devices\.mak/);
});
