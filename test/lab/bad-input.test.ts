import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {ensureKernel, listFragments} from '../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../source/lab/build/kernel-source.js';
import {ensureRootfs} from '../../source/lab/build/rootfs.js';
import {chooseAccel} from '../../source/lab/host/accel.js';
import {LabError} from '../../source/lab/lab-error.js';
import {cacheRoot, configsDir, projectRoot} from '../../source/lab/paths.js';
import {QemuVm} from '../../source/lab/vm/qemu-vm.js';
import {shellPrompt} from '../../source/expedition/shell.js';
import {startCli} from '../helpers/cli.js';
import {isAlive, waitUntil} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

test('a KERNEL_SRC that is not a kernel tree fails the kernel step and says what is missing', async t => {
	const notKernel = tempDir(t);
	fs.writeFileSync(path.join(notKernel, 'Makefile'), 'all:\n');
	const run = startCli(['run', 'boot', '--json'], {
		KERNEL_SRC: notKernel,
		KERNELCRAFT_STATE: path.join(notKernel, 'p.json'),
	});
	t.is(await run.exit, 1);
	const failed = run.lines.map(line => JSON.parse(line)).find(event => event.type === 'failed');
	t.is(failed.step, 'kernel');
	t.regex(
		failed.failure.what,
		new RegExp(`${notKernel} , which is not a Linux kernel tree: it has no Kconfig`.replace(' ,', ',')),
	);
	const summary = JSON.parse(run.lines.at(-1)!);
	t.false(summary.ok);
});

test('a KERNEL_SRC that does not exist is named', async t => {
	const error = await t.throwsAsync(resolveKernelSource({given: '/nonexistent/linux', cacheDir: tempDir(t)}), {
		instanceOf: LabError,
	});
	t.regex(error!.message, /\/nonexistent\/linux, which does not exist/);
});

test('a fragment option that does not exist is named, with where it was asked for', async t => {
	const source = await resolveKernelSource({cacheDir: cacheRoot()});
	const fragments = tempDir(t);
	for (const fragment of listFragments(path.join(configsDir, 'kernel')))
		fs.copyFileSync(fragment, path.join(fragments, path.basename(fragment)));
	fs.writeFileSync(path.join(fragments, '90-typo.config'), '# a typo on purpose\nCONFIG_VIRTIO_BLKK=y\n');
	const error = await t.throwsAsync(ensureKernel({source, fragments: listFragments(fragments), cacheDir: tempDir(t)}), {
		instanceOf: LabError,
	});
	t.regex(error!.message, /1 kernel config option was asked for but not set/);
	t.is(error!.failure.lastSeen?.length, 1);
	t.regex(
		error!.failure.lastSeen![0]!,
		/CONFIG_VIRTIO_BLKK=y asked for in .*90-typo\.config:2, but it is not set \(no such option/,
	);
});

test('a guest that never prints the prompt times out, saying what it last printed', async t => {
	const source = await resolveKernelSource({cacheDir: cacheRoot()});
	const kernel = await ensureKernel({
		source,
		fragments: listFragments(path.join(configsDir, 'kernel')),
		cacheDir: cacheRoot(),
	});
	const scratch = tempDir(t);
	const rootfs = ensureRootfs({
		kernelBuildDir: kernel.buildDir,
		cacheDir: scratch,
		init: path.join(projectRoot, 'test/fixtures/init-without-shell'),
	});
	const vm = QemuVm.start(
		{
			qemu: '/usr/bin/qemu-system-x86_64',
			kernel: kernel.bzImage,
			initrd: rootfs.path,
			accel: await chooseAccel('/usr/bin/qemu-system-x86_64'),
			runDir: path.join(scratch, 'run'),
		},
		() => {},
	);
	t.teardown(() => vm.stop());
	const error = await t.throwsAsync(
		vm.console.expect(shellPrompt, {what: 'the shell prompt on ttyS0', timeoutMs: 8000, since: 0}),
		{instanceOf: LabError},
	);
	t.is(error!.message, 'Timed out after 8 s waiting for the shell prompt on ttyS0.');
	t.true(error!.failure.lastSeen!.some(line => line.includes('fixture: this init never starts a shell')));
	t.regex(error!.failure.logPath!, /console\.log$/);
	await vm.stop();
	t.true(await waitUntil(() => !isAlive(vm.pid), 5000));
});
