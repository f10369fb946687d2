/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * virtio-hello: the device <-> driver ABI of kernelcraft's teaching device.
 *
 * One header, three users:
 *   - the QEMU device: copied to include/standard-headers/linux/virtio_hello.h
 *     by devices/qemu-build.sh and included after "qemu/osdep.h";
 *   - the Linux driver: drivers/virtio-hello/Kbuild adds
 *     -I devices/virtio-hello/include;
 *   - user space (hello-client): plain <linux/types.h> from linux-libc-dev.
 *
 * Everything multi-byte is little-endian (a modern, VERSION_1-only device).
 * In the kernel and in user space the fields are __le16/__le32/__le64, so
 * sparse checks every access; in QEMU they are plain uintN_t and the device
 * converts with le32_to_cpu() & co., as QEMU's other standard-headers do.
 *
 * The full contract, with the reasons behind it, is docs/virtio-hello.md.
 */
#ifndef _LINUX_VIRTIO_HELLO_H
#define _LINUX_VIRTIO_HELLO_H

#ifdef QEMU_OSDEP_H
/* QEMU: fixed-width types come from osdep.h (standard-headers style). */
#include "standard-headers/linux/types.h"
#define __vh_u8		uint8_t
#define __vh_le16	uint16_t
#define __vh_le32	uint32_t
#define __vh_le64	uint64_t
#else
#include <linux/types.h>
#define __vh_u8		__u8
#define __vh_le16	__le16
#define __vh_le32	__le32
#define __vh_le64	__le64
#endif

/*
 * Device ID.  The virtio spec assigns 1-13, 16-36 and 38-47 (v1.4 adds 48
 * and 49; Linux uses 37); crosvm uses private IDs counting down from 63
 * (61-63).  56 sits in the unassigned gap, below 64 so the modern PCI
 * device ID 0x1040 + 56 = 0x1078 exists.
 * It is NOT reserved with OASIS: fine for a lab, never ship it.
 */
#define VIRTIO_ID_HELLO			56
#define VIRTIO_HELLO_PCI_DEVICE_ID	(0x1040 + VIRTIO_ID_HELLO)

/* Device feature bits (0-23 are device-specific) */
#define VIRTIO_HELLO_F_CRC32		0 /* VIRTIO_HELLO_OP_CRC32 available */

/* Virtqueues */
#define VIRTIO_HELLO_VQ_REQUEST		0
#define VIRTIO_HELLO_NUM_VQS		1

/* Device configuration space (read-only for the driver) */
struct virtio_hello_config {
	/* max payload bytes per request, either direction */
	__vh_le32 max_buf_size;
	/*
	 * max descriptors in one chain (readable + writable), indirect or
	 * not: the request queue's size, as no chain may be longer than the
	 * queue (virtio 1.2, 2.7.5.3.1).  Drivers still bound their chains
	 * by the ring size they set up, which may be smaller.
	 */
	__vh_le32 max_segs;
	/* max NAME bytes in VIRTIO_HELLO_OP_GREET */
	__vh_le16 max_name_len;
	/* max payload bytes of a VIRTIO_HELLO_OP_GREET response */
	__vh_le16 max_greeting_len;
	__vh_le32 reserved;
};

/* Operations (struct virtio_hello_req.op) */
#define VIRTIO_HELLO_OP_GREET		1 /* payload NAME -> "Hello, NAME! from G" */
#define VIRTIO_HELLO_OP_ECHO		2 /* payload -> same bytes back, + crc32 */
#define VIRTIO_HELLO_OP_CRC32		3 /* payload -> crc32 only (F_CRC32) */
#define VIRTIO_HELLO_OP_NOP		4 /* no payload; a bare round trip */

/*
 * A request is one descriptor chain:
 *   device-readable:  struct virtio_hello_req, then exactly req.len payload
 *                     bytes (any split across descriptors);
 *   device-writable:  struct virtio_hello_resp, then room for the response
 *                     payload, then ONE status byte: the status is always
 *                     the LAST byte of the writable part, so the driver can
 *                     find it even when nothing else was written.
 * The device writes every writable byte: the response header when it fits,
 * the payload, zeros up to the status byte, and the status byte.  So
 * used.len is the size of the whole writable part, status byte included, as
 * virtio-blk's is; resp.len says how much of the room is the answer.
 */
struct virtio_hello_req {
	__vh_le32 op;		/* VIRTIO_HELLO_OP_* */
	__vh_le32 len;		/* payload bytes following this header */
	__vh_le64 id;		/* driver cookie, echoed in the response */
};

struct virtio_hello_resp {
	__vh_le64 id;		/* virtio_hello_req.id */
	__vh_le32 len;		/* payload bytes following this header */
	__vh_le32 crc32;	/* CRC-32 (IEEE, as zlib) of the request payload */
};

/* Status byte values */
#define VIRTIO_HELLO_S_OK		0
/*
 * BADREQ: malformed: a short header, a len mismatch, a bad NAME, or more
 * descriptors in the chain than the queue has entries
 */
#define VIRTIO_HELLO_S_BADREQ		1
#define VIRTIO_HELLO_S_UNSUPP		2 /* unknown op, or op's feature not negotiated */
#define VIRTIO_HELLO_S_TOOBIG		3 /* req.len > max_buf_size */
#define VIRTIO_HELLO_S_NOSPACE		4 /* writable part too small for the response */
#define VIRTIO_HELLO_S_PENDING		0xff /* never written by the device: drivers preset it */

#endif /* _LINUX_VIRTIO_HELLO_H */
