import {mkdtemp, rm} from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {
	QmpClient,
	QmpClosedError,
	QmpConnectError,
	QmpError,
	QmpTimeoutError,
	describeEvent,
	parseQmpJson,
} from '../../../source/lab/vm/qmp.js';
import type {QueryStatusResult, VirtQueueStatus, VirtioInfo, VirtioStatus} from '../../../source/lab/vm/qmp-types.js';
import {startQemu} from '../../helpers/qemu.js';

// Any unhandled rejection anywhere in this worker fails the test that checks for it.
const unhandled: unknown[] = [];
process.on('unhandledRejection', reason => {
	unhandled.push(reason);
});

const settle = () => new Promise(resolve => setTimeout(resolve, 50));

test('handshake with a real QEMU: greeting, capabilities, query-status', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath, timeoutMs: 10_000});
	t.teardown(() => qmp.close());
	t.is(qmp.greeting?.QMP.version.qemu.major, 7);
	t.true(Array.isArray(qmp.greeting?.QMP.capabilities));
	const status = await qmp.execute<QueryStatusResult>('query-status');
	t.is(status.status, 'prelaunch');
	t.false(status.running);
});

test('connect retries until the socket appears', async t => {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-qmp-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	// connect first: the socket does not exist yet
	const connecting = QmpClient.connect({
		socketPath: path.join(dir, 'qmp.sock'),
		timeoutMs: 15_000,
		retryIntervalMs: 20,
	});
	await new Promise(resolve => setTimeout(resolve, 300));
	await startQemu(t, {dir});
	const qmp = await connecting;
	t.teardown(() => qmp.close());
	t.is((await qmp.execute<QueryStatusResult>('query-status')).status, 'prelaunch');
});

test('connect gives up at the deadline with a clear error', async t => {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-qmp-'));
	t.teardown(() => rm(dir, {recursive: true, force: true}));
	const socketPath = path.join(dir, 'never.sock');
	const error = await t.throwsAsync(QmpClient.connect({socketPath, timeoutMs: 300}), {instanceOf: QmpConnectError});
	t.regex(error!.message, /did not accept a connection within 300 ms .*the socket never appeared/);
	t.is(error!.socketPath, socketPath);
});

test('connect stops retrying when aborted', async t => {
	const controller = new AbortController();
	const connecting = QmpClient.connect({
		socketPath: '/nonexistent/kc/qmp.sock',
		timeoutMs: 60_000,
		signal: controller.signal,
	});
	setTimeout(() => controller.abort(new Error('QEMU exited with code 1')), 100);
	const error = await t.throwsAsync(connecting, {instanceOf: QmpConnectError});
	t.regex(error!.message, /QEMU exited with code 1/);
});

test('an error answer rejects with QmpError carrying class and desc', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const notFound = await t.throwsAsync(qmp.execute('no-such-command'), {instanceOf: QmpError});
	t.is(notFound!.errorClass, 'CommandNotFound');
	t.is(notFound!.command, 'no-such-command');
	t.regex(
		notFound!.message,
		/QEMU refused 'no-such-command': The command no-such-command has not been found \(CommandNotFound\)/,
	);
	const badPath = await t.throwsAsync(qmp.execute('x-query-virtio-status', {path: '/nope'}), {instanceOf: QmpError});
	t.is(badPath!.errorClass, 'GenericError');
	t.is(badPath!.desc, 'Path /nope is not a VirtIODevice');
	// the connection is still usable afterwards
	t.is((await qmp.execute<QueryStatusResult>('query-status')).status, 'prelaunch');
});

test('x-query-virtio lists the virtio devices', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const devices = await qmp.execute<VirtioInfo[]>('x-query-virtio');
	t.deepEqual(devices.map(d => d.name).sort(), ['virtio-blk', 'virtio-rng']);
	for (const d of devices) t.regex(d.path, /^\/machine\/peripheral-anon\/device\[\d+\]\/virtio-backend$/);
	// pipelined commands each get their own answer
	const [a, b, c] = await Promise.all([
		qmp.execute<QueryStatusResult>('query-status'),
		qmp.execute<VirtioStatus>('x-query-virtio-status', {path: devices[0]!.path}),
		qmp.execute<VirtQueueStatus>('x-query-virtio-queue-status', {path: devices[0]!.path, queue: 0}),
	]);
	t.is(a.status, 'prelaunch');
	t.is(b.name, devices[0]!.name);
	t.is(c['queue-index'], 0);
});

