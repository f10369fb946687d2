// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-hello: driver for kernelcraft's teaching virtio device.
 *
 * One request virtqueue; each request is one descriptor chain (see
 * devices/virtio-hello/include/virtio_hello.h and docs/virtio-hello.md).
 * This file is the driver proper: probe, remove, reset recovery, the
 * request path and the virtqueue callback.  User space reaches it through
 * /dev/virtio-helloN (virtio_hello_cdev.c); a request's memory is in
 * virtio_hello_req.c; statistics are in sysfs (virtio_hello_stats.c);
 * virtio_hello_fault.c builds hostile chains and injects faults for tests.
 *
 * Lifetime rules:
 *   - vh->lock (spinlock) guards the virtqueue, the state and the counters;
 *     completions are signalled under it, so "completed or not" is decided
 *     in one place.  Nothing is freed under it: a request whose submitter
 *     is gone goes on a list and is freed once the lock is dropped.
 *   - vh->reset_rwsem: submitters hold it for reading while they touch the
 *     virtqueue outside the spinlock (the notify); reset and remove hold it
 *     for writing while the virtqueue is torn down.
 *   - vh->ref: probe holds one reference, every open file another, so an
 *     open file outlives a hot-unplugged device and gets -ENODEV.
 *   - A request is owned by its submitter until it is queued, then by the
 *     virtqueue until completion.  A submitter killed while waiting leaves
 *     it "orphaned" and the completion path frees it.
 *   - Every request the device will not answer fails: on removal (-ENODEV),
 *     and when the device needs a reset or its ring is broken (-EIO, then
 *     the device is reset and re-initialised).
 *
 * No freeze/restore: kernelcraft's kernel is built without CONFIG_PM_SLEEP
 * (tinyconfig), so neither could run or be tested here.  They would be the
 * two halves of vh_reset_work(): freeze fails what is in flight and deletes
 * the virtqueue, restore is vh_reinit().  Without them a suspended guest
 * must unload the driver first.
 */

#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "virtio_hello_drv.h"

static bool event_idx = true;
module_param(event_idx, bool, 0444);
MODULE_PARM_DESC(event_idx, "Negotiate VIRTIO_RING_F_EVENT_IDX (default: on)");

static bool indirect = true;
module_param(indirect, bool, 0444);
MODULE_PARM_DESC(indirect, "Negotiate VIRTIO_RING_F_INDIRECT_DESC (default: on)");

bool vh_allow_raw;
module_param_named(allow_raw, vh_allow_raw, bool, 0444);
MODULE_PARM_DESC(allow_raw, "Allow hostile chains and fault knobs (tests only)");

/*
 * A chain that cannot go in while nothing is in flight will not go in
 * after a completion either.  It cannot happen while chains are bounded by
 * the ring (vh_set_limits()): an empty ring takes any of them as direct
 * descriptors when its indirect table cannot be allocated.  Should it
 * happen anyway, try again a few times after a pause (as blk-mq does),
 * then give up.
 */
#define VH_ALLOC_RETRIES	5
#define VH_ALLOC_DELAY_MS	3

static DEFINE_IDA(vh_ida);

static void vh_release(struct kref *ref)
{
	struct virtio_hello *vh = container_of(ref, struct virtio_hello, ref);

	kfree(vh->greeting);
	kfree(vh);
}

void vh_put(struct virtio_hello *vh)
{
	kref_put(&vh->ref, vh_release);
}

static void vh_free_orphans(struct list_head *orphans)
{
	struct vh_req *req, *next;

	list_for_each_entry_safe(req, next, orphans, orphan_link)
		vh_req_free(req);
}

/* ------------------------------------------------------------ completion */

/*
 * Called with vh->lock held: the request leaves the virtqueue.  An orphan
 * goes on @orphans, for the caller to free after unlocking.
 */
static void vh_complete_at(struct virtio_hello *vh, struct vh_req *req,
			   unsigned int len, int err, ktime_t now,
			   struct list_head *orphans)
{
	req->used_len = len;
	req->err = err;
	req->latency_ns = ktime_to_ns(ktime_sub(now, req->start));
	vh->inflight--;
	vh->complete_seq++;
	if (err)
		vh->stats.errors++;
	else
		vh->stats.completed++;
	if (req->orphan)
		list_add_tail(&req->orphan_link, orphans);
	else
		complete(&req->done);
}

