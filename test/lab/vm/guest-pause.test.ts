import test from 'ava';
import {GuestPause, guestTimeout} from '../../../source/lab/vm/guest-pause.js';
import {GuestTextStream} from '../../../source/lab/vm/guest-text-stream.js';
import {tempDir} from '../../helpers/temp.js';
import path from 'node:path';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test('a guest timeout does not count the time the guest is paused', async t => {
	const pause = new GuestPause();
	let fired = 0;
	guestTimeout(pause, 300, () => fired++);
	await sleep(100);
	pause.set(true);
	await sleep(600);
	t.is(fired, 0, 'paused past the deadline: no timeout');
	pause.set(false);
	await sleep(100);
	t.is(fired, 0, 'only ~200 ms of running so far');
	await sleep(250);
	t.is(fired, 1, 'fires once the guest has run for 300 ms');
});

test('pausedMs adds up every pause, the one going on included', t => {
	const pause = new GuestPause();
	const changes: boolean[] = [];
	pause.onChange(paused => changes.push(paused));
	pause.set(true, 1000);
	pause.set(false, 1500);
	pause.set(true, 2000);
	t.is(pause.pausedMs(2100), 600);
	t.deepEqual(changes, [true, false, true]);
});

test('expect on a paused guest does not time out, and says the wait without the pause', async t => {
	const stream = new GuestTextStream(
		() => {},
		path.join(tempDir(t), 't.log'),
		() => {},
	);
	stream.pause = new GuestPause();
	const waiting = stream.expect(/ready/, {what: 'ready', timeoutMs: 200, quiet: true});
	stream.pause.set(true);
	await sleep(500);
	stream.feed('ready\n');
	t.truthy(await waiting);
});
