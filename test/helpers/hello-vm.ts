import type {ExecutionContext} from 'ava';
import {helloBuildSteps} from '../../source/expedition/virtio-hello.js';
import {shellPrompt} from '../../source/expedition/shell.js';
import type {StepLogic} from '../../source/expedition/types.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {QmpClient} from '../../source/lab/vm/qmp.js';
import type {QemuVm} from '../../source/lab/vm/qemu-vm.js';
import {Session} from '../../source/lab/session.js';

export interface HelloVm {
	session: Session;
	vm: QemuVm;
	qmp: QmpClient;
	/** Runs a command on the guest's check shell. */
	sh(command: string, timeoutMs?: number): Promise<{output: string; status: number}>;
}

/**
 * A VM with QEMU-with-virtio-hello, the driver and the client, built by the milestone's own
 * steps (all cached), booted with the devices a test asks for. The panel is off so the test
 * holds QEMU's QMP connection itself.
 */
export async function bootHelloVm(t: ExecutionContext, extraArgs: string[]): Promise<HelloVm> {
	const session = new Session({cacheDir: cacheRoot(), panel: false}, () => {});
	t.teardown(() => session.dispose());
	const signal = new AbortController().signal;
	const figures = {};
	const run = (step: StepLogic) => step.run({emit: () => {}, signal, session, step: step.id, figures});
	for (const step of helloBuildSteps) await run(step);
	const vm = await session.boot({qemu: session.customQemu, extraArgs});
	await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 60_000, since: 0});
	const qmp = await QmpClient.connect({socketPath: vm.qmpSocket});
	t.teardown(() => qmp.close());
	return {session, vm, qmp, sh: (command, timeoutMs = 60_000) => vm.checks.run(command, {timeoutMs})};
}

export const driverPath = (session: Session) => `/lib/modules/${session.kernel!.release}/extra/virtio_hello.ko`;
