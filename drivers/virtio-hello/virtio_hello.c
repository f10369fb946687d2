// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-hello: driver for kernelcraft's teaching virtio device.
 *
 * One request virtqueue; each request is one descriptor chain (see
 * devices/virtio-hello/include/virtio_hello.h and docs/virtio-hello.md).
 * Every device gets a misc character device /dev/virtio-helloN:
 *   - ioctl(VIRTIO_HELLO_IOC_*): any op, batches, hostile chains for tests;
 *   - write(NAME) then read(): a greeting, for shell use.
 * Statistics live in /sys/bus/virtio/devices/virtioN/stats/.
 *
 * Lifetime rules:
 *   - vh->lock (spinlock) guards the virtqueue, the state and the counters;
 *     completions are signalled under it, so "completed or not" is decided
 *     in one place.
 *   - vh->reset_rwsem: submitters hold it for reading while they touch the
 *     virtqueue outside the spinlock (the notify); reset and remove hold it
 *     for writing while the virtqueue is torn down.
 *   - vh->ref: probe holds one reference, every open file another, so an
 *     open file outlives a hot-unplugged device and gets -ENODEV.
 *   - A request is owned by its submitter until it is queued, then by the
 *     virtqueue until completion.  A submitter killed while waiting leaves
 *     it "orphaned" and the completion path frees it.
 */

#include <linux/crc32.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "virtio_hello.h"
#include "virtio_hello_ioctl.h"

#define VH_MAX_DATA	(16U << 20)	/* driver cap, matches QEMU's max */
#define VH_FIXED_SEGS	3		/* request hdr, response hdr, status */

static bool event_idx = true;
module_param(event_idx, bool, 0444);
MODULE_PARM_DESC(event_idx, "Negotiate VIRTIO_RING_F_EVENT_IDX (default: on)");

static bool indirect = true;
module_param(indirect, bool, 0444);
MODULE_PARM_DESC(indirect, "Negotiate VIRTIO_RING_F_INDIRECT_DESC (default: on)");

static bool allow_raw;
module_param(allow_raw, bool, 0444);
MODULE_PARM_DESC(allow_raw, "Allow VIRTIO_HELLO_IOC_RAW hostile chains (tests only)");

static DEFINE_IDA(vh_ida);

enum vh_state {
	VH_LIVE,
	VH_NEEDS_RESET,		/* device set DEVICE_NEEDS_RESET; work queued */
	VH_RESETTING,		/* reset work running */
	VH_DEAD,		/* re-initialisation failed */
	VH_GONE,		/* removed */
};

static const char * const vh_state_names[] = {
	[VH_LIVE] = "live",
	[VH_NEEDS_RESET] = "needs-reset",
	[VH_RESETTING] = "resetting",
	[VH_DEAD] = "dead",
	[VH_GONE] = "gone",
};

struct vh_stats {
	u64 requests;		/* queued */
	u64 completed;		/* answered by the device */
	u64 errors;		/* non-OK status, bad answers, failed requests */
	u64 bytes_out;		/* payload bytes sent */
	u64 bytes_in;		/* payload bytes received */
	u64 kicks;		/* notifications sent to the device */
	u64 interrupts;		/* virtqueue callbacks */
	u64 resets;		/* recoveries from DEVICE_NEEDS_RESET */
};

struct virtio_hello {
	struct virtio_device *vdev;
	struct virtqueue *vq;
	struct kref ref;
	spinlock_t lock;
	struct rw_semaphore reset_rwsem;
	struct work_struct reset_work;
	wait_queue_head_t space_wq;
	enum vh_state state;
	unsigned int inflight;
	u64 complete_seq;
	u64 next_id;
	struct vh_stats stats;

	/* from config space and negotiation, fixed after probe */
	u32 max_buf_size;
	u32 max_segs;
	u16 max_name_len;
	u16 max_greeting_len;
	u32 seg_limit;		/* descriptors one chain may use */
	u32 max_data;		/* payload bytes per request, each direction */

	int index;
	char name[32];
	struct miscdevice misc;

	struct mutex greet_lock;	/* write()/read() greeting */
	char *greeting;
	size_t greeting_len;
};

struct vh_buf {
	struct page **pages;
	unsigned int npages;
	size_t len;
	struct scatterlist *sg;
};

struct vh_req {
	/* device-visible parts, each its own descriptor */
	struct virtio_hello_req hdr;
	struct virtio_hello_resp resp;
	u8 status;

