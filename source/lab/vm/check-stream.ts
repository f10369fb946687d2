import {GuestTextStream, shellQuote} from './guest-text-stream.js';

export interface RunOptions {
	timeoutMs?: number;
	step?: string;
	signal?: AbortSignal;
	what?: string;
	quiet?: boolean;
}

/**
 * The check channel's text stream, with framed commands: kc_run (configs/rootfs/shrc) prints
 * `<<kc N`, the output and `>>kc N status`, which the echoed command line cannot match. Only the
 * check channel (ttyS2) has this: the learner's console is a plain GuestTextStream, so the framing
 * can never be typed where the learner reads.
 */
export class CheckStream extends GuestTextStream {
	private commandCounter = 0;

	/** Runs a shell command in the guest's check shell and returns its output and exit status. */
	async run(command: string, options: RunOptions = {}): Promise<{output: string; status: number}> {
		const id = ++this.commandCounter;
		const since = this.offset;
		// The check shell reads raw lines: "\n" ends one.
		this.type(`kc_run ${id} ${shellQuote(command)}\n`);
		const match = await this.expect(new RegExp(`(?:^|\\n)<<kc ${id}\\n([\\s\\S]*?)>>kc ${id} (\\d+)\\n`), {
			what: options.what ?? `\`${command}\` to finish in the guest`,
			timeoutMs: options.timeoutMs ?? 30_000,
			since,
			step: options.step,
			signal: options.signal,
			quiet: options.quiet,
		});
		return {output: match[1]!.replace(/\n$/, ''), status: Number(match[2])};
	}
}
