import {useEffect, useState} from 'react';
import {useStdout} from 'ink';

export interface TerminalSize {
	columns: number;
	rows: number;
}

/** The terminal's size, kept current through stdout's 'resize' event. */
export function useTerminalSize(): TerminalSize {
	const {stdout} = useStdout();
	const read = (): TerminalSize => ({columns: stdout.columns || 80, rows: stdout.rows || 24});
	const [size, setSize] = useState(read);

	useEffect(() => {
		const onResize = () => {
			setSize(previous => {
				const next = read();
				return next.columns === previous.columns && next.rows === previous.rows ? previous : next;
			});
		};

		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
		// eslint-disable-next-line react-hooks/exhaustive-deps
	}, [stdout]);

	return size;
}
