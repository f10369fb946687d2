/*
 * virtio-hello: kernelcraft's teaching virtio device
 *
 * Installed as include/hw/virtio/virtio-hello.h by devices/qemu-build.sh.
 * The guest-visible ABI lives in standard-headers/linux/virtio_hello.h;
 * the contract is docs/virtio-hello.md in kernelcraft.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or
 * (at your option) any later version.  See the COPYING file in the
 * top-level directory.
 */

#ifndef QEMU_VIRTIO_HELLO_H
#define QEMU_VIRTIO_HELLO_H

#include "hw/virtio/virtio.h"
#include "standard-headers/linux/virtio_hello.h"
#include "qom/object.h"

#define TYPE_VIRTIO_HELLO "virtio-hello-device"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOHello, VIRTIO_HELLO)

#define VIRTIO_HELLO_DEFAULT_GREETING   "QEMU"
#define VIRTIO_HELLO_MAX_GREETING_PROP  128     /* bytes in the property */
#define VIRTIO_HELLO_MAX_NAME_LEN       64
#define VIRTIO_HELLO_MAX_GREETING_LEN   256     /* response payload bound */
#define VIRTIO_HELLO_DEFAULT_MAX_BUF    (1024 * 1024)
#define VIRTIO_HELLO_MIN_MAX_BUF        4096
#define VIRTIO_HELLO_MAX_MAX_BUF        (16 * 1024 * 1024)
#define VIRTIO_HELLO_BOUNCE_SIZE        (64 * 1024)
#define VIRTIO_HELLO_FLUSH_BATCH        64      /* used entries per flush */
#define VIRTIO_HELLO_DEFAULT_BURST      256     /* chains per drain pass */
#define VIRTIO_HELLO_MAX_BURST          (64 * 1024)

struct VirtIOHello {
    VirtIODevice parent_obj;

    VirtQueue *vq;

    /* properties */
    char *greeting;
    uint32_t max_buf_size;
    uint16_t queue_size;
    uint64_t dev_features;      /* VIRTIO_HELLO_F_* offered */

    /* config max_segs: set at realize from queue-size */
    uint32_t max_segs;

    /* answer from a bottom half instead of inside the kick (property) */
    bool defer;
    /* most chains one drain pass answers; the bottom half does the rest */
    uint32_t burst;
    QEMUBH *bh;
    VMChangeStateEntry *vmstate;

    /* QOM "stall": leave requests in the ring (a hung device, for tests) */
    bool stall;

    /* bounded scratch buffer for ECHO, zeroed on reset */
    uint8_t *bounce;

    /*
     * Host-side statistics, read with qom-get.  Cumulative over the
     * device's life on purpose: a driver that recovers from a broken
     * device resets it, and the error count must survive that.
     */
    uint64_t stat_requests;     /* chains completed (any status) */
    uint64_t stat_errors;       /* non-OK status or virtio_error() */
    uint64_t stat_bytes_in;     /* payload bytes read from the guest */
    uint64_t stat_bytes_out;    /* payload bytes written to the guest */
    uint64_t stat_kicks;        /* queue handler invocations */
    uint64_t stat_resets;       /* device resets */
};

#endif
