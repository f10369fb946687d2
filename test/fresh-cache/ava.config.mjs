// The first phase of `npm test`: tests that need kernelcraft's cache as a new machine has it
// (empty), run on their own before the rest of the suite fills it. Same settings as package.json's.
import fs from 'node:fs';

const shared = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).ava;

export default {
	...shared,
	files: ['test/fresh-cache/**/*.test.ts'],
	concurrency: 1,
	// A cold kernel build on the slowest machine tried took 7.4 minutes: room for it and the boots.
	timeout: '20m',
};
