import test from 'ava';
import {bootPhases, describeBootPhases, initMarker} from '../../../source/lab/vm/boot-phases.js';

test('the three phases add up to QEMU start → prompt', t => {
	const phases = bootPhases({spawnedAt: 1000, firstByteAt: 1400, initAt: 2000}, 2100);
	t.deepEqual(phases, {firmwareMs: 400, kernelMs: 600, userspaceMs: 100, totalMs: 1100});
	t.is(describeBootPhases(phases!), 'firmware 0.40 s + kernel 0.60 s + userspace 0.10 s');
});

test('a missing or out-of-order mark gives no phases rather than wrong ones', t => {
	t.is(bootPhases({spawnedAt: 1000, firstByteAt: 1400}, 2100), undefined);
	t.is(bootPhases({spawnedAt: 1000, initAt: 1500}, 2100), undefined);
	t.is(bootPhases({spawnedAt: 1000, firstByteAt: 1400, initAt: 2200}, 2100), undefined);
});

test("the init marker is the kernel's own line", t => {
	t.regex('[    0.641564] Run /init as init process', initMarker);
	t.notRegex('kernelcraft: userspace ready', initMarker);
});
