/*
 * virtio-hello: kernelcraft's teaching virtio device
 *
 * One request virtqueue.  Each chain carries a request header and payload
 * (device-readable) and room for a response header, payload and a final
 * status byte (device-writable).  Operations: GREET, ECHO, CRC32, NOP.
 * The contract is docs/virtio-hello.md; the ABI is
 * standard-headers/linux/virtio_hello.h.
 *
 * Nothing in a chain is trusted: sizes and directions are checked before
 * anything is read or written, a malformed request gets an error status,
 * and a chain that cannot carry its answer (no device-writable byte, or a
 * writable part larger than any answer) marks the device broken with
 * virtio_error() (the guest must reset it).  No guest input reaches an
 * assert().
 *
 * The queue is drained with the BQL held, either inside the kick or, with
 * "defer" and for whatever one pass leaves (the burst limit), from a bottom
 * half.  Trace events: virtio_hello_* in hw/virtio/trace-events.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or
 * (at your option) any later version.  See the COPYING file in the
 * top-level directory.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/iov.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "sysemu/runstate.h"
#include "qemu/module.h"
#include "qemu/units.h"
#include "hw/virtio/virtio.h"
#include "hw/qdev-properties.h"
#include "hw/virtio/virtio-hello.h"
#include "migration/vmstate.h"
#include "trace.h"
#include <zlib.h>

/* CRC-32 (IEEE 802.3, the zlib/Linux crc32_le one) over part of an iovec */
static uint32_t virtio_hello_iov_crc32(uint32_t crc, const struct iovec *iov,
                                       unsigned int iov_cnt, size_t offset,
                                       size_t bytes)
{
    unsigned int i;

    for (i = 0; i < iov_cnt && bytes; i++) {
        size_t n;

        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        n = MIN(iov[i].iov_len - offset, bytes);
        crc = crc32(crc, (const Bytef *)iov[i].iov_base + offset, n);
        bytes -= n;
        offset = 0;
    }
    return crc;
}

static uint8_t virtio_hello_greet(VirtIOHello *s, VirtQueueElement *elem,
                                  uint32_t len, size_t room,
                                  uint32_t *out_len)
{
    char name[VIRTIO_HELLO_MAX_NAME_LEN];
    g_autofree char *reply = NULL;
    size_t reply_len;
    uint32_t i;

    if (len == 0 || len > VIRTIO_HELLO_MAX_NAME_LEN) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: GREET name length %u not in 1..%d\n",
                      len, VIRTIO_HELLO_MAX_NAME_LEN);
        return VIRTIO_HELLO_S_BADREQ;
    }
    iov_to_buf(elem->out_sg, elem->out_num, sizeof(struct virtio_hello_req),
               name, len);
    for (i = 0; i < len; i++) {
        if (name[i] < 0x20 || name[i] > 0x7e) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "virtio-hello: GREET name byte %u is 0x%02x, "
                          "not printable ASCII\n", i, (uint8_t)name[i]);
            return VIRTIO_HELLO_S_BADREQ;
        }
    }

    reply = g_strdup_printf("Hello, %.*s! from %s", (int)len, name,
                            s->greeting);
    reply_len = strlen(reply);
    if (reply_len > room) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: GREET reply needs %zu bytes, "
                      "response area has %zu\n", reply_len, room);
        return VIRTIO_HELLO_S_NOSPACE;
    }
    iov_from_buf(elem->in_sg, elem->in_num, sizeof(struct virtio_hello_resp),
                 reply, reply_len);
    *out_len = reply_len;
    return VIRTIO_HELLO_S_OK;
}

