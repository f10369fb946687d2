import test from 'ava';
import {formatMs, progressBar, ringDistance, shortFeature, shortStatus, sparkline} from '../../source/ui/format.js';
import {computeLayout} from '../../source/ui/layout.js';

test('sparkline scales to the largest value and keeps the newest values', t => {
	t.is(sparkline([0, 1, 2, 4, 8], 10), '▁▂▃▅█');
	t.is(sparkline([8, 0, 0], 2), '▁▁');
	t.is(sparkline([], 5), '');
});

test('durations and bars read as a person would say them', t => {
	t.is(formatMs(850), '850 ms');
	t.is(formatMs(1234), '1.2 s');
	t.is(formatMs(172_000), '2 min 52 s');
	t.is(progressBar(0.5, 10), '█████░░░░░');
});

test('feature and status names are shortened', t => {
	t.is(shortFeature('VIRTIO_RING_F_EVENT_IDX: Used & avail. event fields enabled'), 'EVENT_IDX');
	t.is(shortFeature('VIRTIO_BLK_F_SEG_MAX'), 'SEG_MAX');
	t.is(shortFeature('VIRTIO_F_VERSION_1'), 'VERSION_1');
	t.is(shortStatus('VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready'), 'DRV_OK');
	t.is(shortStatus('ACKNOWLEDGE'), 'ACK');
});

test('ring distances account for the 16-bit wrap', t => {
	t.is(ringDistance(65_530, 4), 10);
	t.is(ringDistance(3, 3), 0);
});

test('layout keeps the root one row shorter than the terminal and refuses terminals below 80×24', t => {
	t.is(computeLayout(79, 40), undefined);
	t.is(computeLayout(120, 23), undefined);
	t.true(computeLayout(99, 40)!.compact, 'narrower than 100: compact');
	t.true(computeLayout(120, 29)!.compact, 'shorter than 30: compact');
	const layout = computeLayout(100, 30)!;
	t.is(layout.height, 29);
	t.is(layout.checklistWidth + layout.consoleWidth + layout.panelWidth, 100);
	t.is(layout.stepLogWidth + layout.lessonWidth, 100);
	t.is(1 + layout.middleHeight + layout.bottomHeight + 1, 29);
	t.true(layout.consoleCols > 30 && layout.consoleRows > 10);
	t.false(layout.compact, 'the full layout from 100×30');
});

test('compact layout at 80×24: checklist and one main pane fill the width; the console gets the pane size', t => {
	const layout = computeLayout(80, 24)!;
	t.true(layout.compact);
	t.is(layout.height, 23);
	t.is(1 + layout.bodyHeight + 1, 23);
	t.is(layout.checklistWidth + layout.mainWidth, 80);
	t.is(layout.consoleCols, layout.mainWidth - 2);
	t.is(layout.consoleRows, layout.bodyHeight - 3);
	t.true(layout.compactStepLogHeight > 3 && layout.compactStepLogHeight < layout.bodyHeight - 3);
});