/*
 * Called with vh->lock held.  A broken ring answers nothing any more: the
 * reset work fails what it holds and brings the device back.
 */
static void vh_ring_broken_locked(struct virtio_hello *vh)
{
	if (vh->state != VH_LIVE)
		return;
	vh->state = VH_NEEDS_RESET;
	schedule_work(&vh->reset_work);
}

void vh_ring_broken(struct virtio_hello *vh)
{
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	vh_ring_broken_locked(vh);
	spin_unlock_irqrestore(&vh->lock, flags);
	wake_up_all(&vh->space_wq);
}

/*
 * Called with vh->lock held, from the callback: take back every request the
 * device has answered, then turn callbacks on again.  Answers that land
 * while they are off are caught by the next turn of the loop.
 */
static void vh_reap(struct virtio_hello *vh, struct virtqueue *vq,
		    struct list_head *orphans)
{
	/* exercise virtio-driver TODO 3 */
	struct vh_req *req;
	unsigned int len;

	do {
		/* one timestamp for everything this interrupt reaps */
		ktime_t now = ktime_get();

		virtqueue_disable_cb(vq);
		while ((req = virtqueue_get_buf(vq, &len)))
			vh_complete_at(vh, req, len, 0, now, orphans);
		if (unlikely(virtqueue_is_broken(vq))) {
			vh_ring_broken_locked(vh);
			break;
		}
	} while (!virtqueue_enable_cb(vq));
	/* end exercise virtio-driver TODO 3 */
}

void vh_vq_done(struct virtqueue *vq)
{
	struct virtio_hello *vh = vq->vdev->priv;
	LIST_HEAD(orphans);
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	vh->stats.interrupts++;
	vh_reap(vh, vq, &orphans);
	spin_unlock_irqrestore(&vh->lock, flags);
	vh_free_orphans(&orphans);
	wake_up_all(&vh->space_wq);
}

/* The device is reset (no callbacks): fail whatever it still holds. */
static void vh_fail_all(struct virtio_hello *vh, int err)
{
	ktime_t now = ktime_get();
	LIST_HEAD(orphans);
	struct vh_req *req;

	spin_lock_irq(&vh->lock);
	while ((req = virtqueue_detach_unused_buf(vh->vq)))
		vh_complete_at(vh, req, 0, err, now, &orphans);
	spin_unlock_irq(&vh->lock);
	vh_free_orphans(&orphans);
	wake_up_all(&vh->space_wq);
}

void vh_count_error(struct virtio_hello *vh)
{
	spin_lock_irq(&vh->lock);
	vh->stats.errors++;
	spin_unlock_irq(&vh->lock);
}

/* ------------------------------------------------------------ submission */

static int vh_state_errno(enum vh_state state)
{
	return state == VH_GONE ? -ENODEV : -EIO;
}

static int vh_add(struct virtio_hello *vh, struct scatterlist *sgs[],
		  unsigned int out, unsigned int in, void *data)
{
	/* virtqueue_add_sgs() BUG()s on a chain of no buffers: refuse it here */
	if (unlikely(!out && !in)) {
		dev_warn_ratelimited(&vh->vdev->dev,
				     "a request with no buffers: not queued\n");
		return -EINVAL;
	}
	if (unlikely(READ_ONCE(vh->fault.fail_indirect)))
		return vh_fault_add_sgs(vh, sgs, out, in, data);
	return virtqueue_add_sgs(vh->vq, sgs, out, in, data, GFP_ATOMIC);
}

/* Tell the device; a failed notification breaks the ring. */
static void vh_notify(struct virtio_hello *vh)
{
	if (!virtqueue_notify(vh->vq))
		vh_ring_broken(vh);
}

/* Notify the device of everything queued so far (batches call this once). */
void vh_kick(struct virtio_hello *vh)
{
	bool notify = false;

	down_read(&vh->reset_rwsem);
	spin_lock_irq(&vh->lock);
	if (vh->state == VH_LIVE && virtqueue_kick_prepare(vh->vq)) {
		vh->stats.kicks++;
		notify = true;
	}
	spin_unlock_irq(&vh->lock);
	if (notify)
		vh_notify(vh);
	up_read(&vh->reset_rwsem);
}