static uint8_t virtio_hello_echo(VirtIOHello *s, VirtQueueElement *elem,
                                 uint32_t len, size_t room, uint32_t *crc)
{
    size_t off, n;

    if (len > room) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: ECHO of %u bytes, response area has "
                      "%zu\n", len, room);
        return VIRTIO_HELLO_S_NOSPACE;
    }
    /* Through a bounded bounce buffer: memory use does not grow with len */
    *crc = crc32(0L, Z_NULL, 0);
    for (off = 0; off < len; off += n) {
        n = MIN(VIRTIO_HELLO_BOUNCE_SIZE, len - off);
        if (iov_to_buf(elem->out_sg, elem->out_num,
                       sizeof(struct virtio_hello_req) + off,
                       s->bounce, n) != n) {
            return VIRTIO_HELLO_S_BADREQ;       /* cannot happen: sized */
        }
        *crc = crc32(*crc, s->bounce, n);
        iov_from_buf(elem->in_sg, elem->in_num,
                     sizeof(struct virtio_hello_resp) + off, s->bounce, n);
    }
    return VIRTIO_HELLO_S_OK;
}

/*
 * Read the request header from the chain into @req and check it against the
 * chain and the device's limits, trusting nothing the guest wrote.  Returns
 * VIRTIO_HELLO_S_OK with *room the writable bytes left for a payload, or
 * the status to answer with.
 */
static uint8_t virtio_hello_read_req(VirtIOHello *s, VirtQueueElement *elem,
                                     size_t out_size, size_t in_size,
                                     struct virtio_hello_req *req,
                                     size_t *room)
{
    /* exercise virtio-device TODO 2 */
    uint32_t len;

    if (out_size < sizeof(*req)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: chain %u: %zu readable bytes, "
                      "request header needs %zu\n",
                      elem->index, out_size, sizeof(*req));
        return VIRTIO_HELLO_S_BADREQ;
    }
    iov_to_buf(elem->out_sg, elem->out_num, 0, req, sizeof(*req));
    len = le32_to_cpu(req->len);

    if (len > s->max_buf_size) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: chain %u: payload %u > max-buf-size %u\n",
                      elem->index, len, s->max_buf_size);
        return VIRTIO_HELLO_S_TOOBIG;
    }
    if (out_size - sizeof(*req) != len) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: chain %u: header says %u payload bytes, "
                      "chain has %zu\n",
                      elem->index, len, out_size - sizeof(*req));
        return VIRTIO_HELLO_S_BADREQ;
    }
    if (in_size < sizeof(struct virtio_hello_resp) + 1) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: chain %u: %zu writable bytes, response "
                      "header and status need %zu\n",
                      elem->index, in_size,
                      sizeof(struct virtio_hello_resp) + 1);
        return VIRTIO_HELLO_S_NOSPACE;
    }
    *room = in_size - sizeof(struct virtio_hello_resp) - 1;
    /* end exercise virtio-device TODO 2 */
    return VIRTIO_HELLO_S_OK;
}

/*
 * A chain may not have more descriptors than the queue has entries, through
 * an indirect table or not (virtio 1.2, 2.7.5.3.1: "A driver MUST NOT
 * create a descriptor chain longer than the Queue Size of the device").
 * virtqueue_pop() bounds a direct chain by the ring, but it takes an
 * indirect table of up to VIRTQUEUE_MAX_SIZE entries whatever the queue
 * size.  The element holds one iovec per descriptor (more only for a
 * buffer that spans two memory regions), so their count is checked.  Such
 * a chain is malformed but harmless: BADREQ, the device stays usable.
 */
static uint8_t virtio_hello_check_segs(VirtIOHello *s, VirtQueueElement *elem)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    unsigned int segs = elem->out_num + elem->in_num;
    unsigned int num = virtio_queue_get_num(vdev, VIRTIO_HELLO_VQ_REQUEST);

    if (segs > num) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: chain %u: %u descriptors, the queue "
                      "has %u\n", elem->index, segs, num);
        return VIRTIO_HELLO_S_BADREQ;
    }
    return VIRTIO_HELLO_S_OK;
}

/*
 * Handle one chain and fill its used element at offset @idx from the used
 * index; the caller publishes it with virtqueue_flush().  Returns false when
 * the device had to be marked broken (the element is then detached, not
 * filled).
 */
