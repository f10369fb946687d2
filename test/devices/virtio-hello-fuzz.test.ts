import {randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import test, {type ExecutionContext} from 'ava';
import {bootRawVm, type RawVm} from '../helpers/raw-vm.js';

// virtio-hello against a hostile guest that draws its moves from a seed: `vh-raw PCIDIR fuzz SEED
// BATCHES` (devices/virtio-hello/test/vh-raw.c) makes random chains available, well-formed ones
// among malformed ones, and writes the device's registers as no driver should, then resets the
// device and goes on. It checks every answer to a well-formed request byte for byte itself and
// prints one summary line; this test checks that QEMU outlives it, grows no memory and still
// answers a plain request afterwards.
//
// The seeds are new on every run and printed in the log. To replay a run:
//   KERNELCRAFT_FUZZ_SEEDS=123,456,789 npx ava test/devices/virtio-hello-fuzz.test.ts
// KERNELCRAFT_FUZZ_BATCHES sets the batches per seed, KERNELCRAFT_FUZZ_TRACE=1 has vh-raw print every
// chain (keep the batches few); KERNELCRAFT_DEVICE_TEST_QEMU runs another
// QEMU binary (one built before a fix).

/** Batches per seed (1-10 chains each): a few seconds each under TCG on 2 cores, 3 seeds and the boot well within 3 min. */
const batches = Number(process.env.KERNELCRAFT_FUZZ_BATCHES ?? 40_000);
/** QEMU's resident memory may grow this much over one seed: its own caches, never per request. */
const rssBoundKib = 16 * 1024;

function seeds(): string[] {
	const fixed = process.env.KERNELCRAFT_FUZZ_SEEDS;
	if (fixed)
		return fixed
			.split(',')
			.map(s => s.trim())
			.filter(Boolean);
	// 48 bits: exact in a JS number, and plenty of streams
	return [0, 1, 2].map(() => String(randomBytes(6).readUIntBE(0, 6)));
}

/** The one virtio-hello device's PCI folder. */
function onlyDevice(t: ExecutionContext, guest: RawVm): string {
	t.is(guest.pci.length, 1, 'one virtio-hello device');
	return guest.pci[0]!;
}

async function rssKib(pid: number): Promise<number> {
	const status = await readFile(`/proc/${pid}/status`, 'utf8');
	const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
	if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
	return Number(match[1]);
}

/** The summary line's figures, by name. */
function summary(output: string): Record<string, number> | undefined {
	const line = /^vh-fuzz seed=\S+ (batches=.*)$/m.exec(output)?.[1];
	if (!line) return undefined;
	return Object.fromEntries(
		line
			.split(' ')
			.map(field => field.split('='))
			.map(([key, value]) => [key!, Number(value)]),
	);
}

async function alive(t: ExecutionContext, guest: RawVm, when: string): Promise<boolean> {
	const text = await guest.transcript();
	if (!guest.vm.running) {
		const exit = await guest.vm.exited;
		t.fail(
			`QEMU exited ${when} (code ${exit.exitCode}, signal ${exit.signal}); it said:\n${text.split('\n').slice(-20).join('\n')}`,
		);
		return false;
	}
	// virtio_error() lines ("Desc next is 65535", "Looped descriptor", ...) are the device
	// refusing a chain and are expected here; an abort is not.
	const abort = /Assertion|Aborted|core dumped|Segmentation fault|qemu: fatal|\*\*\s*ERROR/.exec(text);
	t.is(abort, null, abort ? `QEMU ${when}: ${text.slice(Math.max(0, abort.index - 600), abort.index + 400)}` : '');
	return abort === null;
}

test.serial(
	'a seeded hostile guest: QEMU survives, answers every well-formed request right, grows no memory, recovers',
	async t => {
		const guest = await bootRawVm(t, ['-device', 'virtio-hello-pci,id=hello0']);
		const pci = onlyDevice(t, guest);
		const chosen = seeds();
		t.log(
			`seeds ${chosen.join(',')} x ${batches} batches (replay: KERNELCRAFT_FUZZ_SEEDS=${chosen.join(',')} KERNELCRAFT_FUZZ_BATCHES=${batches})`,
		);
		for (const seed of chosen) {
			const before = await rssKib(guest.vm.pid);
			const started = Date.now();
			const trace = process.env.KERNELCRAFT_FUZZ_TRACE ? 'VH_FUZZ_TRACE=1 ' : '';
			const {output} = await guest.sh(
				`${trace}vh-raw ${pci} fuzz ${seed} ${batches} > /tmp/fuzz.out 2>&1; echo "rc $?" >> /tmp/fuzz.out; tail -n ${trace ? 400 : 30} /tmp/fuzz.out`,
				15 * 60_000,
			);
			const seconds = (Date.now() - started) / 1000;
			if (!(await alive(t, guest, `during seed ${seed}`))) return;
			const after = await rssKib(guest.vm.pid);
			const figures = summary(output);
			t.log(`seed ${seed}: ${/^vh-fuzz seed=.*$/m.exec(output)?.[0] ?? '(no summary)'}`);
			t.log(
				`seed ${seed}: QEMU VmRSS ${before} -> ${after} KiB (${after - before >= 0 ? '+' : ''}${after - before}), ${seconds.toFixed(1)} s wall`,
			);
			if (!figures) {
				t.fail(`seed ${seed}: vh-raw printed no summary:\n${output}`);
				continue;
			}
			t.regex(output, /^rc 0$/m, `seed ${seed}: vh-raw found no failure\n${output}`);
			t.is(figures.batches, batches, `seed ${seed}: every batch ran`);
			t.true(figures.valid! > 0, `seed ${seed}: some valid requests were made`);
			t.is(figures.valid_ok, figures.valid, `seed ${seed}: every valid request was answered byte for byte right`);
			t.is(figures.hdr_ok, figures.hdr, `seed ${seed}: every bad header got the status the contract gives`);
			t.is(figures.fatal_answered, 0, `seed ${seed}: no malformed chain was answered`);
			t.is(figures.hangs, 0, `seed ${seed}: the device never went silent`);
			t.true(figures.needs_reset! > 0, `seed ${seed}: the fuzz did break the device (NEEDS_RESET seen)`);
			t.regex(output, /^vh-fuzz after: nop answered status 0/m, `seed ${seed}: a NOP after the fuzz is answered`);
			t.true(
				after - before < rssBoundKib,
				`seed ${seed}: QEMU's RSS grew ${after - before} KiB, bound ${rssBoundKib} KiB`,
			);
		}

		// A plain request from a fresh driver, and QEMU's own view of the device: healthy.
		const nop = await guest.sh(`vh-raw ${pci} nop`);
		t.regex(
			nop.output,
			/nop answered status 0 len 17\ndevice_status 0x0f needs_reset 0/,
			'a well-formed request after the fuzz',
		);
		const status = await guest.qmp.execute<{broken: boolean}>('x-query-virtio-status', {
			path: '/machine/peripheral/hello0/virtio-backend',
		});
		t.false(status.broken, 'the device is not broken after a reset');
		const counters = Object.fromEntries(
			await Promise.all(
				['requests', 'errors', 'resets'].map(
					async name => [name, await guest.qmp.execute<number>('qom-get', {path: 'hello0', property: name})] as const,
				),
			),
		);
		const refusals = (
			(await guest.transcript()).match(
				/virtio-hello|Desc next|Looped descriptor|zero sized|Incorrect order|Guest says index|indirect/g,
			) ?? []
		).length;
		t.log(`device counters ${JSON.stringify(counters)}; ${refusals} virtio_error() reports on QEMU's stderr`);
		await alive(t, guest, 'after the fuzz');
	},
);
