// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-hello: /dev/virtio-helloN, the driver's face to user space.
 *   - ioctl(VIRTIO_HELLO_IOC_*): any op, batches, hostile chains for tests
 *     (virtio_hello_ioctl.h);
 *   - write(NAME) then read(): a greeting, for shell use.
 */

#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/virtio_config.h>

#include "virtio_hello_drv.h"

/* --------------------------------------------------------------- answers */

/*
 * Check what the (untrusted) device answered.  Returns 0 or -errno.  The
 * answer is read from device-writable memory once, into req->ans; callers
 * use that copy only, so what was checked is what is used.
 */
static int vh_check_answer(struct virtio_hello *vh, struct vh_req *req)
{
	struct vh_answer *a = &req->ans;
	u32 op = le32_to_cpu(req->hdr.op);
	static const char * const why[] = {
		"", "no status", "inconsistent", "crc32 mismatch"
	};
	int bad = 0;

	if (req->err)
		return req->err;
	a->id = READ_ONCE(req->resp.id);
	a->len = le32_to_cpu(READ_ONCE(req->resp.len));
	a->crc32 = le32_to_cpu(READ_ONCE(req->resp.crc32));
	a->status = READ_ONCE(req->status);

	if (a->status == VIRTIO_HELLO_S_PENDING)
		bad = 1;	/* status never written */
	else if (a->status == VIRTIO_HELLO_S_OK &&
		 (a->id != req->hdr.id || a->len > req->in.len ||
		  req->used_len < sizeof(req->resp) + a->len))
		bad = 2;	/* inconsistent response */
	else if (a->status == VIRTIO_HELLO_S_OK &&
		 (op == VIRTIO_HELLO_OP_ECHO || op == VIRTIO_HELLO_OP_CRC32) &&
		 a->crc32 != vh_buf_crc32(&req->out, req->out.len))
		bad = 3;	/* the device saw other bytes than we sent */
	if (bad || a->status != VIRTIO_HELLO_S_OK || a->len) {
		/* a good answer without payload changes no counter */
		spin_lock_irq(&vh->lock);
		if (bad || a->status != VIRTIO_HELLO_S_OK)
			vh->stats.errors++;
		else
			vh->stats.bytes_in += a->len;
		spin_unlock_irq(&vh->lock);
	}
	if (bad) {
		pr_warn_ratelimited("%s: request %llu: bad answer (%s, status %u, used %u, len %u)\n",
				    vh->name, le64_to_cpu(req->hdr.id),
				    why[bad], a->status, req->used_len, a->len);
		return -EIO;
	}
	if (a->status != VIRTIO_HELLO_S_OK)
		pr_info_ratelimited("%s: request %llu op %u: device status %u\n",
				    vh->name, le64_to_cpu(req->hdr.id), op,
				    a->status);
	return 0;
}

/* Set up @req as a standard request from user memory (not queued yet). */
static int vh_req_fill(struct virtio_hello *vh, struct vh_req *req, u32 op,
		       const void __user *src, u32 in_len, u32 out_cap)
{
	int err;

	if (in_len > vh->max_data || out_cap > vh->max_data)
		return -E2BIG;
	req->hdr.op = cpu_to_le32(op);
	req->hdr.len = cpu_to_le32(in_len);
	err = vh_buf_alloc(&req->out, in_len, GFP_KERNEL);
	/*
	 * Zeroed: the device writes these pages, and what it says it wrote
	 * (resp.len) goes to user space.  A device that says more than it
	 * wrote must not hand out what the pages held before.
	 */
	if (!err)
		err = vh_buf_alloc(&req->in, out_cap, GFP_KERNEL | __GFP_ZERO);
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
	ir->status = req->ans.status;
	ir->latency_ns = req->latency_ns;
	ir->out_len = 0;
	ir->crc32 = 0;
	if (req->ans.status != VIRTIO_HELLO_S_OK)
		return 0;
	ir->out_len = req->ans.len;
	ir->crc32 = req->ans.crc32;
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
	if (!err && req->ans.status != VIRTIO_HELLO_S_OK)
		err = req->ans.status == VIRTIO_HELLO_S_BADREQ ? -EINVAL : -EIO;
	if (err) {
		vh_req_free(req);
		return err;
	}
	len = req->ans.len;
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

	vh_put(vh);
	return 0;
}

const struct file_operations vh_fops = {
	.owner = THIS_MODULE,
	.open = vh_open,
	.release = vh_release_file,
	.read = vh_read,
	.write = vh_write,
	.unlocked_ioctl = vh_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};