static bool virtio_hello_handle_one(VirtIOHello *s, VirtQueueElement *elem,
                                    unsigned int idx)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    struct virtio_hello_req req = { 0 };
    struct virtio_hello_resp resp = { 0 };
    size_t out_size = iov_size(elem->out_sg, elem->out_num);
    size_t in_size = iov_size(elem->in_sg, elem->in_num);
    size_t room = 0;
    uint32_t op = 0, len = 0, out_len = 0, crc = 0;
    uint8_t status;
    size_t used = 0;

    /*
     * The device writes every writable byte (see below), so their number is
     * bounded by the largest answer: a request header's worth of response,
     * max-buf-size bytes of payload and the status.
     */
    if (in_size < 1 || in_size > sizeof(resp) + s->max_buf_size + 1) {
        /* Nowhere to put a status: the driver cannot learn the outcome. */
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: chain %u: %zu device-writable bytes, "
                      "an answer needs 1..%zu (%u readable, %u writable "
                      "descriptors)\n", elem->index, in_size,
                      sizeof(resp) + s->max_buf_size + 1,
                      elem->out_num, elem->in_num);
        trace_virtio_hello_bad_chain(s, elem->index, out_size, in_size);
        virtio_error(vdev, "virtio-hello: chain %u cannot carry an answer "
                     "(%zu writable bytes)", elem->index, in_size);
        virtqueue_detach_element(s->vq, elem, 0);
        g_free(elem);
        s->stat_errors++;
        return false;
    }

    status = virtio_hello_read_req(s, elem, out_size, in_size, &req, &room);
    if (status == VIRTIO_HELLO_S_OK) {
        status = virtio_hello_check_segs(s, elem);
    }
    op = le32_to_cpu(req.op);
    len = le32_to_cpu(req.len);
    resp.id = req.id;
    if (status != VIRTIO_HELLO_S_OK) {
        goto done;
    }

    switch (op) {
    case VIRTIO_HELLO_OP_GREET:
        status = virtio_hello_greet(s, elem, len, room, &out_len);
        break;
    case VIRTIO_HELLO_OP_ECHO:
        status = virtio_hello_echo(s, elem, len, room, &crc);
        if (status == VIRTIO_HELLO_S_OK) {
            out_len = len;
        }
        break;
    case VIRTIO_HELLO_OP_CRC32:
        if (!virtio_vdev_has_feature(vdev, VIRTIO_HELLO_F_CRC32)) {
            qemu_log_mask(LOG_GUEST_ERROR,
                          "virtio-hello: CRC32 without VIRTIO_HELLO_F_CRC32\n");
            status = VIRTIO_HELLO_S_UNSUPP;
            break;
        }
        crc = virtio_hello_iov_crc32(crc32(0L, Z_NULL, 0),
                                     elem->out_sg, elem->out_num,
                                     sizeof(req), len);
        status = VIRTIO_HELLO_S_OK;
        break;
    case VIRTIO_HELLO_OP_NOP:
        status = VIRTIO_HELLO_S_OK;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "virtio-hello: chain %u: unknown op %u\n",
                      elem->index, op);
        status = VIRTIO_HELLO_S_UNSUPP;
        break;
    }

done:
    /* The response header whenever it fits, so the driver gets its id back */
    if (in_size >= sizeof(resp) + 1) {
        if (status != VIRTIO_HELLO_S_OK) {
            out_len = 0;
            crc = 0;
        }
        resp.len = cpu_to_le32(out_len);
        resp.crc32 = cpu_to_le32(crc);
        iov_from_buf(elem->in_sg, elem->in_num, 0, &resp, sizeof(resp));
        used = sizeof(resp) + out_len;
    }
    /*
     * The status is always the last writable byte.  used.len counts it, as
     * virtio-blk counts its own: the core unmaps (writes back a bounce
     * buffer, marks dirty for migration) only the first used.len bytes.
     * used.len must also be a lower bound of what was written from the
     * start, so the gap between the answer and the status is zeroed.
     */
    iov_memset(elem->in_sg, elem->in_num, used, 0, in_size - 1 - used);
    iov_from_buf(elem->in_sg, elem->in_num, in_size - 1, &status, 1);

    s->stat_requests++;
    if (status == VIRTIO_HELLO_S_OK) {
        s->stat_bytes_in += len;
        s->stat_bytes_out += out_len;
    } else {
        s->stat_errors++;
    }
    trace_virtio_hello_request(s, elem->index, op, len, status);
    virtqueue_fill(s->vq, elem, in_size, idx);
    g_free(elem);
    return true;
}