	struct scatterlist hdr_sg, resp_sg, status_sg;
	struct scatterlist tail_sg;	/* resp + status, when no payload room */
	struct vh_buf out;	/* payload to the device */
	struct vh_buf in;	/* room for the response payload */
	void *raw;		/* VIRTIO_HELLO_IOC_RAW scratch */
	struct scatterlist raw_sg;

	struct completion done;
	struct vh_pool *pool;	/* batch allocation it belongs to, or NULL */
	int err;
	unsigned int used_len;
	bool orphan;
	ktime_t start;
	u64 latency_ns;
};

/*
 * A batch's requests in one allocation: one allocation per batch instead of
 * one per request (the guest kernel's allocator is SLOB, a list walk under a
 * global lock).  Each request holds a reference; an orphaned request (its
 * submitter was killed) drops its own when the device returns it.
 */
struct vh_pool {
	refcount_t ref;
	struct vh_req reqs[];
};

static void vh_release(struct kref *ref)
{
	struct virtio_hello *vh = container_of(ref, struct virtio_hello, ref);

	kfree(vh->greeting);
	kfree(vh);
}

/* ---------------------------------------------------------------- buffers */

static void vh_buf_free(struct vh_buf *b)
{
	unsigned int i;

	if (!b->pages && !b->sg)
		return;

	for (i = 0; i < b->npages; i++)
		__free_page(b->pages[i]);
	kfree(b->pages);
	kfree(b->sg);
	b->pages = NULL;
	b->sg = NULL;
	b->npages = 0;
}

/* A payload buffer of @len bytes, one scatterlist entry per page */
static int vh_buf_alloc(struct vh_buf *b, size_t len)
{
	unsigned int i;

	b->len = len;
	b->npages = 0;
	if (!len)
		return 0;
	b->pages = kcalloc(DIV_ROUND_UP(len, PAGE_SIZE), sizeof(*b->pages),
			   GFP_KERNEL);
	b->sg = kmalloc_array(DIV_ROUND_UP(len, PAGE_SIZE), sizeof(*b->sg),
			      GFP_KERNEL);
	if (!b->pages || !b->sg)
		goto fail;
	sg_init_table(b->sg, DIV_ROUND_UP(len, PAGE_SIZE));
	for (i = 0; i < DIV_ROUND_UP(len, PAGE_SIZE); i++) {
		size_t n = min_t(size_t, PAGE_SIZE, len - i * PAGE_SIZE);

		b->pages[i] = alloc_page(GFP_KERNEL);
		if (!b->pages[i])
			goto fail;
		b->npages++;
		sg_set_page(&b->sg[i], b->pages[i], n, 0);
	}
	return 0;
fail:
	vh_buf_free(b);
	return -ENOMEM;
}

static int vh_buf_from_user(struct vh_buf *b, const void __user *src)
{
	unsigned int i;

	for (i = 0; i < b->npages; i++) {
		size_t n = min_t(size_t, PAGE_SIZE, b->len - i * PAGE_SIZE);

		if (copy_from_user(page_address(b->pages[i]),
				   src + i * PAGE_SIZE, n))
			return -EFAULT;
	}
	return 0;
}

static int vh_buf_to_user(struct vh_buf *b, void __user *dst, size_t len)
{
	unsigned int i;

	for (i = 0; i < b->npages && len; i++) {
		size_t n = min_t(size_t, PAGE_SIZE, len);

		if (copy_to_user(dst + i * PAGE_SIZE,
				 page_address(b->pages[i]), n))
			return -EFAULT;
		len -= n;
	}
	return 0;
}

static u32 vh_buf_crc32(struct vh_buf *b, size_t len)
{
	u32 crc = ~0U;
	unsigned int i;

	for (i = 0; i < b->npages && len; i++) {
		size_t n = min_t(size_t, PAGE_SIZE, len);

		crc = crc32_le(crc, page_address(b->pages[i]), n);
		len -= n;
	}
	return ~crc;
}

/*
 * Requests come from a cache whose constructor sets up what never changes
 * (the scatterlists pointing into the request itself, the completion), so
 * an allocation only resets a few fields: no zeroing of the whole request,
 * no scatterlist set-up per request.  Objects go back to the cache in that
 * constructed state (vh_req_free() restores the one scatterlist the raw
 * path changes).
 */
static struct kmem_cache *vh_req_cache;

