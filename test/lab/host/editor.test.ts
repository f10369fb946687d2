import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import {editorArgs, pickEditor, runEditor} from '../../../source/lab/host/editor.js';
import {tempDir} from '../../helpers/temp.js';

test('editorArgs: +LINE for vi and its kin, --goto FILE:LINE for VS Code, whatever the command around them', t => {
	const target = {file: '/ws/hello/hello.c', line: 27};
	t.deepEqual(editorArgs('vim', target), ['+27', '/ws/hello/hello.c']);
	t.deepEqual(editorArgs('/usr/bin/nano', target), ['+27', '/ws/hello/hello.c']);
	t.deepEqual(editorArgs('code --wait', target), ['--goto', '/ws/hello/hello.c:27']);
	t.deepEqual(editorArgs('"/opt/my tools/codium" --wait', target), ['--goto', '/ws/hello/hello.c:27']);
	t.deepEqual(editorArgs('code --wait', {file: '/ws/a.c'}), ['/ws/a.c']);
});

test('pickEditor: VISUAL, then EDITOR, then an editor that exists', t => {
	t.is(pickEditor({VISUAL: 'emacs', EDITOR: 'nano'}), 'emacs');
	t.is(pickEditor({VISUAL: '', EDITOR: 'code --wait'}), 'code --wait');
	t.true(fs.existsSync(pickEditor({})) || pickEditor({}) === 'vi');
});

test('runEditor: a command with an argument and a path with a space, the file passed whole, and the event loop free meanwhile', async t => {
	const dir = tempDir(t);
	const tools = path.join(dir, 'my tools');
	fs.mkdirSync(tools);
	const record = path.join(dir, 'args');
	const script = path.join(tools, 'slow editor.sh');
	// Notes its arguments one per line, then takes a second, as a learner typing would take longer.
	fs.writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\nsleep 1\n`, {mode: 0o755});
	const file = path.join(dir, 'a file with spaces.c');
	let ticks = 0;
	const ticker = setInterval(() => ticks++, 50);
	const result = await runEditor(`"${script}" --wait`, editorArgs('vim', {file, line: 3}));
	clearInterval(ticker);
	t.is(result.code, 0);
	t.deepEqual(fs.readFileSync(record, 'utf8').split('\n'), ['--wait', '+3', file, '']);
	t.true(ticks >= 10, `the event loop ran while the editor did (${ticks} ticks of 50 ms in about a second)`);
});

test('runEditor: an editor that does not exist is exit 127, said by the shell', async t => {
	const result = await runEditor('/nonexistent/editor --wait', ['/tmp/x']);
	t.is(result.code, 127);
});
