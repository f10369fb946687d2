import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {projectRoot} from '../../source/lab/paths.js';
import type {RunEvent} from '../../source/runner/events.js';
import {initialUiState, reduceUi} from '../../source/ui/state.js';
import {startCli} from '../helpers/cli.js';
import {isAlive} from '../helpers/processes.js';
import {tempDir} from '../helpers/temp.js';

const events = (lines: string[]) => lines.map(line => JSON.parse(line) as Record<string, unknown>);

test.serial('run hello-module --json: build, boot, insmod with parameters, dmesg, sysfs, rmmod', async t => {
	const run = startCli(['run', 'hello-module', '--json', '--module-params', 'whom=Grace times=3'], {
		KERNELCRAFT_STATE: path.join(tempDir(t), 'p.json'),
	});
	t.is(await run.exit, 0, run.lines.filter(line => line.includes('"failed"')).join('\n') + run.stderr.join(''));
	const all = events(run.lines);
	const summary = all.at(-1)!;
	t.true(summary.ok);
	t.regex(String(summary.vermagic), /^6\.1\.\d+ SMP mod_unload/);
	const details = Object.fromEntries(
		(summary.steps as {name: string; detail: string}[]).map(step => [step.name, step.detail]),
	);
	// Not the steps' own words: what the guest kernel printed on the serial console, as it printed it.
	const console = all.filter(event => event.type === 'console-line').map(event => String(event.line));
	t.is(console.filter(line => /\] hello: Hello, Grace!$/.test(line)).length, 3, 'the module greeted 3 times (times=3)');
	t.is(console.filter(line => /\] hello: Goodbye, Grace\.$/.test(line)).length, 1, 'and said goodbye once on rmmod');
	t.regex(details.sysfs!, /whom=Grace, times=3/);
	t.regex(details.rmmod!, /\/sys\/module\/hello is gone/);
	t.regex(details.modinfo!, /licence GPL, 2 parameters/);
	t.false(isAlive(all.find(event => event.type === 'vm-started')!.pid as number));
});

test.serial(
	'a compile error reads as file:line: message with the source line, in --json and in the TUI state',
	async t => {
		const module = tempDir(t);
		for (const file of ['hello.c', 'Kbuild'])
			fs.copyFileSync(path.join(projectRoot, 'test/fixtures/broken-module', file), path.join(module, file));
		const run = startCli(['run', 'hello-module', '--json', '--module-src', module], {
			KERNELCRAFT_STATE: path.join(module, 'p.json'),
		});
		t.is(await run.exit, 1);
		const all = events(run.lines);
		const failed = all.find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
		t.is(failed.step, 'module');
		const lastSeen = failed.failure.lastSeen ?? [];
		// gcc quotes with ‘’ in a UTF-8 locale and '' in C.
		const at = lastSeen.findIndex(
			line => line.startsWith(`${module}/hello.c:8: expected `) && /expected .;. before .return./.test(line),
		);
		t.true(at >= 0, lastSeen.join('\n'));
		t.regex(lastSeen[at + 1] ?? '', /^\s+\d+ \| /, 'the source line follows the message');
		t.regex(failed.failure.logPath ?? '', /build\.log$/);
		// The same events, reduced as the TUI does, leave the failure on the module step.
		let state = initialUiState([{id: 'hello-module'}]);
		for (const event of all) if (event.type) state = reduceUi(state, event as unknown as RunEvent);
		const step = state.steps.find(candidate => candidate.name === 'module');
		t.is(step?.status, 'failed');
		t.true(step?.failure?.lastSeen?.some(line => /hello\.c:8: expected .;. before .return./.test(line)));
	},
);

test.serial('an insmod the module refuses fails with the dmesg line that says why', async t => {
	const run = startCli(['run', 'hello-module', '--json', '--module-params', 'times=99'], {
		KERNELCRAFT_STATE: path.join(tempDir(t), 'p.json'),
	});
	t.is(await run.exit, 1);
	const failed = events(run.lines).find(event => event.type === 'failed') as Extract<RunEvent, {type: 'failed'}>;
	t.is(failed.step, 'insmod');
	t.regex(failed.failure.what, /insmod failed \(status \d+\): .*Invalid argument/);
	t.true(
		failed.failure.lastSeen!.some(line => line.includes('hello: times=99 is out of range (1-10)')),
		failed.failure.lastSeen!.join('\n'),
	);
});