/*
 * Whether the queue may be drained now.  A broken device also says so
 * again: virtio_error() set DEVICE_NEEDS_RESET, but the driver writes the
 * whole status byte and may have cleared it (the spec forbids that, a
 * hostile or confused guest does it anyway); a device that ignores its
 * queue without NEEDS_RESET leaves the driver waiting for ever.
 */
static bool virtio_hello_ready(VirtIOHello *s)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(s);

    if (!vdev->vm_running) {
        return false;           /* the state may be being saved */
    }
    if (vdev->broken) {
        if (!(vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET) &&
            virtio_vdev_has_feature(vdev, VIRTIO_F_VERSION_1)) {
            vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
            virtio_notify_config(vdev);
        }
        return false;
    }
    return (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !s->stall;
}

/*
 * Pop the chains the guest made available, answer each, and push the
 * answers to the used ring: at most s->burst of them, the rest left to the
 * bottom half (*more), with guest notifications still off, so a guest that
 * keeps refilling the ring cannot keep QEMU's main loop here (virtio-net's
 * tx_burst does the same).  Returns how many were answered.
 *
 * Guest notifications are suppressed while draining, then re-enabled and
 * the ring looked at again: requests queued meanwhile are handled without
 * another kick.  Answers are filled one by one but the used index is
 * published once per VIRTIO_HELLO_FLUSH_BATCH (one index write and barrier
 * per batch, as virtio-net's receive path does).
 */
static unsigned int virtio_hello_drain(VirtIOHello *s, bool *more)
{
    unsigned int answered = 0;
    /* exercise virtio-device TODO 1 */
    VirtIODevice *vdev = VIRTIO_DEVICE(s);
    VirtQueueElement *elem;
    unsigned int filled = 0;

    for (;;) {
        virtio_queue_set_notification(s->vq, 0);
        while (answered < s->burst &&
               (elem = virtqueue_pop(s->vq, sizeof(VirtQueueElement)))) {
            if (!virtio_hello_handle_one(s, elem, filled)) {
                break;                          /* the device is broken */
            }
            answered++;
            if (++filled == VIRTIO_HELLO_FLUSH_BATCH) {
                virtqueue_flush(s->vq, filled);
                filled = 0;
            }
        }
        if (filled) {
            virtqueue_flush(s->vq, filled);
            filled = 0;
        }
        /* broken by a chain, or no longer live */
        if (vdev->broken || !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
            break;
        }
        if (answered >= s->burst) {
            *more = !virtio_queue_empty(s->vq);
            if (*more) {
                break;
            }
        }
        virtio_queue_set_notification(s->vq, 1);
        if (virtio_queue_empty(s->vq)) {
            break;
        }
    }
    /* end exercise virtio-device TODO 1 */
    return answered;
}

