import {useEffect, useRef} from 'react';
import {useStdin} from 'ink';

/**
 * Calls `handler` with every keypress as the raw string Ink's input parser split off (a paste
 * arrives as one string). One listener for the whole app, so a key is routed exactly once.
 *
 * Why raw and not useInput's (input, key): the guest console needs the bytes, and Ink 6.8's key
 * info loses them: Backspace (0x7f) and Delete (ESC[3~) both arrive as key.delete, function keys,
 * Home/End and Ctrl-] arrive with an empty `input`, Alt-x loses its ESC. internal_eventEmitter is
 * part of Ink's typed stdin context; each 'input' event on it is one parsed keypress.
 */
export function useRawKeys(handler: (data: string) => void): void {
	const {internal_eventEmitter: emitter, setRawMode, isRawModeSupported} = useStdin();
	const latest = useRef(handler);
	latest.current = handler;

	useEffect(() => {
		if (!isRawModeSupported) return;
		setRawMode(true);
		return () => {
			setRawMode(false);
		};
	}, [isRawModeSupported, setRawMode]);

	useEffect(() => {
		const onInput = (data: string | Buffer) => latest.current(String(data));
		emitter.on('input', onInput);
		return () => {
			emitter.off('input', onInput);
		};
	}, [emitter]);
}
