import {useCallback, useRef, useState} from 'react';
import {reduceUi, type UiInput, type UiState} from './state.js';

/**
 * useReducer, plus a synchronous view of the latest state. Key handling must decide on the state
 * as it is after the previous key, not as of the last render: a paste, or keys typed faster than
 * Ink re-renders (Tab then "ls"), would otherwise be routed by a stale focus.
 */
export function useUiStore(init: () => UiState): {
	state: UiState;
	dispatch: (input: UiInput) => void;
	getState: () => UiState;
} {
	const latest = useRef<UiState | undefined>(undefined);
	if (latest.current === undefined) latest.current = init();
	const [state, setState] = useState<UiState>(latest.current);

	const dispatch = useCallback((input: UiInput) => {
		const next = reduceUi(latest.current!, input);
		if (next === latest.current) return;
		latest.current = next;
		setState(next);
	}, []);
	const getState = useCallback(() => latest.current!, []);

	return {state, dispatch, getState};
}
