/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-hello driver: what the files of the module share.
 *
 *   virtio_hello_core.c   probe, remove, reset, the request path, the callback
 *   virtio_hello_req.c    a request's memory: headers, payload pages
 *   virtio_hello_cdev.c   /dev/virtio-helloN: ioctls, read/write
 *   virtio_hello_fault.c  hostile chains and fault knobs, for tests only
 *   virtio_hello_stats.c  /sys/bus/virtio/devices/virtioN/stats/
 */
#ifndef _VIRTIO_HELLO_DRV_H
#define _VIRTIO_HELLO_DRV_H

#include <linux/completion.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/virtio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "virtio_hello.h"
#include "virtio_hello_ioctl.h"

#define VH_MAX_DATA	(16U << 20)	/* driver cap, matches QEMU's max */
#define VH_FIXED_SEGS	3		/* request hdr, response hdr, status */

enum vh_state {
	VH_LIVE,
	VH_NEEDS_RESET,		/* device needs a reset; work queued */
	VH_RESETTING,		/* reset work running */
	VH_DEAD,		/* re-initialisation failed */
	VH_GONE,		/* removed */
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

/* Test-only fault knobs (debugfs, with allow_raw=1): virtio_hello_fault.c */
struct vh_fault {
	struct dentry *dir;
	u32 fail_indirect;	/* indirect tables that "fail" to allocate */
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
	struct vh_fault fault;

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

/*
 * What the device answered, copied out of device-writable memory once,
 * when the request is checked: everything after the check uses this copy,
 * never the shared buffer the device could still change.
 */
struct vh_answer {
	__le64 id;
	u32 len;
	u32 crc32;
	u8 status;
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
	struct list_head orphan_link;	/* on a to-free list, lock dropped */
	struct vh_answer ans;	/* valid after vh_check_answer() */
	int err;
	unsigned int used_len;
	bool orphan;
	ktime_t start;
	u64 latency_ns;
};

/*
 * A batch's requests in one allocation: one allocation per batch instead of
 * one per request.  Each request holds a reference; an orphaned request (its
 * submitter was killed) drops its own when the device returns it.
 */
struct vh_pool {
	refcount_t ref;
	struct vh_req reqs[];
};

/* virtio_hello_core.c */
extern bool vh_allow_raw;
void vh_put(struct virtio_hello *vh);
int vh_queue(struct virtio_hello *vh, struct vh_req *req,
	     struct scatterlist *sgs[], unsigned int out, unsigned int in,
	     bool kick);
int vh_queue_std(struct virtio_hello *vh, struct vh_req *req, bool kick);
unsigned int vh_queue_many(struct virtio_hello *vh, struct vh_req **reqs,
			   unsigned int n);
void vh_kick(struct virtio_hello *vh);
bool vh_wait(struct virtio_hello *vh, struct vh_req *req);
int vh_submit_wait(struct virtio_hello *vh, struct vh_req *req);
void vh_vq_done(struct virtqueue *vq);
void vh_ring_broken(struct virtio_hello *vh);
void vh_count_error(struct virtio_hello *vh);

/* virtio_hello_req.c */
int vh_req_cache_init(void);
void vh_req_cache_exit(void);
struct vh_req *vh_req_alloc(void);
struct vh_pool *vh_pool_alloc(unsigned int n);
void vh_req_free(struct vh_req *req);
void vh_resp_sgs(struct vh_req *req);
void vh_buf_free(struct vh_buf *b);
int vh_buf_alloc(struct vh_buf *b, size_t len, gfp_t gfp);
int vh_buf_from_user(struct vh_buf *b, const void __user *src);
int vh_buf_to_user(struct vh_buf *b, void __user *dst, size_t len);
u32 vh_buf_crc32(struct vh_buf *b, size_t len);

/* virtio_hello_cdev.c */
extern const struct file_operations vh_fops;

/* virtio_hello_fault.c */
long vh_ioctl_raw(struct virtio_hello *vh, void __user *uarg);
void vh_fault_init(struct virtio_hello *vh);
void vh_fault_exit(struct virtio_hello *vh);
int vh_fault_add_sgs(struct virtio_hello *vh, struct scatterlist *sgs[],
		     unsigned int out, unsigned int in, void *data);
void vh_fault_module_init(void);
void vh_fault_module_exit(void);

/* virtio_hello_stats.c */
extern const struct attribute_group *vh_groups[];
extern const char * const vh_state_names[];

#endif /* _VIRTIO_HELLO_DRV_H */
