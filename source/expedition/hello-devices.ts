import type {DeviceView} from '../lab/virtio/views.js';
import type {StepContext} from './types.js';

/** The virtio-hello devices QMP lists, sampled now. */
export async function helloDevices(ctx: StepContext): Promise<DeviceView[]> {
	const devices = (await ctx.session.panel?.sampleNow()) ?? [];
	return devices.filter(device => device.name === 'virtio-hello');
}