/* One interrupt per pass, also for what was answered before a break */
static void virtio_hello_interrupt(VirtIOHello *s, unsigned int answered)
{
    /* exercise virtio-device TODO 3 */
    VirtIODevice *vdev = VIRTIO_DEVICE(s);

    if (answered && (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        virtio_notify(vdev, s->vq);
    }
    /* end exercise virtio-device TODO 3 */
}

/* Drain the queue and interrupt the guest once.  Called with the BQL held. */
static void virtio_hello_process(VirtIOHello *s)
{
    unsigned int answered;
    bool more = false;

    if (!virtio_hello_ready(s)) {
        return;
    }
    /* virtqueue_fill()/flush() read the ring caches: RCU-protected */
    RCU_READ_LOCK_GUARD();
    answered = virtio_hello_drain(s, &more);
    trace_virtio_hello_drain(s, s->vq, answered, more);
    virtio_hello_interrupt(s, answered);
    if (more) {
        qemu_bh_schedule(s->bh);
    }
}

static void virtio_hello_handle_request(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOHello *s = VIRTIO_HELLO(vdev);
    DeviceState *transport = qdev_get_parent_bus(DEVICE(vdev))->parent;
    MemReentrancyGuard *guard = &transport->mem_reentrancy_guard;
    bool engaged = guard->engaged_in_io;

    s->stat_kicks++;
    trace_virtio_hello_kick(s, vq, s->defer);
    if (s->defer) {
        /*
         * Answer later, from the main loop, as devices with an iothread or
         * a bottom half do (virtio-net's tx=bh): the guest runs on and may
         * add more requests, and they need no kick until the drain has
         * caught up.
         */
        virtio_queue_set_notification(vq, 0);
        qemu_bh_schedule(s->bh);
        return;
    }
    /*
     * A chain may point its writable buffers at this device's own
     * registers (its device_status, say).  Memory dispatch refuses such a
     * re-entry while the transport's guard is engaged: it is when the kick
     * was a write to the notify register, and in the bottom half
     * (virtio_bh_new_guarded()), but not when the kick came through an
     * ioeventfd.  Engage it here too, so no path lets a request reset or
     * reconfigure the device under the drain.
     */
    guard->engaged_in_io = true;
    virtio_hello_process(s);
    guard->engaged_in_io = engaged;
}

static void virtio_hello_bh(void *opaque)
{
    virtio_hello_process(opaque);
}

/* A drain the stop skipped (a kick, DRIVER_OK, stall cleared) runs now */
static void virtio_hello_vm_state_change(void *opaque, bool running,
                                         RunState state)
{
    VirtIOHello *s = opaque;

    trace_virtio_hello_vm_state_change(s, running, state);
    if (running) {
        qemu_bh_schedule(s->bh);
    }
}

static uint64_t virtio_hello_get_features(VirtIODevice *vdev, uint64_t f,
                                          Error **errp)
{
    VirtIOHello *s = VIRTIO_HELLO(vdev);

    return f | s->dev_features;
}

static void virtio_hello_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOHello *s = VIRTIO_HELLO(vdev);
    struct virtio_hello_config cfg = { 0 };

    stl_le_p(&cfg.max_buf_size, s->max_buf_size);
    stl_le_p(&cfg.max_segs, s->max_segs);
    stw_le_p(&cfg.max_name_len, VIRTIO_HELLO_MAX_NAME_LEN);
    stw_le_p(&cfg.max_greeting_len, VIRTIO_HELLO_MAX_GREETING_LEN);
    memcpy(config, &cfg, sizeof(cfg));
}

/* The QOM path, for the trace events that tie pointers to QMP's view */
static char *virtio_hello_path(VirtIOHello *s)
{
    char *path = object_get_canonical_path(OBJECT(s));

    return path ? path : g_strdup("?");
}

static void virtio_hello_set_status(VirtIODevice *vdev, uint8_t status)
{
    VirtIOHello *s = VIRTIO_HELLO(vdev);

    if (trace_event_get_state_backends(TRACE_VIRTIO_HELLO_DEV_STATUS)) {
        g_autofree char *path = virtio_hello_path(s);

        trace_virtio_hello_dev_status(s, path, status);
    }
    /*
     * Buffers made available before DRIVER_OK were left alone: take them
     * now, from the bottom half.  Not here: the core stores @status only
     * after this returns, so a virtio_error() raised by a drain run here
     * would set DEVICE_NEEDS_RESET just before it is overwritten, leaving a
     * broken device that says nothing.
     */
    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        qemu_bh_schedule(s->bh);
    }
    /* and a broken device makes sure NEEDS_RESET survives this write */
    if (vdev->broken) {
        qemu_bh_schedule(s->bh);
    }
}