/*
 * Queue @req as @out readable + @in writable scatterlists.  Waits for ring
 * space if needed.  With @kick false the caller must vh_kick() later.
 */
int vh_queue(struct virtio_hello *vh, struct vh_req *req,
	     struct scatterlist *sgs[], unsigned int out, unsigned int in,
	     bool kick)
{
	unsigned int tries = 0;
	bool idle;
	u64 seq;
	int err;

	for (;;) {
		bool notify = false;

		down_read(&vh->reset_rwsem);
		spin_lock_irq(&vh->lock);
		if (vh->state != VH_LIVE) {
			err = vh_state_errno(vh->state);
			spin_unlock_irq(&vh->lock);
			up_read(&vh->reset_rwsem);
			return err;
		}
		req->hdr.id = cpu_to_le64(vh->next_id++);
		req->start = ktime_get();
		err = vh_add(vh, sgs, out, in, req);
		if (!err) {
			vh->inflight++;
			vh->stats.requests++;
			vh->stats.bytes_out += req->out.len;
		} else if (err == -EIO) {	/* the ring is broken */
			vh_ring_broken_locked(vh);
		}
		/* exercise virtio-driver TODO 2 */
		/* On a full ring, kick anyway: deferred batches must drain. */
		if ((!err && kick) || err == -ENOSPC) {
			if (virtqueue_kick_prepare(vh->vq)) {
				vh->stats.kicks++;
				notify = true;
			}
		}
		/* end exercise virtio-driver TODO 2 */
		idle = !vh->inflight;
		seq = vh->complete_seq;
		spin_unlock_irq(&vh->lock);
		if (notify)
			vh_notify(vh);
		up_read(&vh->reset_rwsem);

		if (err != -ENOSPC)
			return err;
		if (idle) {
			/* no completion will come: the allocation failed */
			if (++tries > VH_ALLOC_RETRIES)
				return -ENOMEM;
			schedule_timeout_killable(msecs_to_jiffies(VH_ALLOC_DELAY_MS));
			if (fatal_signal_pending(current))
				return -EINTR;
			continue;
		}
		if (wait_event_killable(vh->space_wq,
					READ_ONCE(vh->complete_seq) != seq ||
					READ_ONCE(vh->state) != VH_LIVE))
			return -EINTR;
	}
}

/*
 * Wait for @req.  Returns false if a fatal signal came first: the request
 * now belongs to the completion path and the caller must not touch it.
 */
bool vh_wait(struct virtio_hello *vh, struct vh_req *req)
{
	if (!wait_for_completion_killable(&req->done))
		return true;
	spin_lock_irq(&vh->lock);
	if (!completion_done(&req->done)) {
		req->orphan = true;
		spin_unlock_irq(&vh->lock);
		return false;
	}
	spin_unlock_irq(&vh->lock);
	return true;
}

/*
 * Standard chain: hdr, payload | resp, room, status.  Without room, resp and
 * status are one descriptor: fewer descriptors for the device to map per
 * small request.  Fills @sgs (5 entries); returns -E2BIG if it cannot fit.
 */
static int vh_std_sgs(struct virtio_hello *vh, struct vh_req *req,
		      struct scatterlist *sgs[], unsigned int *outp,
		      unsigned int *inp)
{
	unsigned int out = 0, in = 0;

	if (VH_FIXED_SEGS + req->out.npages + req->in.npages > vh->seg_limit)
		return -E2BIG;
	/* exercise virtio-driver TODO 1 */
	sgs[out++] = &req->hdr_sg;
	if (req->out.npages)
		sgs[out++] = req->out.sg;
	if (req->in.npages) {
		vh_resp_sgs(req);
		sgs[out + in++] = &req->resp_sg;
		sgs[out + in++] = req->in.sg;
		sgs[out + in++] = &req->status_sg;
	} else {
		sgs[out + in++] = &req->tail_sg;
	}
	/* end exercise virtio-driver TODO 1 */
	*outp = out;
	*inp = in;
	return 0;
}

