// What the lab reports while it works: a build's lines and progress, a wait, the VM and its
// console, the virtqueues. The runner adds its own milestone and step events to these (see
// runner/events.ts); the lab never needs to know about them. Plain data, serialisable as-is.

import type {Accel, AccelChoice} from './host/accel.js';
import type {DeviceView, GuestView} from './virtio/views.js';

export type LabEvent =
	| {type: 'accel'; choice: AccelChoice}
	| {type: 'progress'; step: string; fraction: number; label: string; estimated: boolean}
	| {type: 'log'; step: string; line: string}
	| {type: 'waiting'; step: string; what: string; elapsedMs: number; timeoutMs: number}
	| {type: 'vm-started'; pid: number; runDir: string; accel: Accel}
	/** One finished line of the serial console, ANSI stripped (for logs and --json). */
	| {type: 'console-line'; line: string}
	/** The console as a terminal screen (rows of text), throttled; for the TUI's console pane. */
	| {type: 'console-screen'; rows: string[]; cursor: {x: number; y: number}}
	| {type: 'vm-stopped'; exitCode: number | null; reason: string}
	| {type: 'virtio'; devices: DeviceView[]; guest?: GuestView; at: number};

export type Emit = (event: LabEvent) => void;
