import fs from 'node:fs';
import path from 'node:path';

/** Where `kernelcraft setup` puts the one apt entry it adds (and nothing else). */
export const debSrcFile = '/etc/apt/sources.list.d/kernelcraft-src.sources';

/** This system's release codename (bookworm), from /etc/os-release. */
export function releaseCodename(osRelease = '/etc/os-release'): string | undefined {
	try {
		return /^VERSION_CODENAME=["']?([^"'\n]+)/m.exec(fs.readFileSync(osRelease, 'utf8'))?.[1];
	} catch {
		return undefined;
	}
}

interface AptEntry {
	types: string[];
	uris: string[];
	suites: string[];
	components: string[];
	signedBy?: string | undefined;
}

/** Every entry of apt's sources, in both formats (one-line .list and deb822 .sources). */
export function aptEntries(root = '/etc/apt'): AptEntry[] {
	const entries: AptEntry[] = [];
	const files = [path.join(root, 'sources.list')];
	const dir = path.join(root, 'sources.list.d');
	if (fs.existsSync(dir)) for (const name of fs.readdirSync(dir).sort()) files.push(path.join(dir, name));
	for (const file of files) {
		let text: string;
		try {
			text = fs.readFileSync(file, 'utf8');
		} catch {
			continue;
		}
		if (file.endsWith('.sources')) entries.push(...parseDeb822(text));
		else if (file.endsWith('.list')) entries.push(...parseOneLine(text));
	}
	return entries;
}

function parseOneLine(text: string): AptEntry[] {
	const entries: AptEntry[] = [];
	for (const raw of text.split('\n')) {
		const line = raw.replace(/#.*/, '').trim();
		const match = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
		if (!match) continue;
		const signedBy = /signed-by=(\S+)/.exec(match[2] ?? '')?.[1];
		entries.push({
			types: [match[1]!],
			uris: [match[3]!],
			suites: [match[4]!],
			components: match[5]!.split(/\s+/).filter(Boolean),
			signedBy,
		});
	}
	return entries;
}

function parseDeb822(text: string): AptEntry[] {
	return text
		.split(/\n\s*\n/)
		.map((stanza): AptEntry | undefined => {
			const field = (name: string) =>
				new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza.replace(/^#.*$/gm, ''))?.[1]?.trim();
			const list = (name: string) => (field(name) ?? '').split(/\s+/).filter(Boolean);
			if (/^Enabled:\s*no/im.test(stanza)) return undefined;
			return {
				types: list('Types'),
				uris: list('URIs'),
				suites: list('Suites'),
				components: list('Components'),
				signedBy: field('Signed-By'),
			};
		})
		.filter((entry): entry is AptEntry => entry !== undefined && entry.types.length > 0);
}

/**
 * The deb-src entry to add for QEMU's source: the same mirror, release and key that this system's
 * own `deb` entry for main uses, so it works wherever the binary packages already come from.
 * Undefined when no such entry exists (then only a person can say where sources live).
 */
export function debSrcEntryText(entries: AptEntry[], codename: string): string | undefined {
	const binary = entries.find(
		entry => entry.types.includes('deb') && entry.suites.includes(codename) && entry.components.includes('main'),
	);
	if (!binary) return undefined;
	return [
		"# Added by `kernelcraft setup`: QEMU's source package, for the virtio-hello milestone.",
		'# Remove this file to undo it.',
		'Types: deb-src',
		`URIs: ${binary.uris.join(' ')}`,
		`Suites: ${[codename, `${codename}-updates`].filter(suite => binary.suites.includes(suite) || suite === codename).join(' ')}`,
		'Components: main',
		...(binary.signedBy ? [`Signed-By: ${binary.signedBy}`] : []),
		'',
	].join('\n');
}