int vh_queue_std(struct virtio_hello *vh, struct vh_req *req, bool kick)
{
	struct scatterlist *sgs[5];
	unsigned int out, in;
	int err = vh_std_sgs(vh, req, sgs, &out, &in);

	if (err)
		return err;
	return vh_queue(vh, req, sgs, out, in, kick);
}

/*
 * Queue one request, kick, and sleep until it completes.  On error the
 * request is gone: freed here if it never reached the ring, or left to the
 * completion path if the wait was interrupted.
 */
int vh_submit_wait(struct virtio_hello *vh, struct vh_req *req)
{
	int err = vh_queue_std(vh, req, true);

	if (err) {
		vh_req_free(req);
		return err;
	}
	if (!vh_wait(vh, req))
		return -EINTR;
	return 0;
}

/*
 * The batch fast path: queue as many of @reqs as the ring takes under one
 * hold of the locks, without kicking.  Returns how many were queued; the
 * caller queues the rest with vh_queue_std(), which waits for space and
 * reports errors.
 */
unsigned int vh_queue_many(struct virtio_hello *vh, struct vh_req **reqs,
			   unsigned int n)
{
	struct scatterlist *sgs[5];
	unsigned int i, out, in;
	ktime_t start;

	down_read(&vh->reset_rwsem);
	spin_lock_irq(&vh->lock);
	start = ktime_get();	/* the batch goes in as one */
	for (i = 0; i < n && vh->state == VH_LIVE; i++) {
		struct vh_req *req = reqs[i];

		if (vh_std_sgs(vh, req, sgs, &out, &in))
			break;
		req->hdr.id = cpu_to_le64(vh->next_id);
		req->start = start;
		if (vh_add(vh, sgs, out, in, req))
			break;
		vh->next_id++;
		vh->inflight++;
		vh->stats.requests++;
		vh->stats.bytes_out += req->out.len;
	}
	spin_unlock_irq(&vh->lock);
	up_read(&vh->reset_rwsem);
	return i;
}

/* ---------------------------------------------------- probe/reset/remove */

static int vh_init_vq(struct virtio_hello *vh)
{
	struct virtqueue *vq;

	vq = virtio_find_single_vq(vh->vdev, vh_vq_done, "request");
	if (IS_ERR(vq))
		return PTR_ERR(vq);
	vh->vq = vq;
	return 0;
}

/*
 * How many descriptors one chain may have, and so how much payload one
 * request carries.  Never more than the ring has entries, with indirect
 * descriptors too: "A driver MUST NOT create a descriptor chain longer
 * than the Queue Size of the device" (virtio 1.2, 2.7.5.3.1, Indirect
 * Descriptors).  A table only makes a chain take one ring entry instead of
 * one per descriptor.  And a chain that fits the ring can always go in
 * without its table, as direct descriptors, once enough of the ring is
 * free (at worst: all of it), so a failed GFP_ATOMIC table allocation
 * means a wait, never a failure.
 * max_segs is the device's word and bounded by the ring like the rest: a
 * device that announces more is clamped, not believed.
 *
 * Called at probe and after a reset, when the ring was allocated again:
 * the core may have made it smaller, and then the limits shrink with it.
 * A ring too small for one page each way is refused.
 */
static int vh_set_limits(struct virtio_hello *vh)
{
	u32 ring = virtqueue_get_vring_size(vh->vq);
	u32 seg_limit = min(vh->max_segs, ring);
	u32 data_segs;

	if (seg_limit < VH_FIXED_SEGS + 2) {
		dev_err(&vh->vdev->dev, "a ring of %u entries is too small\n",
			ring);
		return -ENOSPC;
	}
	data_segs = (seg_limit - VH_FIXED_SEGS) / 2;
	vh->seg_limit = seg_limit;
	vh->max_data = min3(vh->max_buf_size, VH_MAX_DATA,
			    (u32)(data_segs * PAGE_SIZE));
	return 0;
}

