import test from 'ava';
import {shellPrompt} from '../../../source/expedition/shell.js';
import type {LabEvent} from '../../../source/lab/lab-events.js';
import {cacheRoot} from '../../../source/lab/paths.js';
import {Session} from '../../../source/lab/session.js';
import {GuestFrameReader, maxFrameLines} from '../../../source/lab/virtio/guest-stats.js';
import {maxLineChars} from '../../../source/lab/vm/guest-text-stream.js';

test.serial(
	'a guest printing 2 MB without a newline: the console hands it on in bounded pieces, and the host stays responsive',
	async t => {
		const lines: string[] = [];
		const session = new Session({cacheDir: cacheRoot(), panel: false}, (event: LabEvent) => {
			if (event.type === 'console-line') lines.push(event.line);
		});
		t.teardown(() => session.dispose());
		await session.buildKernel('test', new AbortController().signal);
		session.packRootfs();
		const vm = await session.boot();
		await vm.console.expect(shellPrompt, {what: 'the shell prompt', timeoutMs: 120_000, since: 0});
		const from = lines.length;
		// Kernel messages stay off the console (dmesg -n 1): the flood is all that comes.
		// The host's event loop must keep up while it comes: the gap between timer ticks stays short.
		let worstGapMs = 0;
		let last = Date.now();
		const ticker = setInterval(() => {
			worstGapMs = Math.max(worstGapMs, Date.now() - last);
			last = Date.now();
		}, 20);
		const since = vm.console.offset;
		const size = 2_000_000;
		const {status} = await vm.checks.run(
			`dmesg -n 1; (printf 'flood:'; head -c ${size} /dev/zero | tr '\\0' x; echo ' end-of-flood') > /dev/console`,
			{timeoutMs: 300_000},
		);
		t.is(status, 0);
		await vm.console.expect(/end-of-flood/, {what: 'the end of the flood', timeoutMs: 60_000, since});
		clearInterval(ticker);
		const after = lines.slice(from);
		const first = after.findIndex(line => line.includes('flood:'));
		const end = after.findIndex(line => line.includes('end-of-flood'));
		t.true(first >= 0 && end > first, `the flood's first and last pieces (${first}, ${end})`);
		const flood = after.slice(first, end + 1);
		t.true(
			flood.every(line => line.length <= maxLineChars),
			`no piece longer than the bound: ${flood.map(line => line.length).join(' ')}`,
		);
		const text = flood.join('');
		const body = text.slice(text.indexOf('flood:') + 'flood:'.length, text.lastIndexOf(' end-of-flood'));
		// Compared by count and content, not printed whole when it differs: it is 2 MB.
		t.is(body.replace(/x/g, ''), '', 'nothing but the flood in it');
		t.is(body.length, size, 'every byte handed on, none twice');
		t.log(`${flood.length} pieces, the event loop's worst gap ${worstGapMs} ms`);
		t.true(worstGapMs < 1000, `the event loop stalled for ${worstGapMs} ms`);
	},
);

test('side channel: a frame that never ends is dropped at its bound, and the next frame is read', t => {
	const views: unknown[] = [];
	const reader = new GuestFrameReader(view => views.push(view));
	reader.push('kc-side begin\n');
	for (let i = 0; i < maxFrameLines + 100; i++) reader.push(`garbage ${i}\n`);
	t.is(reader.dropped, 1);
	t.is(views.length, 0);
	// A line that never ends is dropped too, whatever its size.
	reader.push('kc-side begin\n' + 'y'.repeat(10_000));
	t.is(reader.dropped, 2);
	reader.push('z'.repeat(10_000) + '\nkc-side begin\nkc-side end\n');
	t.is(views.length, 1, 'a well-formed frame after them is read');
});
