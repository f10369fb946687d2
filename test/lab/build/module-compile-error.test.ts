// A real module build against kernelcraft's kernel: a learner's hello.c with a missing `;`.
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {ensureKernel, listFragments} from '../../../source/lab/build/kernel.js';
import {resolveKernelSource} from '../../../source/lab/build/kernel-source.js';
import {buildKernelModule} from '../../../source/lab/build/kernel-module.js';
import {LabError} from '../../../source/lab/lab-error.js';
import {cacheRoot, configsDir, projectRoot} from '../../../source/lab/paths.js';
import {tempDir} from '../../helpers/temp.js';

/** The kernel the milestones boot (from the cache) and a learner's hello folder outside the repository. */
async function kernelAndLearner(t: Parameters<typeof tempDir>[0]) {
	const kernel = await ensureKernel({
		source: await resolveKernelSource({cacheDir: cacheRoot()}),
		fragments: listFragments(path.join(configsDir, 'kernel')),
		cacheDir: cacheRoot(),
	});
	const dir = tempDir(t);
	// The learner's copy, as the exercise workspace keeps it.
	const learner = path.join(dir, 'ws', 'hello');
	fs.mkdirSync(learner, {recursive: true});
	fs.copyFileSync(path.join(projectRoot, 'drivers/hello/Kbuild'), path.join(learner, 'Kbuild'));
	const reference = fs.readFileSync(path.join(projectRoot, 'drivers/hello/hello.c'), 'utf8').split('\n');
	/** Writes the reference with line `from` replaced by `to`; returns that line's index. */
	const writeWith = (from: string, to: string) => {
		const at = reference.findIndex(line => line.trim() === from);
		t.true(at >= 0, from);
		fs.writeFileSync(
			path.join(learner, 'hello.c'),
			reference.map((line, index) => (index === at ? to : line)).join('\n'),
		);
		return at;
	};
	return {kernel, dir, learner, writeWith};
}

test("a missing ';' after module_param is shown at the learner's own hello.c line, with the full log kept", async t => {
	const {kernel, dir, learner, writeWith} = await kernelAndLearner(t);
	const at = writeWith('module_param(times, int, 0644);', 'module_param(times, int, 0644)');

	const error = await t.throwsAsync(buildKernelModule({srcDir: learner, kernel, cacheDir: path.join(dir, 'cache')}), {
		instanceOf: LabError,
	});
	const failure = (error as LabError).failure;
	const file = path.join(learner, 'hello.c');
	// gcc's own first line is in the kernel's moduleparam.h; the learner's line is the macro's use
	// right after the missing ';' (MODULE_PARM_DESC), or the module_param line itself.
	const line = Number(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+): `).exec(failure.what)?.[1]);
	t.true(line === at + 1 || line === at + 2, failure.what);
	t.notRegex(failure.what, /moduleparam\.h|scratch/);
	for (const seen of failure.lastSeen ?? []) t.notRegex(seen, /moduleparam\.h|\.scratch-/, seen);
	// The full log stays where the failure says, with gcc's whole story in it.
	t.truthy(failure.logPath);
	const log = fs.readFileSync(failure.logPath!, 'utf8');
	t.regex(log, /moduleparam\.h:\d+:\d+: error:/);
	t.regex(log, /in expansion of macro/);
});

test("a warning gcc gives inside the kernel's printk macros is shown at the learner's pr_info line", async t => {
	const {kernel, dir, learner, writeWith} = await kernelAndLearner(t);
	const at = writeWith('pr_info("hello: Goodbye, %s.\\n", whom);', '\tpr_info("hello: Goodbye, %s.\\n", times);');
	const lines: string[] = [];
	const build = await buildKernelModule({
		srcDir: learner,
		kernel,
		cacheDir: path.join(dir, 'cache'),
		onLine: line => lines.push(line),
	});
	t.truthy(build.modules.hello, 'a warning does not stop the build');
	// make's own output names the kernel header first, the learner's line only in a note.
	t.true(lines.some(line => /kern_levels\.h:\d+:\d+: warning: format/.test(line)));
	t.true(
		lines.includes(
			`${path.join(learner, 'hello.c')}:${at + 1}: warning: format ‘%s’ expects argument of type ‘char *’, but argument 2 has type ‘int’ [-Wformat=]`,
		),
		lines.slice(-4).join('\n'),
	);
});
