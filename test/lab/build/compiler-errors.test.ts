import test from 'ava';
import {formatCompilerError, parseCompilerErrors} from '../../../source/lab/build/compiler-errors.js';

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