static void vh_req_ctor(void *obj)
{
	struct vh_req *req = obj;

	init_completion(&req->done);
	sg_init_one(&req->hdr_sg, &req->hdr, sizeof(req->hdr));
	/* resp_sg and status_sg are set up where used: vh_resp_sgs() */
	/* status directly follows resp: one descriptor for both */
	BUILD_BUG_ON(offsetof(struct vh_req, status) !=
		     offsetof(struct vh_req, resp) + sizeof(req->resp));
	sg_init_one(&req->tail_sg, &req->resp,
		    sizeof(req->resp) + sizeof(req->status));
}

/* The per-use fields of a constructed request */
static void vh_req_reset(struct vh_req *req)
{
	memset(&req->hdr, 0, sizeof(req->hdr));
	memset(&req->resp, 0, sizeof(req->resp));
	req->status = VIRTIO_HELLO_S_PENDING;
	req->out = (struct vh_buf){ };
	req->in = (struct vh_buf){ };
	req->raw = NULL;
	req->pool = NULL;
	reinit_completion(&req->done);
	req->err = 0;
	req->used_len = 0;
	req->orphan = false;
	req->start = 0;
	req->latency_ns = 0;
}

/* resp and status as two descriptors, for chains with room in between */
static void vh_resp_sgs(struct vh_req *req)
{
	sg_init_one(&req->resp_sg, &req->resp, sizeof(req->resp));
	sg_init_one(&req->status_sg, &req->status, sizeof(req->status));
}

static struct vh_req *vh_req_alloc(void)
{
	struct vh_req *req = kmem_cache_alloc(vh_req_cache, GFP_KERNEL);

	if (req)
		vh_req_reset(req);
	return req;
}

static struct vh_pool *vh_pool_alloc(unsigned int n)
{
	struct vh_pool *pool = kvmalloc(struct_size(pool, reqs, n),
					GFP_KERNEL);
	unsigned int i;

	if (!pool)
		return NULL;
	refcount_set(&pool->ref, n);
	for (i = 0; i < n; i++) {
		vh_req_ctor(&pool->reqs[i]);
		vh_req_reset(&pool->reqs[i]);
		pool->reqs[i].pool = pool;
	}
	return pool;
}

static void vh_req_free(struct vh_req *req)
{
	vh_buf_free(&req->out);
	vh_buf_free(&req->in);
	if (req->raw)	/* the raw path may have resized hdr_sg */
		sg_init_one(&req->hdr_sg, &req->hdr, sizeof(req->hdr));
	kfree(req->raw);
	if (!req->pool)
		kmem_cache_free(vh_req_cache, req);
	else if (refcount_dec_and_test(&req->pool->ref))
		kvfree(req->pool);
}

/* ------------------------------------------------------------ completion */

/* Called with vh->lock held: the request leaves the virtqueue. */
static void vh_complete_at(struct virtio_hello *vh, struct vh_req *req,
			   unsigned int len, int err, ktime_t now)
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
		vh_req_free(req);
	else
		complete(&req->done);
}

static void vh_complete_locked(struct virtio_hello *vh, struct vh_req *req,
			       unsigned int len, int err)
{
	vh_complete_at(vh, req, len, err, ktime_get());
}

static void vh_vq_done(struct virtqueue *vq)
{
	struct virtio_hello *vh = vq->vdev->priv;
	struct vh_req *req;
	unsigned long flags;
	unsigned int len;

	spin_lock_irqsave(&vh->lock, flags);
	vh->stats.interrupts++;
	do {
		/* one timestamp for everything this interrupt reaps */
		ktime_t now = ktime_get();

		virtqueue_disable_cb(vq);
		while ((req = virtqueue_get_buf(vq, &len)))
			vh_complete_at(vh, req, len, 0, now);
		if (unlikely(virtqueue_is_broken(vq)))
			break;
	} while (!virtqueue_enable_cb(vq));
	spin_unlock_irqrestore(&vh->lock, flags);
	wake_up_all(&vh->space_wq);
}

/* The device is reset (no callbacks): fail whatever it still holds. */
static void vh_fail_all(struct virtio_hello *vh, int err)
{
	struct vh_req *req;

	spin_lock_irq(&vh->lock);
	while ((req = virtqueue_detach_unused_buf(vh->vq)))
		vh_complete_locked(vh, req, 0, err);
	spin_unlock_irq(&vh->lock);
	wake_up_all(&vh->space_wq);
}

/* ------------------------------------------------------------ submission */

static int vh_state_errno(enum vh_state state)
{
	return state == VH_GONE ? -ENODEV : -EIO;
}

