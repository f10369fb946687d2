import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {formatCompilerError, parseCompilerErrors} from '../../../source/lab/build/compiler-errors.js';
import {moduleCompilerErrors} from '../../../source/lab/build/kernel-module.js';

test('gcc errors become file:line: message with the quoted source line, paths relative inside the project', t => {
	const lines = [
		'  CC [M]  /work/p/drivers/hello/hello.o',
		'/work/p/drivers/hello/hello.c: In function ‘hello_init’:',
		'/work/p/drivers/hello/hello.c:8:9: error: expected ‘;’ before ‘return’',
		'    8 |         return 0;',
		'      |         ^~~~~~',
		'/elsewhere/x.c:3:1: fatal error: y.h: No such file or directory',
	];
	const errors = parseCompilerErrors(lines, '/work/p');
	t.deepEqual(errors.map(formatCompilerError), [
		['drivers/hello/hello.c:8: expected ‘;’ before ‘return’', '    8 |         return 0;'],
		['/elsewhere/x.c:3: y.h: No such file or directory'],
	]);
});

/**
 * A module's copy as kernel-module.ts builds it: the learner's folder is copied into a scratch
 * folder and compiled there against headers that are not the learner's. Returns gcc's real
 * output for `file` (compiled with -Wall in the copy) and the folders to map it back.
 */
function compileCopy(files: Record<string, string>, file: string) {
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kernelcraft-cc-'));
	const srcDir = path.join(root, 'ws', 'hello');
	const scratch = path.join(root, 'cache', 'modules', 'k.scratch-1');
	const buildDir = path.join(scratch, 'hello');
	const include = path.join(root, 'kernel', 'include');
	for (const [name, text] of Object.entries(files)) {
		const dir = name.endsWith('.h') ? include : srcDir;
		fs.mkdirSync(dir, {recursive: true});
		fs.writeFileSync(path.join(dir, name), text);
		if (!name.endsWith('.h')) {
			fs.mkdirSync(buildDir, {recursive: true});
			fs.copyFileSync(path.join(srcDir, name), path.join(buildDir, name));
		}
	}
	const gcc = spawnSync('gcc', ['-Wall', `-I${include}`, '-c', path.join(buildDir, file), '-o', '/dev/null'], {
		encoding: 'utf8',
	});
	return {lines: gcc.stderr.split('\n'), copy: {buildDir, srcDir, scratch}};
}

test("an error inside a header's macro is shown at the learner's line that uses the macro, with the learner's path", t => {
	const {lines, copy} = compileCopy(
		{
			'info.h': [
				'#define __INFO(tag, info) \\',
				'\tstatic const char tag##_info[] = info',
				'#define PARAM(name) __INFO(name, #name)',
				'#define DESC(name, d) __INFO(name##_d, d)',
				'',
			].join('\n'),
			'hello.c': [
				'#include <info.h>',
				'static int times = 1;',
				'PARAM(times)',
				'DESC(times, "how many");',
				'int main(void) { return times; }',
				'',
			].join('\n'),
		},
		'hello.c',
	);
	// gcc itself puts the error in the header, and the learner's line only in a note.
	t.true(
		lines.some(line => /info\.h:2:\d+: error:/.test(line)),
		lines.join('\n'),
	);
	t.true(lines.some(line => line.includes(`${copy.buildDir}/hello.c:4:1: note: in expansion of macro`)));
	const errors = moduleCompilerErrors(lines, copy);
	t.is(errors.length, 1);
	t.is(errors[0]!.file, path.join(copy.srcDir, 'hello.c'));
	t.is(errors[0]!.line, 4);
	t.deepEqual(formatCompilerError(errors[0]!), [
		`${path.join(copy.srcDir, 'hello.c')}:4: expected ‘,’ or ‘;’ before ‘static’`,
		'    4 | DESC(times, "how many");',
	]);
	t.false(formatCompilerError(errors[0]!).join('\n').includes(copy.scratch));
	// The warning gcc gives for the same macros is at the learner's line too.
	const warnings = moduleCompilerErrors(lines, copy, {warnings: true}).filter(error => error.severity === 'warning');
	t.deepEqual(
		warnings.map(warning => `${path.basename(warning.file)}:${warning.line}`),
		['hello.c:3'],
	);
	t.true(formatCompilerError(warnings[0]!)[0]!.includes(': warning: '));
});

test("an error in a header reached through an #include chain is shown at the learner's #include line", t => {
	const {lines, copy} = compileCopy(
		{
			'inner.h': 'static int broken(void) { return 0 }\n',
			'outer.h': '#include "inner.h"\n',
			'chain.c': ['#include <stdio.h>', '#include <outer.h>', 'int main(void) { return broken(); }', ''].join('\n'),
		},
		'chain.c',
	);
	t.true(
		lines.some(line => line.startsWith('In file included from')),
		lines.join('\n'),
	);
	t.true(lines.some(line => /inner\.h:1:\d+: error:/.test(line)));
	const errors = moduleCompilerErrors(lines, copy);
	t.deepEqual(
		errors.map(error => [error.file, error.line, error.message]),
		[[path.join(copy.srcDir, 'chain.c'), 2, 'expected ‘;’ before ‘}’ token']],
	);
});

test("without the learner's folder, errors stay where gcc puts them", t => {
	const lines = [
		'In file included from /k/include/linux/module.h:22,',
		'                 from /ws/hello/hello.c:3:',
		'/k/include/linux/moduleparam.h:24:9: error: expected ‘,’ or ‘;’ before ‘static’',
		'/ws/hello/hello.c:28:1: note: in expansion of macro ‘MODULE_PARM_DESC’',
	];
	t.deepEqual(
		parseCompilerErrors(lines).map(error => `${error.file}:${error.line}`),
		['/k/include/linux/moduleparam.h:24'],
	);
	t.deepEqual(
		parseCompilerErrors(lines, undefined, {ownDir: '/ws/hello'}).map(error => `${error.file}:${error.line}`),
		['/ws/hello/hello.c:28'],
	);
});
