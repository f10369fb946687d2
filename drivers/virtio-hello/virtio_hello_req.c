// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-hello: the memory of a request.  A request is its headers and
 * status byte (each its own descriptor) plus two payload buffers, one
 * scatterlist entry per page.
 */

#include <linux/crc32.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "virtio_hello_drv.h"

/* ---------------------------------------------------------------- buffers */

void vh_buf_free(struct vh_buf *b)
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
int vh_buf_alloc(struct vh_buf *b, size_t len, gfp_t gfp)
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

		b->pages[i] = alloc_page(gfp);
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

int vh_buf_from_user(struct vh_buf *b, const void __user *src)
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

int vh_buf_to_user(struct vh_buf *b, void __user *dst, size_t len)
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

u32 vh_buf_crc32(struct vh_buf *b, size_t len)
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

/* --------------------------------------------------------------- requests */

/*
 * Requests come from a cache whose constructor sets up what never changes
 * (the scatterlists pointing into the request itself, the completion), so
 * an allocation only resets a few fields.  Objects go back to the cache in
 * that constructed state (vh_req_free() restores the one scatterlist the
 * raw path changes).
 */
static struct kmem_cache *vh_req_cache;

static void vh_req_ctor(void *obj)
{
	struct vh_req *req = obj;

	init_completion(&req->done);
	sg_init_one(&req->hdr_sg, &req->hdr, sizeof(req->hdr));
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
	req->ans = (struct vh_answer){ };
	req->err = 0;
	req->used_len = 0;
	req->orphan = false;
	req->start = 0;
	req->latency_ns = 0;
}

/* resp and status as two descriptors, for chains with room in between */
void vh_resp_sgs(struct vh_req *req)
{
	sg_init_one(&req->resp_sg, &req->resp, sizeof(req->resp));
	sg_init_one(&req->status_sg, &req->status, sizeof(req->status));
}

struct vh_req *vh_req_alloc(void)
{
	struct vh_req *req = kmem_cache_alloc(vh_req_cache, GFP_KERNEL);

	if (req)
		vh_req_reset(req);
	return req;
}

struct vh_pool *vh_pool_alloc(unsigned int n)
{
	struct vh_pool *pool;
	unsigned int i;

	/*
	 * kmalloc, never kvmalloc: the requests' headers and status bytes are
	 * handed to the device through sg_init_one(), which needs memory in
	 * the linear map.  A vmalloc'ed pool gives virt_to_page() garbage and
	 * the device reads and writes unrelated pages.  64 requests are
	 * about 28 KiB: an order-3 allocation, which GFP_KERNEL retries.
	 */
	pool = kmalloc(struct_size(pool, reqs, n), GFP_KERNEL);
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

/* Any context: the completion path frees orphaned requests from the interrupt. */
void vh_req_free(struct vh_req *req)
{
	vh_buf_free(&req->out);
	vh_buf_free(&req->in);
	if (req->raw)	/* the raw path may have resized hdr_sg */
		sg_init_one(&req->hdr_sg, &req->hdr, sizeof(req->hdr));
	kfree(req->raw);
	if (!req->pool)
		kmem_cache_free(vh_req_cache, req);
	else if (refcount_dec_and_test(&req->pool->ref))
		kfree(req->pool);
}

int vh_req_cache_init(void)
{
	vh_req_cache = kmem_cache_create("virtio_hello_req",
					 sizeof(struct vh_req), 0, 0,
					 vh_req_ctor);
	return vh_req_cache ? 0 : -ENOMEM;
}

void vh_req_cache_exit(void)
{
	kmem_cache_destroy(vh_req_cache);
}