/* Notify the device of everything queued so far (batches call this once). */
static void vh_kick(struct virtio_hello *vh)
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
		virtqueue_notify(vh->vq);
	up_read(&vh->reset_rwsem);
}

/*
 * Queue @req as @out readable + @in writable scatterlists.  Waits for ring
 * space if needed.  With @kick false the caller must vh_kick() later.
 */
static int vh_queue(struct virtio_hello *vh, struct vh_req *req,
		    struct scatterlist *sgs[], unsigned int out,
		    unsigned int in, bool kick)
{
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
		err = virtqueue_add_sgs(vh->vq, sgs, out, in, req, GFP_ATOMIC);
		if (!err) {
			vh->inflight++;
			vh->stats.requests++;
			vh->stats.bytes_out += req->out.len;
		}
		/* On a full ring, kick anyway: deferred batches must drain. */
		if ((!err && kick) || err == -ENOSPC) {
			if (virtqueue_kick_prepare(vh->vq)) {
				vh->stats.kicks++;
				notify = true;
			}
		}
		seq = vh->complete_seq;
		spin_unlock_irq(&vh->lock);
		if (notify)
			virtqueue_notify(vh->vq);
		up_read(&vh->reset_rwsem);

		if (err != -ENOSPC)
			return err;
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
static bool vh_wait(struct virtio_hello *vh, struct vh_req *req)
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
	*outp = out;
	*inp = in;
	return 0;
}

static int vh_queue_std(struct virtio_hello *vh, struct vh_req *req, bool kick)
{
	struct scatterlist *sgs[5];
	unsigned int out, in;
	int err = vh_std_sgs(vh, req, sgs, &out, &in);

	if (err)
		return err;
	return vh_queue(vh, req, sgs, out, in, kick);
}

/*
 * Queue one request, kick, and sleep until it completes. On error the
 * request is gone: freed here if it never reached the ring, or left to the
 * completion path if the wait was interrupted.
 */
static int vh_submit_wait(struct virtio_hello *vh, struct vh_req *req)
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
static unsigned int vh_queue_many(struct virtio_hello *vh,
				  struct vh_req **reqs, unsigned int n)
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
		if (virtqueue_add_sgs(vh->vq, sgs, out, in, req, GFP_ATOMIC))
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

/* Check what the (untrusted) device answered.  Returns 0 or -EIO. */
static int vh_check_answer(struct virtio_hello *vh, struct vh_req *req)
{
	u32 len = le32_to_cpu(req->resp.len);
	u32 op = le32_to_cpu(req->hdr.op);
	static const char * const why[] = {
		"", "no status", "inconsistent", "crc32 mismatch"
	};
	int bad = 0;

	if (req->err)
		return req->err;
	if (req->status == VIRTIO_HELLO_S_PENDING)
		bad = 1;	/* status never written */
	else if (req->status == VIRTIO_HELLO_S_OK &&
		 (req->resp.id != req->hdr.id || len > req->in.len ||
		  req->used_len < sizeof(req->resp) + len))
		bad = 2;	/* inconsistent response */
	else if (req->status == VIRTIO_HELLO_S_OK &&
		 (op == VIRTIO_HELLO_OP_ECHO || op == VIRTIO_HELLO_OP_CRC32) &&
		 le32_to_cpu(req->resp.crc32) !=
		 vh_buf_crc32(&req->out, req->out.len))
		bad = 3;	/* the device saw other bytes than we sent */
	if (bad || req->status != VIRTIO_HELLO_S_OK || len) {
		/* a good answer without payload changes no counter */
		spin_lock_irq(&vh->lock);
		if (bad || req->status != VIRTIO_HELLO_S_OK)
			vh->stats.errors++;
		else
			vh->stats.bytes_in += len;
		spin_unlock_irq(&vh->lock);
	}
	if (bad) {
		pr_warn_ratelimited("%s: request %llu: bad answer (%s, status %u, used %u, len %u)\n",
				    vh->name, le64_to_cpu(req->hdr.id),
				    why[bad],
				    req->status, req->used_len, len);
		return -EIO;
	}
	if (req->status != VIRTIO_HELLO_S_OK)
		pr_info_ratelimited("%s: request %llu op %u: device status %u\n",
				    vh->name, le64_to_cpu(req->hdr.id),
				    le32_to_cpu(req->hdr.op), req->status);
	return 0;
}

