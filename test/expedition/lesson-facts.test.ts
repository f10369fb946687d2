import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {lessonFileOf, lessons} from '../../source/expedition/compose.js';
import {exercises} from '../../source/expedition/exercises.js';
import {factsOf, type LessonFact} from '../../source/expedition/lesson-facts.js';
import {expeditionFor} from '../../source/expedition/milestones.js';
import {resolveKernelSource} from '../../source/lab/build/kernel-source.js';
import {ensureQemuSource} from '../../source/lab/build/qemu-source.js';
import {cacheRoot, projectRoot} from '../../source/lab/paths.js';
import {definesFunction, indexTree, type SourceIndex} from '../helpers/source-index.js';

// Every name a lesson states is checked against the trees it comes from: Linux 6.1 (Debian's
// linux-source-6.1, unpacked through kernelcraft's cache), QEMU 7.2 (Debian's source package,
// fetched by setup) and this repository. A lesson that names a function that does not exist, a
// file that moved or a macro misspelt fails here.

/** Every text a learner reads, by milestone: lessons, tasks, hints, solutions, predictions, named texts, TODOs. */
function lessonTexts(): Array<{where: string; text: string}> {
	const texts: Array<{where: string; text: string}> = [];
	for (const milestone of expeditionFor({debug: true})) {
		const add = (where: string, text: string | undefined) =>
			text && texts.push({where: `${milestone.id}/${where}`, text});
		add('summary', milestone.summary);
		for (const step of milestone.steps) {
			add(step.id, step.lesson);
			add(`${step.id} task`, step.task?.ask);
			add(`${step.id} question`, step.predict?.question);
			add(`${step.id} why`, step.predict?.why);
			step.hints?.forEach((hint, i) => add(`${step.id} hint ${i + 1}`, hint));
			add(`${step.id} solution`, step.solution);
		}
		// Exercise texts are checked below, as the TODOs they are.
		for (const [name, {text}] of lessons(lessonFileOf(milestone.id)).texts)
			if (!name.startsWith('exercise-')) add(`texts/${name}`, text);
	}
	for (const exercise of exercises)
		for (const todo of exercise.todos) {
			texts.push({where: `${exercise.id} TODO ${todo.n}`, text: todo.text});
			todo.hints.forEach((hint, i) => texts.push({where: `${exercise.id} TODO ${todo.n} hint ${i + 1}`, text: hint}));
		}
	// The device's contract is read as a lesson too (the virtio-hello milestone points at it).
	const contract = fs.readFileSync(path.join(projectRoot, 'docs', 'virtio-hello.md'), 'utf8');
	contract.split('\n').forEach((line, i) => texts.push({where: `docs/virtio-hello.md:${i + 1}`, text: line}));
	return texts;
}

/**
 * Files the contract names that exist only in the QEMU work tree kernelcraft builds: the QEMU
 * build (devices/qemu-build.sh) writes them there, from devices/.
 */
const madeByTheBuild = new Set([
	'configs/devices/x86_64-softmmu/kernelcraft.mak',
	'include/standard-headers/linux/virtio_hello.h',
]);

/** The virtio 1.2 sections a lesson may cite: number and title, from the specification's contents. */
function specSections(): Map<string, string> {
	const file = path.join(projectRoot, 'test', 'fixtures', 'virtio-1.2-sections.txt');
	const sections = new Map<string, string>();
	for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
		const match = /^(\d+(?:\.\d+)*)\s+(.+)$/.exec(line);
		if (match) sections.set(match[1]!, match[2]!);
	}
	return sections;
}

interface Trees {
	repo: SourceIndex;
	kernel: SourceIndex;
	qemu: SourceIndex;
	/** glib's headers (libglib2.0-dev, which QEMU builds against): g_assert_not_reached and the like. */
	glib: SourceIndex;
}

/** The device status bits by the names the spec gives them (virtio 1.2 §2.1), which code spells VIRTIO_CONFIG_S_*. */
const specStatusNames = new Set(['ACKNOWLEDGE', 'DRIVER', 'FAILED', 'FEATURES_OK', 'DRIVER_OK', 'DEVICE_NEEDS_RESET']);

let treesOnce: Promise<Trees> | undefined;
function trees(): Promise<Trees> {
	treesOnce ??= (async () => {
		const cacheDir = cacheRoot();
		const kernel = await resolveKernelSource({cacheDir});
		const qemu = await ensureQemuSource({cacheDir});
		return {
			repo: indexTree(projectRoot, ['drivers', 'devices']),
			kernel: indexTree(kernel.dir, [
				'drivers/virtio',
				'drivers/block',
				'drivers/pci',
				'include',
				'kernel',
				'lib',
				'mm',
				'arch/x86/include',
			]),
			qemu: indexTree(qemu.dir, ['hw/virtio', 'hw/block', 'hw/pci', 'include', 'util', 'softmmu', 'block', 'hw/core']),
			glib: indexTree('/usr/include/glib-2.0'),
		};
	})();
	return treesOnce;
}

