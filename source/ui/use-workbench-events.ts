import {useEffect} from 'react';
import type {RunEvent} from '../runner/events.js';
import type {WorkbenchApi} from '../runner/workbench-api.js';
import type {UiAction} from './state.js';

/** ~15 frames a second: smooth enough for a console, cheap enough to stay near-idle. */
export const DEFAULT_FRAME_INTERVAL_MS = 66;

/**
 * Subscribes to the workbench and hands its events to the reducer in batches, at most one batch
 * per interval. A kernel build logs thousands of lines a second and the console/virtio samplers
 * emit continuously; dispatching each one would re-render Ink each time. Order is kept (steps,
 * logs and screens are reduced in the order they came), and the first event after a quiet spell
 * goes out at once, so a key echo from the guest is not delayed when nothing else is happening.
 */
export function useWorkbenchEvents(
	workbench: WorkbenchApi,
	dispatch: (action: UiAction) => void,
	intervalMs: number = DEFAULT_FRAME_INTERVAL_MS,
): void {
	useEffect(() => {
		let pending: RunEvent[] = [];
		let timer: NodeJS.Timeout | undefined;
		let lastFlush = 0;

		const flush = () => {
			timer = undefined;
			lastFlush = Date.now();
			const events = pending;
			pending = [];
			if (events.length > 0) dispatch({type: 'ui/batch', events});
		};

		const unsubscribe = workbench.subscribe(event => {
			pending.push(event);
			if (timer) return;
			const wait = Math.max(0, lastFlush + intervalMs - Date.now());
			timer = setTimeout(flush, wait);
		});

		return () => {
			unsubscribe();
			if (timer) clearTimeout(timer);
		};
	}, [workbench, dispatch, intervalMs]);
}
