// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-hello: faults on purpose, for the tests.  Nothing here is reachable
 * unless the module is loaded with allow_raw=1.
 *
 *   - VIRTIO_HELLO_IOC_RAW builds one deliberately malformed chain (see
 *     virtio_hello_ioctl.h) and reports what the device did with it.
 *   - /sys/kernel/debug/virtio_hello/virtioN/ holds knobs that make the
 *     driver's own rare paths happen on demand:
 *       fail_indirect  N: the next N chains that need an indirect table
 *                      behave as if its GFP_ATOMIC allocation failed: the
 *                      ring falls back to direct descriptors and returns
 *                      -ENOSPC when the chain does not fit in what is free;
 *       break_ring     write 1: mark the ring broken (virtio_break_device)
 *                      and run the callback, as the next interrupt would.
 */

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "virtio_hello_drv.h"

static struct dentry *vh_debugfs_root;

/* --------------------------------------------------------- hostile chains */

/* Build and queue one deliberately malformed chain. */
long vh_ioctl_raw(struct virtio_hello *vh, void __user *uarg)
{
	struct virtio_hello_ioc_raw r;
	struct scatterlist *sgs[4];
	unsigned int out = 0, in = 0;
	struct vh_req *req;
	size_t raw_len = 0;
	int err;

	if (!vh_allow_raw || !capable(CAP_SYS_ADMIN))
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
	r.status = READ_ONCE(req->status);
	if (!err && r.status != VIRTIO_HELLO_S_OK)
		vh_count_error(vh);
	vh_req_free(req);
	if (err)
		return err;
	return copy_to_user(uarg, &r, sizeof(r)) ? -EFAULT : 0;
}

/* ------------------------------------------------------------ fault knobs */

/*
 * virtqueue_add_sgs() as it behaves when the indirect table cannot be
 * allocated (see virtqueue_add_split()): the chain goes in as direct
 * descriptors, or fails with -ENOSPC if they are not free.  Called with
 * vh->lock held.
 */
int vh_fault_add_sgs(struct virtio_hello *vh, struct scatterlist *sgs[],
		     unsigned int out, unsigned int in, void *data)
{
	unsigned int i, total = 0;

	for (i = 0; i < out + in; i++)
		total += sg_nents(sgs[i]);
	if (vh->fault.fail_indirect &&
	    virtio_has_feature(vh->vdev, VIRTIO_RING_F_INDIRECT_DESC) &&
	    total > 1 && vh->vq->num_free) {
		vh->fault.fail_indirect--;
		if (total > vh->vq->num_free)
			return -ENOSPC;
	}
	return virtqueue_add_sgs(vh->vq, sgs, out, in, data, GFP_ATOMIC);
}

static ssize_t vh_break_ring_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct virtio_hello *vh = file->private_data;
	bool on;
	int err;

	err = kstrtobool_from_user(buf, count, &on);
	if (err)
		return err;
	if (!on)
		return count;
	down_read(&vh->reset_rwsem);
	if (vh->vq && READ_ONCE(vh->state) == VH_LIVE) {
		dev_warn(&vh->vdev->dev, "fault: breaking the ring\n");
		virtio_break_device(vh->vdev);
		vh_vq_done(vh->vq);
	}
	up_read(&vh->reset_rwsem);
	return count;
}

static const struct file_operations vh_break_ring_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vh_break_ring_write,
	.llseek = no_llseek,
};

void vh_fault_init(struct virtio_hello *vh)
{
	struct dentry *dir;

	if (!vh_allow_raw || !vh_debugfs_root)
		return;
	dir = debugfs_create_dir(dev_name(&vh->vdev->dev), vh_debugfs_root);
	debugfs_create_u32("fail_indirect", 0600, dir, &vh->fault.fail_indirect);
	debugfs_create_file("break_ring", 0200, dir, vh, &vh_break_ring_fops);
	vh->fault.dir = dir;
}

/* Waits for knob writers still running, so vh outlives them. */
void vh_fault_exit(struct virtio_hello *vh)
{
	debugfs_remove_recursive(vh->fault.dir);
	vh->fault.dir = NULL;
}

void vh_fault_module_init(void)
{
	if (vh_allow_raw)
		vh_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

void vh_fault_module_exit(void)
{
	debugfs_remove_recursive(vh_debugfs_root);
}