/** What is wrong with one fact, or undefined when the trees bear it out. */
function problemWith(fact: LessonFact, t: Trees, sections: Map<string, string>): string | undefined {
	const all = [t.repo, t.kernel, t.qemu, t.glib];
	switch (fact.kind) {
		case 'file': {
			if (madeByTheBuild.has(fact.path)) return undefined;
			// A path as an #include names it (linux/types.h) is found under an include folder.
			const under = (index: SourceIndex) => [...index.files].some(file => file.endsWith(`/${fact.path}`));
			const found = fact.path.includes('/')
				? all.some(index => index.files.has(fact.path) || index.files.has(`${fact.path}/`) || under(index))
				: all.some(index => index.fileNames.has(fact.path));
			return found ? undefined : `no file ${fact.path} in this repository, Linux 6.1 or QEMU 7.2`;
		}
		case 'defined-in': {
			const index = all.find(index => index.files.has(fact.path));
			if (!index) return `no file ${fact.path}`;
			return definesFunction(index, fact.path, fact.name) ? undefined : `${fact.path} defines no ${fact.name}()`;
		}
		case 'function':
			return all.some(index => index.defined.has(fact.name))
				? undefined
				: `no function or macro ${fact.name}() in this repository, Linux 6.1 or QEMU 7.2`;
		case 'constant': {
			if (specStatusNames.has(fact.name)) return undefined;
			const named = (index: SourceIndex) =>
				index.defined.has(fact.name) || [...index.defined].some(name => name.endsWith(`_${fact.name}`));
			return all.some(named) ? undefined : `no macro or constant ${fact.name} (or *_${fact.name})`;
		}
		case 'spec':
			return sections.has(fact.section) ? undefined : `virtio 1.2 has no section ${fact.section}`;
		case 'pci-id':
			// Checked against the guest's PCI bus by the milestone's VM test (lesson-pci-ids).
			return undefined;
	}
}

function problemsIn(texts: Array<{where: string; text: string}>, t: Trees, sections: Map<string, string>): string[] {
	return texts.flatMap(({where, text}) =>
		factsOf(text)
			.map(fact => problemWith(fact, t, sections))
			.filter((problem): problem is string => problem !== undefined)
			.map(problem => `${where}: ${problem}`),
	);
}

test('every file, function, macro and spec section a lesson names is in the real trees', async t => {
	const indexed = await trees();
	const texts = lessonTexts();
	const facts = texts.flatMap(({text}) => factsOf(text));
	t.true(facts.filter(fact => fact.kind === 'function').length >= 20, 'the lessons name functions');
	t.true(facts.filter(fact => fact.kind === 'file').length >= 10, 'and files');
	t.deepEqual(problemsIn(texts, indexed, specSections()), []);
});

test('the facts check fails on a wrong name of each kind', async t => {
	const indexed = await trees();
	const wrong = [
		'The core calls virtio_hello_probe() and vh_probe().',
		'QEMU (hw/virtio/virtio.c: virtio_blk_handle_request) and hw/virtio/virtio-nope.c.',
		'The flag VIRTIO_RING_F_NO_SUCH_FEATURE.',
		'The rule of §2.7.99.',
	].map(text => ({where: 'made up', text}));
	t.deepEqual(problemsIn(wrong, indexed, specSections()), [
		'made up: no function or macro virtio_hello_probe() in this repository, Linux 6.1 or QEMU 7.2',
		'made up: hw/virtio/virtio.c defines no virtio_blk_handle_request()',
		'made up: no file hw/virtio/virtio-nope.c in this repository, Linux 6.1 or QEMU 7.2',
		'made up: no macro or constant VIRTIO_RING_F_NO_SUCH_FEATURE (or *_VIRTIO_RING_F_NO_SUCH_FEATURE)',
		'made up: virtio 1.2 has no section 2.7.99',
	]);
});

test('facts are read from the text as written', t => {
	t.deepEqual(factsOf('QEMU (hw/virtio/virtio.c: virtqueue_pop) calls vh_queue() on 1af4:1001, §4.1.2.1.'), [
		{kind: 'defined-in', path: 'hw/virtio/virtio.c', name: 'virtqueue_pop'},
		{kind: 'file', path: 'hw/virtio/virtio.c'},
		{kind: 'function', name: 'vh_queue'},
		{kind: 'pci-id', vendor: '1af4', device: '1001'},
		{kind: 'spec', section: '4.1.2.1'},
	]);
});
