/**
 * The code exercises, as data (rustlings' info.toml is the model): which milestone each belongs
 * to, where its reference solution lives, what each TODO asks, and which steps verify it. The
 * reference marks the regions the learner writes (see source/lab/exercise/markers.ts); the
 * learner's skeleton is made from it, so there is no second copy to keep in step.
 */

export interface ExerciseTodo {
	n: number;
	/** What the learner writes, shown in the skeleton's comment and in failures. */
	text: string;
	/**
	 * The milestone steps whose checks fail while this TODO is not done: a step id, or
	 * "step:symptom" when the step tells its ways of failing apart (LabError's symptom).
	 */
	verifiedBy: string[];
}

export interface Exercise {
	id: string;
	milestone: string;
	title: string;
	/** The folder with the reference solution, relative to the repository root. */
	reference: string;
	/** The files of that folder with TODO regions; the others (Kbuild) are copied as they are. */
	files: string[];
	todos: ExerciseTodo[];
}

export const exercises: Exercise[] = [
	{
		id: 'hello',
		milestone: 'hello-module',
		title: 'hello.c: a module parameter and the exit path',
		reference: 'drivers/hello',
		files: ['hello.c'],
		todos: [
			{
				n: 1,
				text:
					'declare `times` as a module parameter (an int that root may change: 0644) with module_param() ' +
					'and describe it with MODULE_PARM_DESC(), so that `insmod hello.ko times=3` greets 3 times and ' +
					'/sys/module/hello/parameters/times exists.',
				verifiedBy: ['modinfo', 'insmod', 'sysfs'],
			},
			{
				n: 2,
				text:
					'the exit path: write hello_exit(), marked __exit, that says "hello: Goodbye, <whom>." with ' +
					'pr_info(), and register it with module_exit(): without it rmmod cannot unload the module.',
				verifiedBy: ['rmmod'],
			},
		],
	},
	{
		id: 'virtio-driver',
		milestone: 'virtio-hello',
		title: "the virtio-hello driver's request path: the chain, the kick, the completion",
		reference: 'drivers/virtio-hello',
		files: ['virtio_hello_core.c'],
		todos: [
			{
				n: 1,
				text:
					"lay the request out as a chain in sgs[], device-readable parts first: req->hdr_sg, then the payload's " +
					'scatterlist req->out.sg if req->out.npages; then the device-writable parts: with room for a payload ' +
					'(req->in.npages) call vh_resp_sgs(req) and add req->resp_sg, req->in.sg and req->status_sg, else ' +
					'req->tail_sg alone (response header and status in one buffer). Count them in out and in: ' +
					'vh_add() passes sgs, out and in to virtqueue_add_sgs().',
				verifiedBy: ['greet:not-queued'],
			},
			{
				n: 2,
				text:
					'the kick: when the request went in and `kick` is set, or the ring is full (err == -ENOSPC: batches ' +
					'queued without a kick must drain), ask virtqueue_kick_prepare(vh->vq) whether the device wants to ' +
					'be told (with EVENT_IDX it may not); if so count it in vh->stats.kicks and set notify: vh_notify() ' +
					'sends it once the spinlock is dropped.',
				verifiedBy: ['greet:not-kicked'],
			},
			{
				n: 3,
				text:
					'the completion: take every answered request back with virtqueue_get_buf(vq, &len) and hand each to ' +
					'vh_complete_at(vh, req, len, 0, ktime_get(), orphans), which wakes its submitter. Loop as NAPI ' +
					'does: virtqueue_disable_cb() before taking, and virtqueue_enable_cb() after, going round again ' +
					'while it returns false (an answer landed meanwhile). If virtqueue_is_broken(vq), call ' +
					'vh_ring_broken_locked(vh) and stop.',
				verifiedBy: ['greet:not-completed'],
			},
		],
	},
	{
		id: 'virtio-device',
		milestone: 'virtio-hello',
		title: "the virtio-hello device's queue handler in QEMU: pop, check, push, notify",
		reference: 'devices/virtio-hello',
		files: ['virtio-hello.c'],
		todos: [
			{
				n: 1,
				text:
					'the drain loop: with guest notifications off (virtio_queue_set_notification(s->vq, 0)), pop chains ' +
					'with virtqueue_pop(s->vq, sizeof(VirtQueueElement)) while fewer than s->burst are answered; answer ' +
					'each with virtio_hello_handle_one(s, elem, filled) (it fills the used element at offset filled; ' +
					'false means the device broke: stop), and push them with virtqueue_flush(s->vq, filled) every ' +
					'VIRTIO_HELLO_FLUSH_BATCH and at the end. Stop if vdev->broken or DRIVER_OK is gone; at the burst ' +
					'limit set *more if the queue is not empty and stop. Then turn notifications back on and look again: ' +
					'go round while virtio_queue_empty() says more came.',
				verifiedBy: ['greet:not-popped', 'greet:not-pushed'],
			},
			{
				n: 2,
				text:
					'read and check the request header, trusting nothing: a chain with fewer readable bytes than the ' +
					'header is BADREQ; copy the header out of the chain with iov_to_buf(); a payload length (le32) above ' +
					's->max_buf_size is TOOBIG, one that differs from the readable bytes after the header is BADREQ; ' +
					'fewer writable bytes than a response header and the status byte is NOSPACE. Log each with ' +
					'qemu_log_mask(LOG_GUEST_ERROR, ...). Else set *room to the writable bytes left for a payload.',
				verifiedBy: ['greet:refused'],
			},
			{
				n: 3,
				text:
					'the interrupt: when this pass answered something and the driver is still live (DRIVER_OK in ' +
					'vdev->status), tell the guest with virtio_notify(vdev, s->vq): once per pass, not per request ' +
					'(with EVENT_IDX the core decides whether the guest wants it).',
				verifiedBy: ['greet:not-interrupted'],
			},
		],
	},
];

export function findExercise(id: string): Exercise | undefined {
	return exercises.find(exercise => exercise.id === id);
}

export function exercisesOf(milestone: string): Exercise[] {
	return exercises.filter(exercise => exercise.milestone === milestone);
}