/* Build a standard request from user memory (not queued yet). */
/* Set up @req as a standard request from user memory (not queued yet). */
static int vh_req_fill(struct virtio_hello *vh, struct vh_req *req, u32 op,
		       const void __user *src, u32 in_len, u32 out_cap)
{
	int err;

	if (in_len > vh->max_data || out_cap > vh->max_data)
		return -E2BIG;
	req->hdr.op = cpu_to_le32(op);
	req->hdr.len = cpu_to_le32(in_len);
	err = vh_buf_alloc(&req->out, in_len);
	if (!err)
		err = vh_buf_alloc(&req->in, out_cap);
	if (!err)
		err = vh_buf_from_user(&req->out, src);
	return err;
}

/* Build a standard request from user memory (not queued yet). */
static struct vh_req *vh_req_from_user(struct virtio_hello *vh, u32 op,
				       const void __user *src, u32 in_len,
				       u32 out_cap, int *errp)
{
	struct vh_req *req;
	int err;

	if (in_len > vh->max_data || out_cap > vh->max_data) {
		*errp = -E2BIG;
		return NULL;
	}
	req = vh_req_alloc();
	if (!req) {
		*errp = -ENOMEM;
		return NULL;
	}
	err = vh_req_fill(vh, req, op, src, in_len, out_cap);
	if (err) {
		vh_req_free(req);
		*errp = err;
		return NULL;
	}
	return req;
}

/* Fill in the results of a finished request; returns 0 or -errno. */
static int vh_req_to_user(struct virtio_hello *vh, struct vh_req *req,
			  struct virtio_hello_ioc_req *ir)
{
	int err = vh_check_answer(vh, req);

	if (err)
		return err;
	ir->status = req->status;
	ir->latency_ns = req->latency_ns;
	ir->out_len = 0;
	ir->crc32 = 0;
	if (req->status != VIRTIO_HELLO_S_OK)
		return 0;
	ir->out_len = le32_to_cpu(req->resp.len);
	ir->crc32 = le32_to_cpu(req->resp.crc32);
	return vh_buf_to_user(&req->in, u64_to_user_ptr(ir->out_ptr),
			      ir->out_len);
}

/* ----------------------------------------------------------------- ioctls */

static long vh_ioctl_request(struct virtio_hello *vh, void __user *uarg)
{
	struct virtio_hello_ioc_req ir;
	struct vh_req *req;
	int err;

	if (copy_from_user(&ir, uarg, sizeof(ir)))
		return -EFAULT;
	if (ir.flags)
		return -EINVAL;
	req = vh_req_from_user(vh, ir.op, u64_to_user_ptr(ir.in_ptr),
			       ir.in_len, ir.out_cap, &err);
	if (!req)
		return err;
	err = vh_submit_wait(vh, req);
	if (err)
		return err;
	err = vh_req_to_user(vh, req, &ir);
	vh_req_free(req);
	if (err)
		return err;
	return copy_to_user(uarg, &ir, sizeof(ir)) ? -EFAULT : 0;
}

static long vh_ioctl_batch(struct virtio_hello *vh, void __user *uarg)
{
	struct virtio_hello_ioc_batch b;
	struct virtio_hello_ioc_req *irs;
	struct vh_pool *pool;
	struct vh_req **reqs;
	unsigned int i, queued = 0;
	bool kill = false;
	int err = 0, err2;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	if (!b.count || b.count > VIRTIO_HELLO_BATCH_MAX ||
	    (b.flags & ~VIRTIO_HELLO_BATCH_KICK_EACH))
		return -EINVAL;
	irs = memdup_user(u64_to_user_ptr(b.reqs_ptr),
			  array_size(b.count, sizeof(*irs)));
	if (IS_ERR(irs))
		return PTR_ERR(irs);
	reqs = kcalloc(b.count, sizeof(*reqs), GFP_KERNEL);
	pool = reqs ? vh_pool_alloc(b.count) : NULL;
	if (!pool) {
		kfree(reqs);
		kfree(irs);
		return -ENOMEM;
	}
	/* every request is freed below (or by the completion path) */
	for (i = 0; i < b.count; i++)
		reqs[i] = &pool->reqs[i];
	for (i = 0; !err && i < b.count; i++) {
		if (irs[i].flags)
			err = -EINVAL;
		else
			err = vh_req_fill(vh, reqs[i], irs[i].op,
					  u64_to_user_ptr(irs[i].in_ptr),
					  irs[i].in_len, irs[i].out_cap);
	}
	if (!err && !(b.flags & VIRTIO_HELLO_BATCH_KICK_EACH))
		queued = vh_queue_many(vh, reqs, b.count);
	for (i = queued; !err && i < b.count; i++) {
		err = vh_queue_std(vh, reqs[i],
				   b.flags & VIRTIO_HELLO_BATCH_KICK_EACH);
		if (!err)
			queued++;
	}
	if (queued)
		vh_kick(vh);
	for (i = 0; i < queued; i++) {
		if (kill || !vh_wait(vh, reqs[i])) {
			/* fatal signal: abandon the rest to the completion path */
			if (!kill) {
				kill = true;
				reqs[i] = NULL;
				continue;
			}
			spin_lock_irq(&vh->lock);
			if (!completion_done(&reqs[i]->done)) {
				reqs[i]->orphan = true;
				reqs[i] = NULL;
			}
			spin_unlock_irq(&vh->lock);
			continue;
		}
		err2 = vh_req_to_user(vh, reqs[i], &irs[i]);
		if (err2 && !err)
			err = err2;
	}
	for (i = 0; i < b.count; i++)
		if (reqs[i])
			vh_req_free(reqs[i]);
	if (kill)
		err = -EINTR;
	if (!err && copy_to_user(u64_to_user_ptr(b.reqs_ptr), irs,
				 array_size(b.count, sizeof(*irs))))
		err = -EFAULT;
	kfree(reqs);
	kfree(irs);
	return err;
}

