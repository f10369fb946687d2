/**
 * Every process the app starts and that may outlive a function call (QEMU above all) is
 * registered here, and killed when the app exits for any reason: normal exit, Ctrl-C, SIGTERM,
 * an uncaught exception. (A SIGKILLed app cannot run this; QEMU then gets SIGHUP when its pty
 * closes and exits on its own.)
 */
const live = new Map<number, string>();
let installed = false;

export function ownChild(pid: number, name: string): () => void {
	install();
	live.set(pid, name);
	return () => live.delete(pid);
}

export function killAllChildren(): void {
	for (const pid of live.keys()) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {}
	}
	live.clear();
}

function install(): void {
	if (installed) return;
	installed = true;
	process.on('exit', killAllChildren);
}
