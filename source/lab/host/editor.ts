import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** $VISUAL, $EDITOR, then Debian's `editor` alternative, nano and vi, whichever exists first. */
export function pickEditor(env: NodeJS.ProcessEnv = process.env): string {
	const chosen = env.VISUAL || env.EDITOR;
	if (chosen) return chosen;
	return (
		['/usr/bin/editor', '/usr/bin/nano', '/usr/bin/vi', '/bin/vi'].find(candidate => fs.existsSync(candidate)) ?? 'vi'
	);
}

/** The program an editor command runs: `code` for "code --wait", `vim` for "/usr/bin/vim -u NONE". */
function programOf(editor: string): string {
	const first = /^\s*(?:"([^"]+)"|'([^']+)'|(\S+))/.exec(editor);
	return path.basename(first?.[1] ?? first?.[2] ?? first?.[3] ?? editor);
}

/**
 * The editor's arguments to open `file` at `line`. vi, vim, nano and emacs (and Debian's `editor`
 * alternative, one of them) take +LINE before the file; VS Code and its kin take --goto FILE:LINE.
 */
export function editorArgs(editor: string, target: {file: string; line?: number}): string[] {
	if (target.line === undefined) return [target.file];
	if (/^(code|codium|code-insiders|cursor)$/.test(programOf(editor)))
		return ['--goto', `${target.file}:${target.line}`];
	return [`+${target.line}`, target.file];
}

/**
 * Runs the learner's editor in this terminal and resolves when it exits. The command is a shell
 * command, as git and crontab treat $EDITOR ("code --wait", a path with spaces in quotes), with
 * the file's arguments passed to it whole. Asynchronous, unlike spawnSync: while the learner
 * edits, this process goes on draining a background build's output, which would otherwise fill
 * its pipe and stall the build.
 */
export function runEditor(editor: string, args: string[]): Promise<{code: number | null; error?: Error}> {
	return new Promise(resolve => {
		// Nothing here may read the terminal while the editor owns it.
		process.stdin.pause();
		const child = spawn('/bin/sh', ['-c', `${editor} "$@"`, 'editor', ...args], {stdio: 'inherit'});
		child.on('error', error => resolve({code: null, error}));
		child.on('exit', code => resolve({code}));
	});
}