/* Build and queue one deliberately malformed chain. */
static long vh_ioctl_raw(struct virtio_hello *vh, void __user *uarg)
{
	struct virtio_hello_ioc_raw r;
	struct scatterlist *sgs[4];
	unsigned int out = 0, in = 0;
	struct vh_req *req;
	size_t raw_len = 0;
	int err;

	if (!allow_raw || !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if (r.kind < 1 || r.kind > VIRTIO_HELLO_RAW_MAX)
		return -EINVAL;
	req = vh_req_alloc();
	if (!req)
		return -ENOMEM;
	req->raw = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!req->raw) {
		vh_req_free(req);
		return -ENOMEM;
	}
	req->hdr.op = cpu_to_le32(VIRTIO_HELLO_OP_NOP);
	vh_resp_sgs(req);

	switch (r.kind) {
	case VIRTIO_HELLO_RAW_EMPTY:
		sg_init_one(&req->hdr_sg, &req->hdr, 0);
		sgs[out++] = &req->hdr_sg;
		break;
	case VIRTIO_HELLO_RAW_WRONG_DIR:
		sgs[out + in++] = &req->hdr_sg;
		sgs[out + in++] = &req->resp_sg;
		sgs[out + in++] = &req->status_sg;
		break;
	case VIRTIO_HELLO_RAW_SHORT:
		sg_init_one(&req->hdr_sg, &req->hdr, 8);
		sgs[out++] = &req->hdr_sg;
		sgs[out + in++] = &req->resp_sg;
		sgs[out + in++] = &req->status_sg;
		break;
	case VIRTIO_HELLO_RAW_OVERSIZED:
		req->hdr.op = cpu_to_le32(VIRTIO_HELLO_OP_ECHO);
		req->hdr.len = cpu_to_le32(vh->max_buf_size + 1);
		sgs[out++] = &req->hdr_sg;
		sgs[out + in++] = &req->resp_sg;
		sgs[out + in++] = &req->status_sg;
		break;
	case VIRTIO_HELLO_RAW_LEN_MISMATCH:
		req->hdr.op = cpu_to_le32(VIRTIO_HELLO_OP_ECHO);
		req->hdr.len = cpu_to_le32(100);
		raw_len = 50;
		break;
	case VIRTIO_HELLO_RAW_NO_STATUS:
		sgs[out++] = &req->hdr_sg;
		break;
	case VIRTIO_HELLO_RAW_BAD_OP:
		req->hdr.op = cpu_to_le32(0x7777);
		sgs[out++] = &req->hdr_sg;
		sgs[out + in++] = &req->resp_sg;
		sgs[out + in++] = &req->status_sg;
		break;
	case VIRTIO_HELLO_RAW_NOSPACE:
		req->hdr.op = cpu_to_le32(VIRTIO_HELLO_OP_ECHO);
		req->hdr.len = cpu_to_le32(PAGE_SIZE);
		raw_len = PAGE_SIZE;
		break;
	case VIRTIO_HELLO_RAW_BAD_NAME:
		req->hdr.op = cpu_to_le32(VIRTIO_HELLO_OP_GREET);
		memcpy(req->raw, "bad\x01name", 8);
		req->hdr.len = cpu_to_le32(8);
		raw_len = 8;
		break;
	}
	if (raw_len) {
		sg_init_one(&req->raw_sg, req->raw, raw_len);
		sgs[out++] = &req->hdr_sg;
		sgs[out++] = &req->raw_sg;
		sgs[out + in++] = &req->resp_sg;
		sgs[out + in++] = &req->status_sg;
	}

	err = vh_queue(vh, req, sgs, out, in, true);
	if (err) {
		vh_req_free(req);
		return err;
	}
	if (!vh_wait(vh, req))
		return -EINTR;
	err = req->err;
	r.used_len = req->used_len;
	r.status = req->status;
	if (!err && req->status != VIRTIO_HELLO_S_OK) {
		spin_lock_irq(&vh->lock);
		vh->stats.errors++;
		spin_unlock_irq(&vh->lock);
	}
	vh_req_free(req);
	if (err)
		return err;
	return copy_to_user(uarg, &r, sizeof(r)) ? -EFAULT : 0;
}

