#!/usr/bin/env node
// The lesson files are read and checked against the steps' code when the expedition is first
// imported: a broken one is reported by file and line, not as a stack trace.
try {
	const {main} = await import('./cli/main.js');
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	if ((error as Error)?.name !== 'ContentError') throw error;
	process.stderr.write(`kernelcraft: a lesson file does not match its milestone: ${(error as Error).message}\n`);
	process.exitCode = 2;
}
