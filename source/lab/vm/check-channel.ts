import net from 'node:net';
import type {LabEmit} from '../lab-events.js';
import {LabError} from '../lab-error.js';
import {CheckStream, type RunOptions} from './check-stream.js';
import type {GuestPause} from './guest-pause.js';

/**
 * The host end of the guest's check shell (configs/rootfs/check-shell on ttyS2), over the unix
 * socket QEMU serves for that serial port. Steps run their checks here: exact output, no kernel
 * messages in between, and nothing typed into the learner's console.
 */
export class CheckChannel {
	private socket: net.Socket | undefined;
	private stream: CheckStream | undefined;
	private connecting: Promise<CheckStream> | undefined;
	private ready = false;

	constructor(
		private readonly socketPath: string,
		private readonly transcriptPath: string,
		private readonly emit: LabEmit,
		private readonly pause?: GuestPause,
	) {}

	/** Runs a command in the guest's check shell. The first call waits until that shell answers. */
	async run(command: string, options: RunOptions = {}): Promise<{output: string; status: number}> {
		const stream = await this.whenReady(options);
		return stream.run(command, options);
	}

	close(reason: string): void {
		this.stream?.close(reason);
		this.socket?.destroy();
	}

	private async whenReady(options: RunOptions): Promise<CheckStream> {
		const stream = await (this.connecting ??= this.connect());
		if (this.ready) return stream;
		// Bytes sent before the guest opens ttyS2 are dropped by its UART driver: ping until the
		// shell answers, each ping with a short timeout of its own.
		const started = Date.now();
		const deadline = started + 20_000;
		for (;;) {
			if (!options.quiet)
				this.emit({
					type: 'waiting',
					step: options.step ?? '',
					what: "the guest's check shell on ttyS2",
					elapsedMs: Date.now() - started,
					timeoutMs: 20_000,
				});
			try {
				await stream.run('true', {...options, timeoutMs: 700, quiet: true});
				this.ready = true;
				return stream;
			} catch (error) {
				if (stream.closed || Date.now() > deadline || options.signal?.aborted) {
					throw new LabError({
						what: "The guest's check shell on ttyS2 did not answer within 20 s.",
						hint: 'configs/rootfs/check-shell starts it from init; a custom init must start it too.',
						lastSeen: stream.lastLines(),
						logPath: this.transcriptPath,
					});
				}
				void error;
			}
		}
	}

	private connect(): Promise<CheckStream> {
		return new Promise((resolve, reject) => {
			let attempts = 0;
			const tryOnce = () => {
				const socket = net.connect(this.socketPath);
				socket.once('connect', () => {
					this.socket = socket;
					const stream = new CheckStream(this.emit, this.transcriptPath, data => socket.write(data));
					stream.pause = this.pause;
					this.stream = stream;
					socket.setEncoding('utf8');
					socket.on('data', (data: string) => stream.feed(data));
					socket.on('close', () => stream.close('The check channel closed (QEMU exited)'));
					resolve(stream);
				});
				socket.once('error', error => {
					socket.destroy();
					if (++attempts > 100)
						reject(new LabError({what: `Could not connect to the check channel ${this.socketPath}: ${error.message}`}));
					else setTimeout(tryOnce, 100);
				});
			};
			tryOnce();
		});
	}
}
