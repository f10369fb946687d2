import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {ensureKernel, listFragments} from '../../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {sameProgram} from '../../../source/lab/build/objtool-keep.js';
import {cacheRoot, configsDir} from '../../../source/lab/paths.js';
import {tempDir} from '../../helpers/temp.js';

// A build copied from the nearest one, in which tools/' build system decides to rebuild objtool
// (as it did in CI): the rebuilt objtool is the same program, so the kernel's objects are not
// compiled again for it. Real builds: the learner's kernel, copied into a cache of the test's own.

/** Kbuild's compile lines for kernel objects (objtool's own name their absolute path). */
function kernelCompiles(log: string): string[] {
	return log.split('\n').filter(line => /^\s+(CC|AS)\s+[^/\s]/.test(line));
}

test.serial(
	'objtool rebuilt in a copied build to the same program: no kernel object is compiled again for it',
	async t => {
		const source = await resolveKernelSource({cacheDir: cacheRoot()});
		const fragments = listFragments(path.join(configsDir, 'kernel'));
		const first = await ensureKernel({source, fragments, cacheDir: cacheRoot()});
		if (!fs.existsSync(path.join(first.buildDir, 'tools/objtool/objtool')))
			return t.fail('this kernel configuration builds no objtool: nothing to test');
		// The learner's build, as the nearest build of a cache of this test's own.
		const cache = tempDir(t);
		fs.mkdirSync(path.join(cache, 'kernel'));
		execFileSync('cp', ['-a', '--reflink=auto', first.buildDir, path.join(cache, 'kernel', first.key)]);
		// Every objtool command as recorded differs from today's by one word: tools/' make then
		// rebuilds all of objtool, from the same sources with the same compiler.
		const objtoolDir = path.join(cache, 'kernel', first.key, 'tools', 'objtool');
		let tampered = 0;
		const walk = (dir: string) => {
			for (const entry of fs.readdirSync(dir, {withFileTypes: true})) {
				const file = path.join(dir, entry.name);
				if (entry.isDirectory()) walk(file);
				else if (entry.name.endsWith('.cmd')) {
					const text = fs.readFileSync(file, 'utf8');
					const changed = text.replace(/^(cmd_\S+ := \S+)/m, '$1 -DKERNELCRAFT_RECORDED');
					if (changed !== text) {
						fs.writeFileSync(file, changed);
						tampered++;
					}
				}
			}
		};
		walk(objtoolDir);
		t.true(tampered > 10, `${tampered} objtool commands changed`);

		const extra = path.join(tempDir(t), '90-ikconfig.config');
		fs.writeFileSync(extra, 'CONFIG_IKCONFIG=y\nCONFIG_IKCONFIG_PROC=y\n');
		const lines: string[] = [];
		const second = await ensureKernel({
			source,
			fragments: [...fragments, extra],
			cacheDir: cache,
			onLine: line => lines.push(line),
		});
		t.true(
			lines.some(line => line.startsWith(`starting from the finished build ${first.key}`)),
			'it started from the copy',
		);
		t.true(
			lines.some(line => line.startsWith('objtool was rebuilt to the same program')),
			lines.filter(line => /objtool/.test(line)).join('\n'),
		);
		const log = fs.readFileSync(second.logPath, 'utf8');
		t.regex(log, /CC\s+\S*tools\/objtool\/check\.o/, 'objtool was really compiled again');
		const compiled = kernelCompiles(log);
		t.true(compiled.length < 40, `${compiled.length} kernel objects compiled:\n${compiled.slice(0, 20).join('\n')}`);
		t.true(fs.existsSync(path.join(second.buildDir, 'kernel/configs.o')), 'what the change touches was compiled');
		t.true(fs.existsSync(second.bzImage));
	},
);

test('sameProgram: one program built twice is the same; another program is not', t => {
	t.true(sameProgram('/bin/true', '/bin/true'));
	t.false(sameProgram('/bin/true', '/bin/false'));
	t.false(sameProgram('/bin/true', '/no/such/file'));
});
