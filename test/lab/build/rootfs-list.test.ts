import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {ensureKernel, listFragments} from '../../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {cpioList, ensureRootfs} from '../../../source/lab/build/rootfs.js';
import {cacheRoot, configsDir} from '../../../source/lab/paths.js';
import {tempDir} from '../../helpers/temp.js';

test('the cpio list has init, busybox, a console node, and parents before extras', t => {
	const list = cpioList('/bin/busybox', '/x/init', [
		{guestPath: '/lib/modules/6.1.192/extra/hello.ko', hostPath: '/b/hello.ko'},
	]).split('\n');
	t.true(list.includes('file /init /x/init 755 0 0'));
	t.true(list.includes('file /bin/busybox /bin/busybox 755 0 0'));
	t.true(list.includes('nod /dev/console 600 0 0 c 5 1'));
	const module = list.indexOf('file /lib/modules/6.1.192/extra/hello.ko /b/hello.ko 644 0 0');
	const parent = list.indexOf('dir /lib/modules/6.1.192/extra 755 0 0');
	t.true(parent >= 0 && parent < module);
});

/** The files of a newc cpio archive (gen_init_cpio's format), by name. */
function cpioFiles(archive: Buffer): Map<string, Buffer> {
	const files = new Map<string, Buffer>();
	const pad = (n: number) => (n + 3) & ~3;
	let at = 0;
	while (at + 110 <= archive.length) {
		const field = (i: number) => parseInt(archive.subarray(at + 6 + i * 8, at + 14 + i * 8).toString('ascii'), 16);
		const size = field(6);
		const nameSize = field(11);
		const name = archive.subarray(at + 110, at + 110 + nameSize - 1).toString('utf8');
		if (name === 'TRAILER!!!') break;
		const dataAt = pad(at + 110 + nameSize);
		files.set(name, archive.subarray(dataAt, dataAt + size));
		at = pad(dataAt + size);
	}
	return files;
}

test('a host path with spaces in it is packed whole, as the guest file it names', async t => {
	const source = await resolveKernelSource({cacheDir: cacheRoot()});
	const kernel = await ensureKernel({
		source,
		fragments: listFragments(path.join(configsDir, 'kernel')),
		cacheDir: cacheRoot(),
	});
	const dir = path.join(tempDir(t), 'My Projects', 'jane doe');
	fs.mkdirSync(dir, {recursive: true});
	const hostPath = path.join(dir, 'hello world.ko');
	fs.writeFileSync(hostPath, 'a module, with spaces around it');
	const rootfs = ensureRootfs({
		kernelBuildDir: kernel.buildDir,
		cacheDir: tempDir(t),
		extras: [{guestPath: '/lib/modules/extra/hello.ko', hostPath}],
	});
	const files = cpioFiles(fs.readFileSync(rootfs.path));
	t.is(files.get('lib/modules/extra/hello.ko')?.toString('utf8'), 'a module, with spaces around it');
	t.true(files.has('init'));
	t.false(
		fs
			.readdirSync(os.tmpdir())
			.some(
				name => name.startsWith('kernelcraft-cpio-') && fs.existsSync(path.join(os.tmpdir(), name, '0-hello_world.ko')),
			),
		'the staging links are gone',
	);
});