test('events reach listeners; waitForEvent resolves with the next one', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const seen: string[] = [];
	const off = qmp.on('event', e => seen.push(e.event));
	qmp.subscribe(() => {
		throw new Error('a broken listener must not break the client');
	});
	const reset = qmp.waitForEvent('RESET', {timeoutMs: 5000});
	await qmp.execute('system_reset');
	const event = await reset;
	t.is(event.data?.reason, 'host-qmp-system-reset');
	t.true(seen.includes('RESET'));
	t.is(qmp.lastEvent?.event, 'RESET');
	off();
	t.is((await qmp.execute<QueryStatusResult>('query-status')).status, 'prelaunch');
});

test('QEMU killed mid-command: every pending command rejects with a clear error, nothing unhandled', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	const reset = qmp.waitForEvent('RESET', {timeoutMs: 5000});
	await qmp.execute('system_reset');
	await reset;
	const closes: QmpClosedError[] = [];
	qmp.on('close', e => closes.push(e));

	// Freeze QEMU so the commands are certainly in flight, then kill it.
	process.kill(qemu.pid, 'SIGSTOP');
	const first = t.throwsAsync(qmp.execute<VirtioInfo[]>('x-query-virtio'), {instanceOf: QmpClosedError});
	// handled from the start, as every caller must: the client itself leaves nothing unhandled
	const second = qmp.execute('query-status', undefined, {timeoutMs: 60_000}).catch((error: unknown) => error);
	const third = qmp.execute('x-query-virtio-status', {path: '/x'}).catch((error: unknown) => error);
	await settle();
	await qemu.kill('SIGKILL');

	const error = await first;
	t.is(
		error!.message,
		`QEMU closed the QMP connection while waiting for 'x-query-virtio' (last event: RESET {"guest":false,"reason":"host-qmp-system-reset"})`,
	);
	t.is(error!.command, 'x-query-virtio');
	t.false(error!.byClient);
	t.true((await second) instanceof QmpClosedError);
	t.regex(((await second) as Error).message, /while waiting for 'query-status'/);
	t.regex(((await third) as Error).message, /while waiting for 'x-query-virtio-status'/);
	await qmp.whenClosed;
	t.true(qmp.closed);
	t.is(closes.length, 1);
	t.regex(closes[0]!.message, /^QEMU closed the QMP connection \(last event: RESET/);
	// after the close, commands reject at once
	await t.throwsAsync(qmp.execute<QueryStatusResult>('query-status'), {instanceOf: QmpClosedError});
	await settle();
	t.deepEqual(unhandled, []);
});

test('a command times out with QmpTimeoutError and the late answer is ignored', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	t.teardown(() => qmp.close());
	process.kill(qemu.pid, 'SIGSTOP');
	const error = await t.throwsAsync(qmp.execute('query-status', undefined, {timeoutMs: 200}), {
		instanceOf: QmpTimeoutError,
	});
	t.is(error!.message, `QEMU did not answer 'query-status' within 200 ms`);
	process.kill(qemu.pid, 'SIGCONT');
	t.deepEqual(await qmp.execute<VirtioInfo[]>('x-query-virtio').then(d => d.length), 2);
});

test('close() rejects pending commands as closed by us and is idempotent', async t => {
	const qemu = await startQemu(t);
	const qmp = await QmpClient.connect({socketPath: qemu.socketPath});
	process.kill(qemu.pid, 'SIGSTOP');
	const pending = qmp.execute<QueryStatusResult>('query-status');
	await qmp.close();
	await qmp.close();
	const error = await t.throwsAsync(pending, {instanceOf: QmpClosedError});
	t.true(error!.byClient);
	t.regex(error!.message, /closed by kernelcraft while waiting for 'query-status'/);
	process.kill(qemu.pid, 'SIGCONT');
});