static void virtio_hello_reset(VirtIODevice *vdev)
{
    VirtIOHello *s = VIRTIO_HELLO(vdev);

    /*
     * All guest-visible state lives in the virtio core (queues, features,
     * status) and is cleared by it; requests are handled synchronously so
     * none is in flight here (a deferred drain still pending is dropped).
     * A reset recovers a stalled device too.  Scrub the scratch buffer so
     * no data crosses a reset.
     */
    if (trace_event_get_state_backends(TRACE_VIRTIO_HELLO_DEV_RESET)) {
        g_autofree char *path = virtio_hello_path(s);

        trace_virtio_hello_dev_reset(s, path);
    }
    qemu_bh_cancel(s->bh);
    s->stall = false;
    memset(s->bounce, 0, VIRTIO_HELLO_BOUNCE_SIZE);
    s->stat_resets++;
}

static void virtio_hello_device_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOHello *s = VIRTIO_HELLO(dev);
    size_t i, n;

    if (!s->greeting) {
        s->greeting = g_strdup(VIRTIO_HELLO_DEFAULT_GREETING);
    }
    n = strlen(s->greeting);
    if (n == 0 || n > VIRTIO_HELLO_MAX_GREETING_PROP) {
        error_setg(errp, "'greeting' must be 1..%d bytes",
                   VIRTIO_HELLO_MAX_GREETING_PROP);
        return;
    }
    for (i = 0; i < n; i++) {
        if (s->greeting[i] < 0x20 || s->greeting[i] > 0x7e) {
            error_setg(errp, "'greeting' must be printable ASCII");
            return;
        }
    }
    if (s->max_buf_size < VIRTIO_HELLO_MIN_MAX_BUF ||
        s->max_buf_size > VIRTIO_HELLO_MAX_MAX_BUF) {
        error_setg(errp, "'max-buf-size' must be %d..%d",
                   VIRTIO_HELLO_MIN_MAX_BUF, VIRTIO_HELLO_MAX_MAX_BUF);
        return;
    }
    if (s->queue_size < 2 || s->queue_size > VIRTQUEUE_MAX_SIZE ||
        !is_power_of_2(s->queue_size)) {
        error_setg(errp, "'queue-size' must be a power of 2 in 2..%d",
                   VIRTQUEUE_MAX_SIZE);
        return;
    }
    if (s->burst < 1 || s->burst > VIRTIO_HELLO_MAX_BURST) {
        error_setg(errp, "'burst' must be 1..%d", VIRTIO_HELLO_MAX_BURST);
        return;
    }
    /*
     * No chain may be longer than the queue (virtio 1.2, 2.7.5.3.1), so
     * that is the most descriptors one request can have: virtio-blk's
     * seg_max is queue_size - 2 for the same reason (it counts only the
     * data segments, max_segs counts them all).
     */
    s->max_segs = s->queue_size;

    virtio_init(vdev, VIRTIO_ID_HELLO, sizeof(struct virtio_hello_config));
    s->vq = virtio_add_queue(vdev, s->queue_size, virtio_hello_handle_request);
    s->bounce = g_malloc0(VIRTIO_HELLO_BOUNCE_SIZE);
    /* guarded by the transport, whose registers a chain could target */
    s->bh = virtio_bh_new_guarded(dev, virtio_hello_bh, s);
    s->vmstate = qemu_add_vm_change_state_handler(
        virtio_hello_vm_state_change, s);
    if (trace_event_get_state_backends(TRACE_VIRTIO_HELLO_DEV_REALIZE)) {
        g_autofree char *path = virtio_hello_path(s);

        trace_virtio_hello_dev_realize(s, s->vq, path);
    }
}

