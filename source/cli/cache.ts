import {clearCache} from '../lab/cache-inventory.js';
import {cacheKinds, cacheUsage, formatBytes, type CacheKind} from '../lab/cache-usage.js';
import {UsageError} from './args.js';

/** `kernelcraft cache [--clear KIND]`: what the cache holds and how big it is, or clear one kind. */
export async function cacheCommand(
	cacheDir: string,
	clear: string | undefined,
	out: NodeJS.WritableStream,
): Promise<number> {
	if (clear !== undefined) {
		if (!(clear in cacheKinds))
			throw new UsageError(`--clear takes one of ${Object.keys(cacheKinds).join(', ')}, not "${clear}".`, 'cache');
		const freed = await clearCache(cacheDir, clear as CacheKind, line => out.write(`  ${line}\n`));
		out.write(`Cleared ${clear} (${cacheKinds[clear as CacheKind].what}): ${formatBytes(freed)} freed.\n`);
		return 0;
	}
	const usage = cacheUsage(cacheDir);
	out.write(`kernelcraft's cache: ${cacheDir}\n`);
	for (const kind of usage)
		out.write(
			`  ${kind.kind.padEnd(8)} ${formatBytes(kind.bytes).padStart(10)}  ${String(kind.entries).padStart(3)} entries  ${kind.what}\n`,
		);
	out.write(`  ${'total'.padEnd(8)} ${formatBytes(usage.reduce((sum, kind) => sum + kind.bytes, 0)).padStart(10)}\n`);
	out.write('Everything here is rebuilt on demand. Clear one kind with: kernelcraft cache --clear <kind>\n');
	return 0;
}
