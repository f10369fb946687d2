import type {CommandSpec} from './args.js';

const kernelOptions = {
	'--kernel-src': "dir: a Linux source tree to build instead of Debian's linux-source-6.1 (also KERNEL_SRC)",
	'--accel': 'tcg|kvm: force the accelerator instead of detecting it (also KERNELCRAFT_ACCEL)',
	'--qemu-src': "dir: a QEMU 7.2 tree to build virtio-hello into instead of Debian's source (also QEMU_SRC)",
};

export const commands: CommandSpec[] = [
	{
		name: 'tui',
		summary: "The expedition in your terminal: milestones, the VM's console, the virtqueue panel and the lesson.",
		usage:
			"kernelcraft [command] [options]\n\nCommands:\n  (none)              the interactive expedition\n  run <milestone>     run a milestone headless (--json for scripts and CI)\n  bench               measure virtio-hello against virtio-blk (table and chart)\n  status              the checklist as text, with your steps, hints and predictions\n  hint [milestone]    the next hint for the step you are on\n  reset <milestone>   start a milestone over\n  exercise            the code exercises: list, path <id>, reset <id>\n  doctor              check host prerequisites and the accelerator\n  setup               install missing host packages and fetch QEMU's source\n  gdb [milestone]     boot a milestone's VM with gdb attached (--qemu: gdb on QEMU itself)\n  cache               what kernelcraft's cache holds; --clear one kind\n\nRun `kernelcraft <command> --help` for a command's options.",
		flags: {
			'--version': 'print the version',
			'--demo':
				'kernelcraft does every step and skips the predictions (by default you do the steps that are tasks, and `d` hands a run over)',
			'--debug':
				'milestones boot the debug kernel (DWARF, gdb scripts; built the first time) with nokaslr and the gdbstub, and g opens gdb on the VM',
		},
		options: kernelOptions,
		positionals: [],
	},
	{
		name: 'run',
		summary:
			"Runs a milestone's steps without the screen, with live progress. Exit 0 only when every step was verified.",
		usage: 'kernelcraft run <milestone> [--json] [options]',
		flags: {
			'--json': 'one JSON object per event per line; the last line is the summary',
			'--exercise': "build the learner's exercise copy (as the TUI does) instead of the reference",
			'--debug':
				'boot the debug kernel with the gdbstub; virtio-hello then follows one request with two gdbs (driver, QEMU device, driver)',
		},
		options: {
			...kernelOptions,
			'--module-src': 'dir: the module folder hello-module builds (default drivers/hello)',
			'--module-params': 'params: what hello-module passes to insmod (default "whom=Ada times=2")',
		},
		positionals: [{name: 'milestone', required: true}],
	},
	{
		name: 'bench',
		summary:
			"Runs the tune milestone's benchmark: virtio-hello naive, batched, with and without EVENT_IDX, against virtio-blk on null-co, in one VM. Prints a table, a chart and the targets.",
		usage: 'kernelcraft bench [--json] [--short] [--seconds S] [options]',
		flags: {
			'--json': 'print the report as one JSON object',
			'--short': 'measure each variant for 0.3 s (a quick check of the bookkeeping)',
		},
		options: {...kernelOptions, '--seconds': 'seconds per variant (default 2)'},
		positionals: [],
	},
	{
		name: 'gdb',
		summary:
			"Boots a milestone's VM (boot, or virtio-hello) on a kernel with debug info and its gdb scripts (built the first time, then cached), with QEMU's gdbstub on a unix socket in the run's private folder, prints the gdb command line (for an IDE too) and runs gdb here. Quitting gdb stops the VM.",
		usage: 'kernelcraft gdb [boot|virtio-hello] [--qemu] [options]',
		flags: {
			'--qemu':
				'attach gdb to the QEMU process instead (milestones 4-5; builds QEMU with -g, its own cache entry); the guest gdb line is printed for a second terminal',
			'--walk':
				'virtio-hello: follow one `hello-client greet Ada` with two gdbs (the driver queues it, QEMU pops it, the driver reaps it), print each stop, then stop the VM',
		},
		options: kernelOptions,
		positionals: [{name: 'milestone', required: false}],
	},
	{
		name: 'exercise',
		summary:
			"The code exercises. list: each exercise, its folder and the TODOs still open. path <id>: the learner's copy (made from the skeleton on first use). reset <id>: the skeleton back, the learner's copy kept as <file>.bak-<timestamp>. The copies live in $KERNELCRAFT_WORKSPACE, else $XDG_DATA_HOME/kernelcraft/exercises (~/.local/share).",
		usage: 'kernelcraft exercise list|path <id>|reset <id>',
		flags: {},
		options: {},
		positionals: [
			{name: 'action', required: true},
			{name: 'id', required: false},
		],
	},
	{
		name: 'status',
		summary: 'Prints the milestone checklist: what is verified, what is next, what is coming.',
		usage: 'kernelcraft status',
		flags: {},
		options: {},
		positionals: [],
	},
	{
		name: 'hint',
		summary:
			"The next hint for the milestone's first step you have not done yourself (each call one more, then the solution); the count is kept with your progress.",
		usage: 'kernelcraft hint [milestone]',
		flags: {},
		options: {},
		positionals: [{name: 'milestone', required: false}],
	},
	{
		name: 'reset',
		summary: "Starts a milestone over: its tick, its steps, hints and predictions go; the other milestones' stay.",
		usage: 'kernelcraft reset <milestone>',
		flags: {},
		options: {},
		positionals: [{name: 'milestone', required: true}],
	},
	{
		name: 'doctor',
		summary:
			'Lists every host prerequisite (found or missing, with its version) and the accelerator that will be used and why. Exit 1 when something required is missing.',
		usage: 'kernelcraft doctor',
		flags: {},
		options: {},
		positionals: [],
	},
	{
		name: 'setup',
		summary:
			"Everything kernelcraft changes on the host, after asking: installs the missing Debian packages with apt-get (through sudo when not root), adds a deb-src entry for QEMU's source package, and fetches that source into the cache.",
		usage: 'kernelcraft setup [--yes] [--shared-cache redis://HOST:PORT | --shared-cache none]',
		flags: {
			'--yes': 'do not ask',
			'--quiet': 'say nothing when everything is installed',
			'--bench': "also install what `npm run bench` needs (Debian's distro kernel)",
			'--tests': 'also install what `npm test` needs (redis-server, for the shared-cache test)',
		},
		options: {
			'--shared-cache':
				"url: share compiled objects with a classroom through a Redis server (ccache's remote storage); none stops sharing",
		},
		positionals: [],
	},
	{
		name: 'cache',
		summary:
			"Lists what kernelcraft's cache holds (runs, kernels, QEMU, builds, the compiler cache) and its size; --clear removes one kind, waiting for any build another kernelcraft is making in it.",
		usage: 'kernelcraft cache [--clear runs|kernels|qemu|builds|compiler]',
		flags: {},
		options: {'--clear': 'kind: remove one kind (runs, kernels, qemu, builds, compiler)'},
		positionals: [],
	},
];
