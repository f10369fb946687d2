import pty from 'node-pty';
import {projectRoot} from '../../source/lab/paths.js';
import {stats, type Stats} from './report.js';

/**
 * `npm start` as a learner types it, in a real pty: the time from the command to the first
 * frame that shows the milestone list, `runs` times (after the compile is up to date, as on any
 * start but the first). Each start is quit with q before the next.
 */
export async function measureFirstPaint(runs: number): Promise<Stats> {
	const times: number[] = [];
	for (let run = 0; run < runs; run++) {
		const started = performance.now();
		const term = pty.spawn('npm', ['start', '--silent'], {
			cwd: projectRoot,
			cols: 120,
			rows: 36,
			env: {...process.env, CI: 'false', TERM: 'xterm-256color'},
		});
		let screen = '';
		const exited = new Promise<void>(resolve => term.onExit(() => resolve()));
		const ms = await new Promise<number>((resolve, reject) => {
			const timer = setTimeout(
				() => reject(new Error(`npm start drew no milestone list within 60 s; it printed: ${screen.slice(-300)}`)),
				60_000,
			);
			term.onData(data => {
				screen += data;
				if (/milestones/.test(screen)) {
					clearTimeout(timer);
					resolve(performance.now() - started);
				}
			});
		}).finally(() => term.write('q'));
		times.push(ms);
		await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 5000))]);
		try {
			term.kill('SIGKILL');
		} catch {}
	}
	return stats(times);
}