static long vh_ioctl_info(struct virtio_hello *vh, void __user *uarg)
{
	struct virtio_hello_ioc_info info = {
		.max_data = vh->max_data,
		.max_buf_size = vh->max_buf_size,
		.max_segs = vh->max_segs,
		.max_name_len = vh->max_name_len,
		.max_greeting_len = vh->max_greeting_len,
		.index = vh->index,
	};

	down_read(&vh->reset_rwsem);
	if (vh->state == VH_GONE) {
		up_read(&vh->reset_rwsem);
		return -ENODEV;
	}
	info.features = vh->vdev->features;
	if (vh->vq)
		info.ring_size = virtqueue_get_vring_size(vh->vq);
	up_read(&vh->reset_rwsem);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long vh_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct virtio_hello *vh = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VIRTIO_HELLO_IOC_INFO:
		return vh_ioctl_info(vh, uarg);
	case VIRTIO_HELLO_IOC_REQUEST:
		return vh_ioctl_request(vh, uarg);
	case VIRTIO_HELLO_IOC_BATCH:
		return vh_ioctl_batch(vh, uarg);
	case VIRTIO_HELLO_IOC_RAW:
		return vh_ioctl_raw(vh, uarg);
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------ read/write/open */

/* write(NAME): ask the device for a greeting; read() returns it. */
static ssize_t vh_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct virtio_hello *vh = file->private_data;
	struct vh_req *req;
	size_t len = count;
	char *reply;
	int err;

	if (len && len <= vh->max_name_len + 1) {
		char last;

		if (get_user(last, buf + len - 1))
			return -EFAULT;
		if (last == '\n')
			len--;		/* echo NAME > /dev/virtio-hello0 */
	}
	if (!len || len > vh->max_name_len)
		return -EINVAL;
	req = vh_req_from_user(vh, VIRTIO_HELLO_OP_GREET, buf, len,
			       vh->max_greeting_len, &err);
	if (!req)
		return err;
	err = vh_submit_wait(vh, req);
	if (err)
		return err;
	err = vh_check_answer(vh, req);
	if (!err && req->status != VIRTIO_HELLO_S_OK)
		err = req->status == VIRTIO_HELLO_S_BADREQ ? -EINVAL : -EIO;
	if (err) {
		vh_req_free(req);
		return err;
	}
	len = le32_to_cpu(req->resp.len);
	reply = kmalloc(len + 1, GFP_KERNEL);
	if (!reply) {
		vh_req_free(req);
		return -ENOMEM;
	}
	memcpy(reply, page_address(req->in.pages[0]), len);
	reply[len] = '\n';
	vh_req_free(req);

	mutex_lock(&vh->greet_lock);
	kfree(vh->greeting);
	vh->greeting = reply;
	vh->greeting_len = len + 1;
	mutex_unlock(&vh->greet_lock);
	return count;
}

static ssize_t vh_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct virtio_hello *vh = file->private_data;
	ssize_t ret;

	mutex_lock(&vh->greet_lock);
	if (!vh->greeting)
		ret = 0;
	else
		ret = simple_read_from_buffer(buf, count, ppos, vh->greeting,
					      vh->greeting_len);
	mutex_unlock(&vh->greet_lock);
	return ret;
}