static void virtio_hello_device_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOHello *s = VIRTIO_HELLO(dev);

    qemu_del_vm_change_state_handler(s->vmstate);
    qemu_bh_delete(s->bh);
    s->bh = NULL;
    virtio_delete_queue(s->vq);
    virtio_cleanup(vdev);
    g_free(s->bounce);
    s->bounce = NULL;
}

static bool virtio_hello_get_stall(Object *obj, Error **errp)
{
    return VIRTIO_HELLO(obj)->stall;
}

static void virtio_hello_set_stall(Object *obj, bool value, Error **errp)
{
    VirtIOHello *s = VIRTIO_HELLO(obj);

    s->stall = value;
    trace_virtio_hello_stall(s, value);
    if (!value && s->bh) {
        /* catch up on what was left, from the main loop, if the VM runs */
        qemu_bh_schedule(s->bh);
    }
}

static void virtio_hello_instance_init(Object *obj)
{
    VirtIOHello *s = VIRTIO_HELLO(obj);

    /*
     * "stall" makes the device stop taking requests, like a hung device:
     * requests stay in the ring until it is cleared, the device is reset or
     * it is unplugged.  For testing drivers (qom-set <id> stall true).
     */
    object_property_add_bool(obj, "stall", virtio_hello_get_stall,
                             virtio_hello_set_stall);

    object_property_add_uint64_ptr(obj, "requests", &s->stat_requests,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "errors", &s->stat_errors,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "bytes-in", &s->stat_bytes_in,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "bytes-out", &s->stat_bytes_out,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "kicks", &s->stat_kicks,
                                   OBJ_PROP_FLAG_READ);
    object_property_add_uint64_ptr(obj, "resets", &s->stat_resets,
                                   OBJ_PROP_FLAG_READ);
}

/*
 * A pass completes every chain it pops, so the only device state is the
 * virtio core's (chains a pass left are still in the avail ring, and the
 * run-state handler schedules the bottom half on the destination).  The
 * statistics are host-side and deliberately not migrated.
 */
static const VMStateDescription vmstate_virtio_hello = {
    .name = "virtio-hello",
    .minimum_version_id = 1,
    .version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_VIRTIO_DEVICE,
        VMSTATE_END_OF_LIST()
    },
};

static Property virtio_hello_properties[] = {
    DEFINE_PROP_STRING("greeting", VirtIOHello, greeting),
    DEFINE_PROP_UINT32("max-buf-size", VirtIOHello, max_buf_size,
                       VIRTIO_HELLO_DEFAULT_MAX_BUF),
    DEFINE_PROP_UINT16("queue-size", VirtIOHello, queue_size, 256),
    DEFINE_PROP_BOOL("defer", VirtIOHello, defer, false),
    DEFINE_PROP_UINT32("burst", VirtIOHello, burst,
                       VIRTIO_HELLO_DEFAULT_BURST),
    DEFINE_PROP_BIT64("crc32", VirtIOHello, dev_features,
                      VIRTIO_HELLO_F_CRC32, true),
    DEFINE_PROP_END_OF_LIST(),
};

static void virtio_hello_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    device_class_set_props(dc, virtio_hello_properties);
    dc->vmsd = &vmstate_virtio_hello;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = virtio_hello_device_realize;
    vdc->unrealize = virtio_hello_device_unrealize;
    vdc->get_features = virtio_hello_get_features;
    vdc->get_config = virtio_hello_get_config;
    vdc->set_status = virtio_hello_set_status;
    vdc->reset = virtio_hello_reset;
}

static const TypeInfo virtio_hello_info = {
    .name = TYPE_VIRTIO_HELLO,
    .parent = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VirtIOHello),
    .instance_init = virtio_hello_instance_init,
    .class_init = virtio_hello_class_init,
};

static void virtio_hello_register_types(void)
{
    type_register_static(&virtio_hello_info);
}

type_init(virtio_hello_register_types)
