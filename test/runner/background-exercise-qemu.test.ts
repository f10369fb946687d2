import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {findExercise} from '../../source/expedition/exercises.js';
import {compilerCacheLogName, readCompilerCacheStats} from '../../source/lab/build/compiler-cache.js';
import {ensureWorkspace} from '../../source/lab/exercise/workspace.js';
import {JobControl} from '../../source/lab/host/job-control.js';
import {cacheRoot} from '../../source/lab/paths.js';
import {qemuBuildWork} from '../../source/runner/background-build.js';
import {tempDir} from '../helpers/temp.js';

// The background QEMU build also prepares the QEMU a learner's device copy is built into, so the
// virtio-hello milestone starts with an incremental build of their file. Real builds, in the
// learner's cache (warm after the first run; cold, the exercise tree's objects come from ccache).

/** The exercise QEMU entries in the cache, newest first. */
function exerciseEntries(): string[] {
	const dir = path.join(cacheRoot(), 'qemu', 'exercise-bin');
	try {
		return fs
			.readdirSync(dir)
			.filter(name => fs.existsSync(path.join(dir, name, 'qemu-system-x86_64')))
			.map(name => path.join(dir, name));
	} catch {
		return [];
	}
}

/** The work trees learner's device QEMU is built in (one per QEMU source; not the -g one). */
function exerciseWorkTrees(): string[] {
	const dir = path.join(cacheRoot(), 'qemu');
	return fs
		.readdirSync(dir)
		.filter(name => /^work-[0-9a-f]+-exercise$/.test(name))
		.map(name => path.join(dir, name));
}

test.serial("after kernelcraft's QEMU, the learner's device QEMU is built in the background too", async t => {
	// A first run's tree: none yet, so it is configured and built whole, from ccache.
	for (const tree of fs.existsSync(path.join(cacheRoot(), 'qemu')) ? exerciseWorkTrees() : [])
		fs.rmSync(tree, {recursive: true, force: true});
	const workspace = tempDir(t);
	const deviceDir = ensureWorkspace(findExercise('virtio-device')!, workspace);
	// A change of the learner's own (a comment) makes their inputs new to the cache.
	fs.appendFileSync(path.join(deviceDir, 'virtio-hello.c'), `\n/* ${Date.now()} */\n`);
	const labels: string[] = [];
	const work = qemuBuildWork({cacheDir: cacheRoot(), exerciseDir: () => deviceDir});
	const said = await work({
		signal: new AbortController().signal,
		control: new JobControl(),
		onProgress: (_fraction, label) => labels.push(label),
	});
	t.regex(said, /^QEMU 7\.2\.\d+ (built|ready), and the one for your device exercise$/);
	t.true(
		labels.some(label => label.startsWith("your device's QEMU")),
		'the header says which build it is',
	);
	t.true(exerciseEntries().length === 1, "the learner's QEMU is in the cache (only the newest is kept)");
	// Its objects come from the ccache kernelcraft's QEMU filled, though its tree is another
	// folder (paths are hashed relative to the cache). What misses: files that include trace
	// headers, which name their trace-events file by its absolute path (about a quarter).
	const [tree] = exerciseWorkTrees();
	const cached = readCompilerCacheStats(path.join(tree!, compilerCacheLogName));
	t.truthy(cached, 'the build ran under ccache');
	t.log(`the exercise tree's build: ${cached!.hits} of ${cached!.hits + cached!.misses} compilations from ccache`);
	t.true(cached!.hits + cached!.misses > 500, 'the whole of QEMU was compiled in the new tree');
	t.true(cached!.hits >= (cached!.hits + cached!.misses) / 2, 'at least half of it from ccache');
});

test.serial(
	"a learner's copy that does not compile is theirs to fix later: the background job still ends well",
	async t => {
		const workspace = tempDir(t);
		const deviceDir = ensureWorkspace(findExercise('virtio-device')!, workspace);
		fs.appendFileSync(path.join(deviceDir, 'virtio-hello.c'), '\nthis is not C;\n');
		const said = await qemuBuildWork({cacheDir: cacheRoot(), exerciseDir: () => deviceDir})({
			signal: new AbortController().signal,
			control: new JobControl(),
			onProgress: () => undefined,
		});
		t.regex(said, /your device exercise does not compile yet/);
	},
);