static int vh_open(struct inode *inode, struct file *file)
{
	/* misc_open() set private_data to our miscdevice, under misc_mtx */
	struct virtio_hello *vh = container_of(file->private_data,
					       struct virtio_hello, misc);

	kref_get(&vh->ref);
	file->private_data = vh;
	return 0;
}

static int vh_release_file(struct inode *inode, struct file *file)
{
	struct virtio_hello *vh = file->private_data;

	kref_put(&vh->ref, vh_release);
	return 0;
}

static const struct file_operations vh_fops = {
	.owner = THIS_MODULE,
	.open = vh_open,
	.release = vh_release_file,
	.read = vh_read,
	.write = vh_write,
	.unlocked_ioctl = vh_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};

/* ------------------------------------------------------------------ sysfs */

#define VH_STAT_ATTR(field)						\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct virtio_hello *vh = dev_to_virtio(dev)->priv;		\
	u64 v;								\
									\
	spin_lock_irq(&vh->lock);					\
	v = vh->stats.field;						\
	spin_unlock_irq(&vh->lock);					\
	return sysfs_emit(buf, "%llu\n", v);				\
}									\
static DEVICE_ATTR_RO(field)

VH_STAT_ATTR(requests);
VH_STAT_ATTR(completed);
VH_STAT_ATTR(errors);
VH_STAT_ATTR(bytes_out);
VH_STAT_ATTR(bytes_in);
VH_STAT_ATTR(kicks);
VH_STAT_ATTR(interrupts);
VH_STAT_ATTR(resets);

static ssize_t inflight_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct virtio_hello *vh = dev_to_virtio(dev)->priv;
	unsigned int v;

	spin_lock_irq(&vh->lock);
	v = vh->inflight;
	spin_unlock_irq(&vh->lock);
	return sysfs_emit(buf, "%u\n", v);
}
static DEVICE_ATTR_RO(inflight);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct virtio_hello *vh = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%s\n", vh_state_names[READ_ONCE(vh->state)]);
}
static DEVICE_ATTR_RO(state);

static struct attribute *vh_stats_attrs[] = {
	&dev_attr_requests.attr,
	&dev_attr_completed.attr,
	&dev_attr_errors.attr,
	&dev_attr_bytes_out.attr,
	&dev_attr_bytes_in.attr,
	&dev_attr_kicks.attr,
	&dev_attr_interrupts.attr,
	&dev_attr_resets.attr,
	&dev_attr_inflight.attr,
	&dev_attr_state.attr,
	NULL,
};

static const struct attribute_group vh_stats_group = {
	.name = "stats",
	.attrs = vh_stats_attrs,
};

static const struct attribute_group *vh_groups[] = {
	&vh_stats_group,
	NULL,
};

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
	if (vh->state == VH_LIVE) {
		vh->state = VH_NEEDS_RESET;
		schedule_work(&vh->reset_work);
	}
	spin_unlock_irqrestore(&vh->lock, flags);
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

static int vh_probe(struct virtio_device *vdev)
{
	struct virtio_hello *vh;
	u32 data_segs;
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

	/* The device is untrusted too: check its configuration. */
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
		err = -EINVAL;
		goto err_free;
	}

	err = vh_init_vq(vh);
	if (err)
		goto err_free;

	/* Without indirect descriptors a chain must fit in the ring. */
	vh->seg_limit = vh->max_segs;
	if (!virtio_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC))
		vh->seg_limit = min(vh->seg_limit,
				    virtqueue_get_vring_size(vh->vq));
	data_segs = (vh->seg_limit - VH_FIXED_SEGS) / 2;
	vh->max_data = min3(vh->max_buf_size, VH_MAX_DATA,
			    (u32)(data_segs * PAGE_SIZE));

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
	kref_put(&vh->ref, vh_release);
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

	vh_req_cache = kmem_cache_create("virtio_hello_req",
					 sizeof(struct vh_req), 0, 0,
					 vh_req_ctor);
	if (!vh_req_cache)
		return -ENOMEM;
	err = register_virtio_driver(&vh_driver);
	if (err)
		kmem_cache_destroy(vh_req_cache);
	return err;
}

static void __exit vh_exit(void)
{
	unregister_virtio_driver(&vh_driver);
	ida_destroy(&vh_ida);
	kmem_cache_destroy(vh_req_cache);
}

module_init(vh_init);
module_exit(vh_exit);

MODULE_DESCRIPTION("virtio-hello: kernelcraft's teaching virtio driver");
MODULE_AUTHOR("kernelcraft");
MODULE_LICENSE("GPL");
