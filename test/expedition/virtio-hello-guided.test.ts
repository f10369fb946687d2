import path from 'node:path';
import test from 'ava';
import {findExercise} from '../../source/expedition/exercises.js';
import {exerciseCopy, withOpen} from '../helpers/exercise-copies.js';
import {guidedRun, stepEnds, taskAsked} from '../helpers/guided-run.js';
import {tempDir} from '../helpers/temp.js';

// The guided greeting ends in the same check as `run`'s: a learner whose used index moves for a
// request the driver never completes (its TODO 3 open) does not get the tick, and is told where
// the request stopped, at the TODO. Real QEMU with the device, the learner's driver, a real guest.

const driver = findExercise('virtio-driver')!;

test.serial("guided greet with the driver's completion left out fails at TODO 3, not with a tick", async t => {
	const dir = exerciseCopy(driver, path.join(tempDir(t), 'virtio-driver'), {
		'virtio_hello_core.c': withOpen(driver, 'virtio_hello_core.c', [3]),
	});
	const run = guidedRun(t, 'virtio-hello', {'virtio-driver': dir});
	await taskAsked(t, run, 'probe');
	run.type('insmod /lib/modules/$(uname -r)/extra/virtio_hello.ko');
	await taskAsked(t, run, 'greet');
	// The learner's own greeting: the device answers it (the used index moves), the driver never
	// takes it back, so their hello-client waits in the console.
	run.type('hello-client greet Grace &');
	t.is(await stepEnds(run, 'greet'), 'failed', 'the greet step failed, and never ticked');
	const failed = run.failure('greet');
	t.regex(
		failed!.failure.what,
		/virtio_hello_core\.c:\d+: TODO 3: .*never completed a request: its interrupt callback takes no answer back/,
	);
});
