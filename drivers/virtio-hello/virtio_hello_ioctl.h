/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * virtio-hello: the driver <-> user space ABI of /dev/virtio-helloN.
 *
 * The device <-> driver ABI is devices/virtio-hello/include/virtio_hello.h;
 * this header only describes the character device.  All ioctls return 0
 * when the device answered (whatever its status byte says: see .status) and
 * a negative errno when it could not: -ENODEV (device removed), -EIO (device
 * needed a reset, its ring broke, or it answered inconsistently), -EINTR
 * (fatal signal; the request is abandoned, the driver frees it when the
 * device returns it or at reset/remove), -ENOMEM (no memory for the
 * request), -E2BIG (beyond the driver's per-request limit, max_data in
 * INFO: a chain is never longer than the ring), -EINVAL.
 */
#ifndef _VIRTIO_HELLO_IOCTL_H
#define _VIRTIO_HELLO_IOCTL_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VIRTIO_HELLO_IOC_MAGIC	0xb7

/*
 * What the driver negotiated and how big a request may be.  max_data is at
 * most (min(max_segs, ring_size) - 3) / 2 pages: no chain is longer than
 * the ring, and one request needs its header, the response header and the
 * status besides a page per descriptor each way.
 */
struct virtio_hello_ioc_info {
	__u64 features;		/* negotiated feature bits (device + transport) */
	__u32 max_data;		/* payload limit per request, each direction */
	__u32 max_buf_size;	/* device's config max_buf_size */
	__u32 max_segs;		/* device's config max_segs */
	__u32 ring_size;	/* virtqueue size */
	__u16 max_name_len;
	__u16 max_greeting_len;
	__u32 index;		/* N in /dev/virtio-helloN */
};

/* One request: any VIRTIO_HELLO_OP_* */
struct virtio_hello_ioc_req {
	__u32 op;		/* VIRTIO_HELLO_OP_* */
	__u32 flags;		/* must be 0 */
	__u64 in_ptr;		/* payload sent to the device */
	__u64 out_ptr;		/* room for the response payload */
	__u32 in_len;		/* bytes at in_ptr */
	__u32 out_cap;		/* bytes of room at out_ptr */
	__u32 out_len;		/* [out] response payload bytes */
	__u32 crc32;		/* [out] device's CRC-32 of the payload */
	__u8 status;		/* [out] VIRTIO_HELLO_S_* */
	__u8 pad[7];
	__u64 latency_ns;	/* [out] queued -> completed */
};

/*
 * Many requests, one notification: all are queued, the device is kicked
 * once (or per request with VIRTIO_HELLO_BATCH_KICK_EACH), then all are
 * awaited.  Per-request results land in each element.
 */
#define VIRTIO_HELLO_BATCH_MAX		64
#define VIRTIO_HELLO_BATCH_KICK_EACH	(1U << 0)

struct virtio_hello_ioc_batch {
	__u64 reqs_ptr;		/* struct virtio_hello_ioc_req[count] */
	__u32 count;		/* 1..VIRTIO_HELLO_BATCH_MAX */
	__u32 flags;		/* VIRTIO_HELLO_BATCH_* */
};

/*
 * Hostile chains, for tests (module parameter allow_raw=1, CAP_SYS_ADMIN).
 * The result says what the device did with the chain.  allow_raw=1 also
 * adds fault knobs in /sys/kernel/debug/virtio_hello/virtioN/ (see
 * virtio_hello_fault.c).
 */
#define VIRTIO_HELLO_RAW_EMPTY		1 /* one zero-length readable descriptor */
#define VIRTIO_HELLO_RAW_WRONG_DIR	2 /* a valid request, but in writable buffers */
#define VIRTIO_HELLO_RAW_SHORT		3 /* 8-byte request header */
#define VIRTIO_HELLO_RAW_OVERSIZED	4 /* header claims max_buf_size + 1 bytes */
#define VIRTIO_HELLO_RAW_LEN_MISMATCH	5 /* header says 100 bytes, chain has 50 */
#define VIRTIO_HELLO_RAW_NO_STATUS	6 /* no device-writable byte at all */
#define VIRTIO_HELLO_RAW_BAD_OP		7 /* unknown op */
#define VIRTIO_HELLO_RAW_NOSPACE	8 /* ECHO 4 KiB, room for header only */
#define VIRTIO_HELLO_RAW_BAD_NAME	9 /* GREET with a control character */
#define VIRTIO_HELLO_RAW_MAX		9

struct virtio_hello_ioc_raw {
	__u32 kind;		/* VIRTIO_HELLO_RAW_* */
	__u32 used_len;		/* [out] used.len reported by the device */
	__u8 status;		/* [out] status byte (0xff: not written) */
	__u8 pad[7];
};

#define VIRTIO_HELLO_IOC_INFO	_IOR(VIRTIO_HELLO_IOC_MAGIC, 0, struct virtio_hello_ioc_info)
#define VIRTIO_HELLO_IOC_REQUEST _IOWR(VIRTIO_HELLO_IOC_MAGIC, 1, struct virtio_hello_ioc_req)
#define VIRTIO_HELLO_IOC_BATCH	_IOW(VIRTIO_HELLO_IOC_MAGIC, 2, struct virtio_hello_ioc_batch)
#define VIRTIO_HELLO_IOC_RAW	_IOWR(VIRTIO_HELLO_IOC_MAGIC, 3, struct virtio_hello_ioc_raw)

#endif /* _VIRTIO_HELLO_IOCTL_H */
