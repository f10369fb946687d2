import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {ensureKernel, listFragments} from '../../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {cacheRoot, configsDir} from '../../../source/lab/paths.js';
import {tempDir} from '../../helpers/temp.js';

// A learner's own tree (--kernel-src) is built in place, in a folder that lives across runs: what
// a run cut short leaves there is what the next run starts from.
test('a configure cut short in a --kernel-src build folder is done again, not built as it was left', async t => {
	const debian = await resolveKernelSource({cacheDir: cacheRoot()});
	const source = {...debian, immutable: false, origin: 'given' as const, id: `given:${debian.dir}:${debian.version}`};
	const fragments = listFragments(path.join(configsDir, 'kernel'));
	const cacheDir = tempDir(t);
	const labels: string[] = [];
	// First run: stopped as soon as tinyconfig is written, before the fragments are merged.
	const first = new AbortController();
	const cut = await t.throwsAsync(
		ensureKernel({
			source,
			fragments,
			cacheDir,
			signal: first.signal,
			onLine: line => {
				if (/merge_config|Merging|Using .* as base/.test(line)) first.abort();
			},
		}),
	);
	t.truthy(cut);
	const [buildDir] = fs.readdirSync(path.join(cacheDir, 'kernel')).filter(name => /^[0-9a-f]{16}$/.test(name));
	const config = path.join(cacheDir, 'kernel', buildDir!, '.config');
	t.true(fs.existsSync(config), "tinyconfig's .config is left behind, as a Ctrl-C leaves it");
	t.notRegex(fs.readFileSync(config, 'utf8'), /^CONFIG_SERIAL_8250_CONSOLE=y$/m, 'without the fragments');
	// Second run: it must configure again; stopped once compiling starts (the build is not the point).
	const second = new AbortController();
	await t.throwsAsync(
		ensureKernel({
			source,
			fragments,
			cacheDir,
			signal: second.signal,
			onProgress: (_fraction, label) => {
				labels.push(label);
				if (label.startsWith('compiling')) second.abort();
			},
		}),
	);
	t.true(labels.includes('configuring: tinyconfig + fragments'), labels.join(' | '));
	t.regex(fs.readFileSync(config, 'utf8'), /^CONFIG_SERIAL_8250_CONSOLE=y$/m, "the fragments' console is in");
	t.true(fs.existsSync(path.join(path.dirname(config), '.kernelcraft-configured')));
});
