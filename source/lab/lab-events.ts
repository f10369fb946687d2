// What the lab reports while it works: a build's lines and progress, a wait, the VM and its
// console, the virtqueues, a debugger on the guest. The expedition's steps add their own events
// (expedition/step-events.ts) and the runner its own milestone and step events to these (see
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
	| {type: 'virtio'; devices: DeviceView[]; guest?: GuestView; at: number}
	/** The gdb pane: gdb's last lines (plain text), and whether it holds its target stopped. */
	| {type: 'gdb'; state: 'starting' | 'attached' | 'gone'; lines: string[]; stopped: boolean; note?: string}
	/** A debugger holds the guest stopped (or lets it go): the header says so, the panel freezes. */
	| {type: 'guest-paused'; paused: boolean; by: string};

export type LabEmit = (event: LabEvent) => void;
