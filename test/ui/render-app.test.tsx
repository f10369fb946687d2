import test from 'ava';
import {EventEmitter} from 'node:events';
import {render} from 'ink';
import {renderApp} from '../../source/ui/render-app.js';
import {App} from '../../source/ui/components/App.js';
import {computeLayout} from '../../source/ui/layout.js';
import {FakeWorkbench, MILESTONES, until} from './fake-workbench.js';

test.serial('renderApp refuses to start without a TTY and says how to run headless', async t => {
	const descriptor = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
	Object.defineProperty(process.stdin, 'isTTY', {value: false, configurable: true});
	try {
		const error = await t.throwsAsync(renderApp(new FakeWorkbench(), MILESTONES));
		t.regex(error!.message, /needs an interactive terminal \(stdin is not a TTY\)/);
		t.regex(error!.message, /kernelcraft run <milestone> \[--json\]/);
	} finally {
		if (descriptor) Object.defineProperty(process.stdin, 'isTTY', descriptor);
		else delete (process.stdin as {isTTY?: boolean}).isTTY;
	}
});

/** A terminal whose size the test can change, like a window being resized. */
class ResizableStdout extends EventEmitter {
	columns = 79;
	rows = 24;
	isTTY = true;
	last = '';
	write = (frame: string) => {
		this.last = frame;
		return true;
	};
}

class QuietStdin extends EventEmitter {
	isTTY = true;
	setRawMode() {}
	setEncoding() {}
	ref() {}
	unref() {}
	read() {
		return null;
	}
}

test.serial('the app follows terminal resizes: too small, then panes, and the console is resized', async t => {
	const stdout = new ResizableStdout();
	const workbench = new FakeWorkbench();
	const instance = render(<App workbench={workbench} milestones={MILESTONES} />, {
		stdout: stdout as unknown as NodeJS.WriteStream,
		stdin: new QuietStdin() as unknown as NodeJS.ReadStream,
		debug: true,
		patchConsole: false,
		exitOnCtrlC: false,
	});
	try {
		t.true(await until(() => /this one is 79×24/.test(stdout.last)));
		t.deepEqual(workbench.resizes, []);

		stdout.rows = 40;
		stdout.columns = 120;
		stdout.emit('resize');
		t.true(await until(() => /milestones/.test(stdout.last)));
		const layout = computeLayout(120, 40)!;
		t.true(await until(() => workbench.resizes.length > 0));
		t.deepEqual(workbench.resizes.at(-1), [layout.consoleCols, layout.consoleRows]);
	} finally {
		instance.unmount();
		instance.cleanup();
	}
});