// A fake QMP server that sends its bytes in awkward pieces.
async function fakeServer(t: ExecutionContext, handle: (socket: net.Socket) => void) {
	const dir = await mkdtemp(path.join(os.tmpdir(), 'kc-qmp-fake-'));
	const socketPath = path.join(dir, 'qmp.sock');
	const server = net.createServer(handle);
	await new Promise<void>(resolve => server.listen(socketPath, resolve));
	t.teardown(async () => {
		await new Promise(resolve => server.close(resolve));
		await rm(dir, {recursive: true, force: true});
	});
	return {socketPath, server};
}

async function sendInPieces(socket: net.Socket, text: string, sizes: number[]) {
	const bytes = Buffer.from(text, 'utf8');
	let offset = 0;
	let i = 0;
	while (offset < bytes.length) {
		const size = sizes[i++ % sizes.length]!;
		socket.write(bytes.subarray(offset, offset + size));
		offset += size;
		await new Promise(resolve => setTimeout(resolve, 1));
	}
}

test('line parsing survives chunks split anywhere, even inside a UTF-8 character', async t => {
	const greeting =
		'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}\r\n';
	const {socketPath} = await fakeServer(t, socket => {
		void sendInPieces(socket, greeting, [1, 3, 2]);
		let buffer = '';
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			buffer += chunk;
			let nl: number;
			while ((nl = buffer.indexOf('\n')) >= 0) {
				const request = JSON.parse(buffer.slice(0, nl)) as {execute: string; id: string};
				buffer = buffer.slice(nl + 1);
				if (request.execute === 'qmp_capabilities') {
					socket.write(`{"return": {}, "id": "${request.id}"}\r\n`);
				} else {
					// an event and the answer in one go, the answer's "é" split between chunks,
					// and a uint64 a double cannot hold
					const text =
						'{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}\r\n' +
						`{"return": {"name": "caf\u00e9", "addr": 7146805113118295480, "small": 12}, "id": "${request.id}"}\r\n`;
					void sendInPieces(socket, text, [5, 7, 1, 64, 2]);
				}
			}
		});
	});
	const qmp = await QmpClient.connect({socketPath, timeoutMs: 5000});
	t.teardown(() => qmp.close());
	const events: string[] = [];
	qmp.on('event', e => events.push(e.event));
	const answer = await qmp.execute<{name: string; addr: bigint; small: number}>('anything');
	t.is(answer.name, 'café');
	t.is(answer.addr, 7146805113118295480n);
	t.is(answer.small, 12);
	t.deepEqual(events, ['STOP']);
});

test('a server that closes before its greeting fails the connect clearly', async t => {
	const {socketPath} = await fakeServer(t, socket => socket.destroy());
	const error = await t.throwsAsync(QmpClient.connect({socketPath, timeoutMs: 2000}), {instanceOf: QmpConnectError});
	t.regex(error!.message, /handshake .* failed: QEMU closed the QMP connection before its greeting/);
});

test('parseQmpJson keeps unsafe integers exact and leaves everything else alone', t => {
	t.deepEqual(parseQmpJson('{"a": 1, "b": -2.5e3, "c": "12345678901234567890", "d": 9007199254740991}'), {
		a: 1,
		b: -2500,
		c: '12345678901234567890',
		d: 9007199254740991,
	});
	t.deepEqual(parseQmpJson('[18446744073709551615, 9007199254740993, "x\\"18446744073709551615"]'), [
		18446744073709551615n,
		9007199254740993n,
		'x"18446744073709551615',
	]);
});

test('describeEvent', t => {
	t.is(describeEvent(undefined), 'none');
	t.is(describeEvent({event: 'STOP', timestamp: {seconds: 0, microseconds: 0}}), 'STOP');
	t.is(
		describeEvent({event: 'SHUTDOWN', data: {guest: false}, timestamp: {seconds: 0, microseconds: 0}}),
		'SHUTDOWN {"guest":false}',
	);
});