/* The device-reset recovery: what virtio_device_restore() does, in short. */
static int vh_reinit(struct virtio_hello *vh)
{
	struct virtio_device *vdev = vh->vdev;
	int err;

	virtio_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	virtio_add_status(vdev, VIRTIO_CONFIG_S_DRIVER);
	err = vdev->config->finalize_features(vdev);
	if (err)
		return err;
	virtio_add_status(vdev, VIRTIO_CONFIG_S_FEATURES_OK);
	if (!(vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -ENODEV;
	err = vh_init_vq(vh);
	if (err)
		return err;
	err = vh_set_limits(vh);
	if (err)
		return err;
	virtio_device_ready(vdev);
	return 0;
}

static void vh_reset_work(struct work_struct *work)
{
	struct virtio_hello *vh = container_of(work, struct virtio_hello,
					       reset_work);
	struct virtio_device *vdev = vh->vdev;
	unsigned int inflight;
	int err;

	down_write(&vh->reset_rwsem);
	spin_lock_irq(&vh->lock);
	if (vh->state != VH_NEEDS_RESET) {
		spin_unlock_irq(&vh->lock);
		up_write(&vh->reset_rwsem);
		return;
	}
	vh->state = VH_RESETTING;
	inflight = vh->inflight;
	spin_unlock_irq(&vh->lock);

	dev_warn(&vdev->dev, "device needs reset: failing %u request(s), re-initialising\n",
		 inflight);
	virtio_reset_device(vdev);
	vh_fail_all(vh, -EIO);
	vdev->config->del_vqs(vdev);
	vh->vq = NULL;
	err = vh_reinit(vh);

	spin_lock_irq(&vh->lock);
	vh->stats.resets++;
	if (vh->state == VH_RESETTING)
		vh->state = err ? VH_DEAD : VH_LIVE;
	spin_unlock_irq(&vh->lock);
	up_write(&vh->reset_rwsem);
	wake_up_all(&vh->space_wq);
	if (err) {
		dev_err(&vdev->dev, "re-initialisation failed: %d\n", err);
		virtio_add_status(vdev, VIRTIO_CONFIG_S_FAILED);
	} else {
		dev_info(&vdev->dev, "device reset done, back in service\n");
	}
}

static void vh_config_changed(struct virtio_device *vdev)
{
	struct virtio_hello *vh = vdev->priv;
	unsigned long flags;

	if (!(vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_NEEDS_RESET))
		return;
	spin_lock_irqsave(&vh->lock, flags);
	vh_ring_broken_locked(vh);
	spin_unlock_irqrestore(&vh->lock, flags);
	wake_up_all(&vh->space_wq);
}

static int vh_validate(struct virtio_device *vdev)
{
	if (!vdev->config->get) {
		dev_err(&vdev->dev, "config access disabled\n");
		return -EINVAL;
	}
	if (!event_idx)
		__virtio_clear_bit(vdev, VIRTIO_RING_F_EVENT_IDX);
	if (!indirect)
		__virtio_clear_bit(vdev, VIRTIO_RING_F_INDIRECT_DESC);
	return 0;
}

/* The device is untrusted too: check its configuration. */
static int vh_read_config(struct virtio_hello *vh)
{
	struct virtio_device *vdev = vh->vdev;

	virtio_cread_le(vdev, struct virtio_hello_config, max_buf_size,
			&vh->max_buf_size);
	virtio_cread_le(vdev, struct virtio_hello_config, max_segs,
			&vh->max_segs);
	virtio_cread_le(vdev, struct virtio_hello_config, max_name_len,
			&vh->max_name_len);
	virtio_cread_le(vdev, struct virtio_hello_config, max_greeting_len,
			&vh->max_greeting_len);
	if (vh->max_segs < VH_FIXED_SEGS + 2 || !vh->max_name_len ||
	    !vh->max_greeting_len || vh->max_greeting_len > PAGE_SIZE) {
		dev_err(&vdev->dev, "bad config: max_segs %u max_name_len %u max_greeting_len %u\n",
			vh->max_segs, vh->max_name_len, vh->max_greeting_len);
		return -EINVAL;
	}
	return 0;
}

static int vh_probe(struct virtio_device *vdev)
{
	struct virtio_hello *vh;
	int err;

	vh = kzalloc(sizeof(*vh), GFP_KERNEL);
	if (!vh)
		return -ENOMEM;
	kref_init(&vh->ref);
	spin_lock_init(&vh->lock);
	init_rwsem(&vh->reset_rwsem);
	INIT_WORK(&vh->reset_work, vh_reset_work);
	init_waitqueue_head(&vh->space_wq);
	mutex_init(&vh->greet_lock);
	vh->vdev = vdev;
	vdev->priv = vh;

	err = vh_read_config(vh);
	if (err)
		goto err_free;
	err = vh_init_vq(vh);
	if (err)
		goto err_free;

	err = vh_set_limits(vh);
	if (err)
		goto err_vqs;

	err = ida_alloc(&vh_ida, GFP_KERNEL);
	if (err < 0)
		goto err_vqs;
	vh->index = err;
	snprintf(vh->name, sizeof(vh->name), "virtio-hello%d", vh->index);

	virtio_device_ready(vdev);

	vh->misc.minor = MISC_DYNAMIC_MINOR;
	vh->misc.name = vh->name;
	vh->misc.fops = &vh_fops;
	vh->misc.parent = &vdev->dev;
	vh->misc.mode = 0600;
	err = misc_register(&vh->misc);
	if (err)
		goto err_reset;
	vh_fault_init(vh);

	dev_info(&vdev->dev, "/dev/%s: queue %u, max_data %u, features:%s%s%s\n",
		 vh->name, virtqueue_get_vring_size(vh->vq), vh->max_data,
		 virtio_has_feature(vdev, VIRTIO_HELLO_F_CRC32) ? " crc32" : "",
		 virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX) ? " event_idx" : "",
		 virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC) ? " indirect" : "");
	return 0;

err_reset:
	virtio_reset_device(vdev);
	ida_free(&vh_ida, vh->index);
err_vqs:
	vdev->config->del_vqs(vdev);
err_free:
	vdev->priv = NULL;
	kfree(vh);
	return err;
}

