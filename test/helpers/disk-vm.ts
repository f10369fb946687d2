import path from 'node:path';
import type {ExecutionContext} from 'ava';
import {shellPrompt} from '../../source/expedition/shell.js';
import {makeDiskImage} from '../../source/lab/build/disk-image.js';
import {configsDir} from '../../source/lab/paths.js';
import type {QemuVm} from '../../source/lab/vm/qemu-vm.js';
import {QmpClient} from '../../source/lab/vm/qmp.js';
import type {Session} from '../../source/lab/session.js';

/** A booted VM with a virtio disk, the session's panel, and a QMP connection of the test's own. */
export interface DiskVm {
	vm: QemuVm;
	qmp: QmpClient;
	/** QEMU's own word on whether the per-request trace is on (virtio_queue_notify's state). */
	traceState: () => Promise<string | undefined>;
	/** A guest command that must succeed; resolves with what it printed. */
	sh: (command: string, timeoutMs?: number) => Promise<string>;
	/** The VM's trace log (QEMU writes it; the panel reads it). */
	traceLog: string;
}

/**
 * Boots the session's kernel with a 32 MB virtio-blk disk (ioeventfd and indirect descriptors
 * off: one kick per request, handled in the vCPU thread) and a second QMP socket, so the test
 * asks QEMU itself while the panel has its own connection.
 */
export async function bootDiskVm(t: ExecutionContext, session: Session, runName: string): Promise<DiskVm> {
	await session.buildKernel('test', new AbortController().signal);
	session.packRootfs();
	const runDir = session.runDir(runName);
	const disk = await makeDiskImage({
		contentDir: path.join(configsDir, 'disk'),
		cacheDir: session.cacheDir,
		sizeMb: 32,
		runDir,
	});
	const ourQmp = path.join(runDir, 'test-qmp.sock');
	const vm = await session.boot({
		extraArgs: [
			'-drive',
			`file=${disk.path},format=raw,if=none,id=disk0`,
			'-device',
			'virtio-blk-pci,drive=disk0,id=vblk0,ioeventfd=off,indirect_desc=off',
			'-qmp',
			`unix:${ourQmp},server=on,wait=off`,
		],
	});
	await vm.console.expect(shellPrompt, {what: 'the prompt', timeoutMs: 60_000, since: 0});
	await session.panel!.ready;
	const qmp = await QmpClient.connect({socketPath: ourQmp, timeoutMs: 15_000});
	t.teardown(() => qmp.close());
	return {
		vm,
		qmp,
		traceState: async () =>
			(await qmp.execute<{state: string}[]>('trace-event-get-state', {name: 'virtio_queue_notify'}))[0]?.state,
		sh: async (command, timeoutMs = 60_000) => {
			const {output, status} = await vm.checks.run(command, {timeoutMs});
			if (status !== 0) throw new Error(`${command}: ${output}`);
			return output;
		},
		traceLog: path.join(vm.runDir, 'virtio-trace.log'),
	};
}