static void vh_remove(struct virtio_device *vdev)
{
	struct virtio_hello *vh = vdev->priv;
	unsigned int inflight;

	/* No new opens; open files keep vh alive and now get -ENODEV. */
	misc_deregister(&vh->misc);
	vh_fault_exit(vh);

	spin_lock_irq(&vh->lock);
	vh->state = VH_GONE;		/* no new requests, no new reset work */
	inflight = vh->inflight;
	spin_unlock_irq(&vh->lock);
	cancel_work_sync(&vh->reset_work);

	down_write(&vh->reset_rwsem);
	virtio_reset_device(vdev);
	if (vh->vq)
		vh_fail_all(vh, -ENODEV);	/* waiters wake with -ENODEV */
	vdev->config->del_vqs(vdev);
	vh->vq = NULL;
	up_write(&vh->reset_rwsem);
	wake_up_all(&vh->space_wq);

	if (inflight)
		dev_info(&vdev->dev, "removed with %u request(s) in flight\n",
			 inflight);
	ida_free(&vh_ida, vh->index);
	vh_put(vh);
}

static const struct virtio_device_id vh_id_table[] = {
	{ VIRTIO_ID_HELLO, VIRTIO_DEV_ANY_ID },
	{ 0 },
};
MODULE_DEVICE_TABLE(virtio, vh_id_table);

static const unsigned int vh_features[] = {
	VIRTIO_HELLO_F_CRC32,
};

static struct virtio_driver vh_driver = {
	.driver.name = KBUILD_MODNAME,
	.driver.owner = THIS_MODULE,
	.driver.dev_groups = vh_groups,
	.feature_table = vh_features,
	.feature_table_size = ARRAY_SIZE(vh_features),
	.id_table = vh_id_table,
	.validate = vh_validate,
	.probe = vh_probe,
	.remove = vh_remove,
	.config_changed = vh_config_changed,
};

static int __init vh_init(void)
{
	int err;

	err = vh_req_cache_init();
	if (err)
		return err;
	vh_fault_module_init();
	err = register_virtio_driver(&vh_driver);
	if (err) {
		vh_fault_module_exit();
		vh_req_cache_exit();
	}
	return err;
}

static void __exit vh_exit(void)
{
	unregister_virtio_driver(&vh_driver);
	vh_fault_module_exit();
	ida_destroy(&vh_ida);
	vh_req_cache_exit();
}

module_init(vh_init);
module_exit(vh_exit);

MODULE_DESCRIPTION("virtio-hello: kernelcraft's teaching virtio driver");
MODULE_AUTHOR("kernelcraft");
MODULE_LICENSE("GPL");
