// SPDX-License-Identifier: GPL-2.0
/*
 * vh-raw: a hostile virtio-pci driver in user space, for the device's tests.
 *
 * It drives one virtio-hello device with no kernel driver bound: it finds
 * the virtio-pci capabilities in the PCI config space (sysfs "config"),
 * maps the BARs through sysfs "resourceN", builds a 16-entry split ring in
 * two locked pages whose guest-physical addresses come from
 * /proc/self/pagemap, and polls the used ring (no interrupts).  Unlike the
 * Linux driver it does exactly what a scenario says, including what the
 * virtio spec forbids, and it never recovers on its own, so the device's
 * answer (status byte, DEVICE_NEEDS_RESET) stays there to be looked at.
 *
 *   vh-raw PCIDIR SCENARIO [GO_FILE]
 *
 * PCIDIR is /sys/bus/pci/devices/<bdf> of a 1af4:1078 device.  Scenarios:
 *
 *   nop     one NOP
 *   batch   eight NOPs made available at once, one kick
 *   qsize   one NOP; then queue_size := 1024 on the live queue (the driver
 *           must not do this); then one more NOP
 *   early   a chain with no device-writable byte made available and kicked
 *           before DRIVER_OK; then DRIVER_OK; then one NOP
 *   selfdma one NOP whose status byte is the device's own device_status
 *           register (a guest-physical address in its BAR)
 *   stale   one NOP; then its used chain is rewritten as a freed one would
 *           look (next = 0xffff), avail[1] names head 0xffff and avail[2]
 *           an indirect table of 8 bytes, none of them published; after
 *           GO_FILE appears, one NOP through the real avail[1]
 *   long    the config's max_segs; then a NOP through an indirect table of
 *           QSIZE descriptors (its 17 writable bytes cut in QSIZE - 1
 *           pieces), then one of QSIZE + 1, longer than the queue (the
 *           driver must not do this); then one plain NOP
 *
 * Each step prints one line ("nop answered status 0 len 17",
 * "device_status 0x4f", ...).  Then it prints "ready", waits until GO_FILE
 * exists (if given), resets the device so it forgets the ring, and exits.
 *
 *   vh-raw PCIDIR fuzz SEED BATCHES
 *
 * is a seeded random hostile guest with its own ring; see "fuzz" below.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QSIZE		16
#define PAGE		4096

#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	64

#define F_INDIRECT	28
#define F_EVENT_IDX	29
#define F_VERSION_1	32

#define D_NEXT		1
#define D_WRITE		2
#define D_INDIRECT	4

/* struct virtio_pci_common_cfg offsets */
#define C_DFSELECT	0x00
#define C_DF		0x04
#define C_GFSELECT	0x08
#define C_GF		0x0c
#define C_STATUS	0x14
#define C_Q_SELECT	0x16
#define C_Q_SIZE	0x18
#define C_Q_ENABLE	0x1c
#define C_Q_NOFF	0x1e
#define C_Q_DESCLO	0x20
#define C_Q_DESCHI	0x24
#define C_Q_AVAILLO	0x28
#define C_Q_AVAILHI	0x2c
#define C_Q_USEDLO	0x30
#define C_Q_USEDHI	0x34

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct ring {
	volatile struct desc *desc;	/* page offset 0 */
	volatile uint16_t *avail;	/* flags, idx, ring[QSIZE], used_event */
	volatile uint16_t *used;	/* flags, idx, then {le32 id, le32 len} */
	uint64_t pa;			/* guest-physical address of the page */
	uint8_t *buf;			/* request/response buffers */
	uint64_t buf_pa;
	uint16_t avail_idx;
	uint16_t used_seen;
};

static volatile uint8_t *common, *notify, *devcfg;
static uint64_t common_pa;		/* guest-physical address of common */
static unsigned int queue_max;		/* queue 0's size before we set it */
static int verbose_fd = 1;

static void die(const char *what)
{
	fprintf(stderr, "vh-raw: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void w8(unsigned int off, uint8_t v) { *(volatile uint8_t *)(common + off) = v; }
static void w16(unsigned int off, uint16_t v) { *(volatile uint16_t *)(common + off) = v; }
static void w32(unsigned int off, uint32_t v) { *(volatile uint32_t *)(common + off) = v; }
static uint8_t r8(unsigned int off) { return *(volatile uint8_t *)(common + off); }
static uint16_t r16(unsigned int off) { return *(volatile uint16_t *)(common + off); }
static uint32_t r32(unsigned int off) { return *(volatile uint32_t *)(common + off); }

static uint64_t phys(void *p)
{
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		die("/proc/self/pagemap");
	if (pread(fd, &entry, 8, ((uintptr_t)p / PAGE) * 8) != 8)
		die("pagemap read");
	close(fd);
	if (!(entry >> 63) || !(entry & ((1ULL << 55) - 1))) {
		fprintf(stderr, "vh-raw: no physical address (not root?)\n");
		exit(2);
	}
	return (entry & ((1ULL << 55) - 1)) * PAGE;
}

static void *locked_page(uint64_t *pa)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED,
		       -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, 0, PAGE);
	*pa = phys(p);
	return p;
}

static volatile uint8_t *map_bar(const char *dir, int bar)
{
	char path[512];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/resource%d", dir, bar);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st))
		die(path);
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap BAR");
	return p;
}

static uint64_t bar_start(const char *dir, int bar)
{
	unsigned long long start = 0, end, flags;
	char path[512];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "r");
	if (!f)
		die(path);
	for (i = 0; i <= bar; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			die("resource");
	fclose(f);
	return start;
}

/* The common and notify capabilities, and memory + bus mastering on. */
static void find_caps(const char *dir, uint32_t *notify_mult)
{
	uint8_t cfg[256];
	char path[512];
	int fd, n, pos, guard = 0;
	uint16_t cmd;

	snprintf(path, sizeof(path), "%s/config", dir);
	fd = open(path, O_RDWR);
	if (fd < 0)
		die(path);
	n = pread(fd, cfg, sizeof(cfg), 0);
	if (n < 64 || !(cfg[6] & 0x10)) {
		fprintf(stderr, "vh-raw: %s: no capability list\n", path);
		exit(2);
	}
	for (pos = cfg[0x34] & ~3; pos && pos + 16 <= n && guard++ < 48;
	     pos = cfg[pos + 1] & ~3) {
		uint8_t type = cfg[pos + 3], bar = cfg[pos + 4];
		uint32_t off;

		if (cfg[pos] != 0x09)	/* vendor-specific: virtio */
			continue;
		memcpy(&off, &cfg[pos + 8], 4);
		if (type == 1 && !common) {
			common = map_bar(dir, bar) + off;
			common_pa = bar_start(dir, bar) + off;
		}
		if (type == 2 && !notify) {
			notify = map_bar(dir, bar) + off;
			memcpy(notify_mult, &cfg[pos + 16], 4);
		}
		if (type == 4 && !devcfg)
			devcfg = map_bar(dir, bar) + off;
	}
	if (!common || !notify) {
		fprintf(stderr, "vh-raw: no virtio common/notify capability\n");
		exit(2);
	}
	memcpy(&cmd, &cfg[4], 2);
	cmd |= 0x6;		/* memory space, bus master */
	if (pwrite(fd, &cmd, 2, 4) != 2)
		die("PCI command");
	close(fd);
}

static void say(const char *fmt, unsigned long a, unsigned long b)
{
	dprintf(verbose_fd, fmt, a, b);
	dprintf(verbose_fd, "\n");
}

/* Reset, negotiate, set up queue 0; everything but DRIVER_OK. */
static void init_device(struct ring *r, uint64_t *features)
{
	uint64_t offered, want;
	int i;

	w8(C_STATUS, 0);
	for (i = 0; i < 1000 && r8(C_STATUS); i++)
		usleep(1000);
	w8(C_STATUS, S_ACK);
	w8(C_STATUS, S_ACK | S_DRIVER);
	w32(C_DFSELECT, 0);
	offered = r32(C_DF);
	w32(C_DFSELECT, 1);
	offered |= (uint64_t)r32(C_DF) << 32;
	want = offered & ((1ULL << F_VERSION_1) | (1ULL << F_EVENT_IDX) |
			  (1ULL << F_INDIRECT));
	w32(C_GFSELECT, 0);
	w32(C_GF, (uint32_t)want);
	w32(C_GFSELECT, 1);
	w32(C_GF, (uint32_t)(want >> 32));
	w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(r8(C_STATUS) & S_FEATURES_OK)) {
		fprintf(stderr, "vh-raw: FEATURES_OK refused\n");
		exit(2);
	}
	*features = want;

	w16(C_Q_SELECT, 0);
	queue_max = r16(C_Q_SIZE);
	w16(C_Q_SIZE, QSIZE);
	w32(C_Q_DESCLO, (uint32_t)r->pa);
	w32(C_Q_DESCHI, (uint32_t)(r->pa >> 32));
	w32(C_Q_AVAILLO, (uint32_t)(r->pa + 256));
	w32(C_Q_AVAILHI, (uint32_t)((r->pa + 256) >> 32));
	w32(C_Q_USEDLO, (uint32_t)(r->pa + 512));
	w32(C_Q_USEDHI, (uint32_t)((r->pa + 512) >> 32));
	w16(C_Q_ENABLE, 1);
	say("features 0x%lx queue_size %lu", (unsigned long)want, r16(C_Q_SIZE));
}

static void kick(uint32_t mult)
{
	__sync_synchronize();
	*(volatile uint16_t *)(notify + r16(C_Q_NOFF) * mult) = 0;
}

/* A NOP chain at descriptors d, d+1: header (readable), resp + status. */
static void nop_chain(struct ring *r, unsigned int d, int with_status)
{
	uint8_t *req = r->buf + d * 64;
	uint32_t op = 4;

	memset(req, 0, 64);
	memcpy(req, &op, 4);
	req[8] = d;				/* id */
	r->desc[d].addr = r->buf_pa + d * 64;
	r->desc[d].len = 16;
	r->desc[d].flags = with_status ? D_NEXT : 0;
	r->desc[d].next = d + 1;
	r->buf[(d + 1) * 64 + 16] = 0xff;	/* status preset: PENDING */
	r->desc[d + 1].addr = r->buf_pa + (d + 1) * 64;
	r->desc[d + 1].len = 17;
	r->desc[d + 1].flags = D_WRITE;
	r->desc[d + 1].next = 0;
}

static void publish(struct ring *r, unsigned int head, uint32_t mult)
{
	r->avail[2 + r->avail_idx % QSIZE] = head;
	__sync_synchronize();
	r->avail[1] = ++r->avail_idx;
	kick(mult);
}

/*
 * Waits up to 2 s for the used index to move past what was seen; returns
 * the used element (id, len) it moved over, or NULL.
 */
static volatile uint32_t *next_used(struct ring *r)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		__sync_synchronize();
		if (r->used[1] != r->used_seen) {
			volatile uint32_t *elem = (volatile uint32_t *)
				&r->used[2 + 4 * (r->used_seen % QSIZE)];

			r->used_seen++;
			return elem;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > 2000)
			return NULL;
		usleep(1000);
	}
}

/* Waits up to 2 s for the used index to move; prints what came back. */
static int wait_used(struct ring *r, unsigned int d)
{
	volatile uint32_t *elem = next_used(r);

	if (elem) {
		say("nop answered status %lu len %lu",
		    r->buf[(d + 1) * 64 + 16], elem[1]);
		return 1;
	}
	say("nop unanswered (used idx %lu, avail idx %lu)", r->used[1],
	    r->avail_idx);
	return 0;
}

/*
 * A NOP through an indirect table of @n descriptors (3..18), made
 * available at ring descriptor @d: the header, then the 17 writable bytes
 * (response header, status) cut into n - 1 pieces, all but the last one
 * byte long.  Prints what came back.
 */
static void indirect_nop(struct ring *r, unsigned int d, unsigned int n,
			 uint32_t mult)
{
	uint8_t *req = r->buf + 1024, *resp = r->buf + 1088;
	volatile struct desc *tbl = (volatile struct desc *)(r->buf + 2048);
	uint64_t req_pa = r->buf_pa + 1024, resp_pa = r->buf_pa + 1088;
	uint64_t id = 0x1000 + n, got_id;
	uint32_t op = 4;
	volatile uint32_t *elem;
	unsigned int i, off = 0;

	memset(req, 0, 16);
	memcpy(req, &op, 4);
	memcpy(req + 8, &id, 8);
	memset(resp, 0xff, 17);
	tbl[0].addr = req_pa;
	tbl[0].len = 16;
	tbl[0].flags = D_NEXT;
	tbl[0].next = 1;
	for (i = 1; i < n; i++) {
		uint32_t len = i + 1 < n ? 1 : 17 - off;

		tbl[i].addr = resp_pa + off;
		tbl[i].len = len;
		tbl[i].flags = D_WRITE | (i + 1 < n ? D_NEXT : 0);
		tbl[i].next = i + 1 < n ? i + 1 : 0;
		off += len;
	}
	r->desc[d].addr = r->buf_pa + 2048;
	r->desc[d].len = n * 16;
	r->desc[d].flags = D_INDIRECT;
	r->desc[d].next = 0;
	publish(r, d, mult);

	elem = next_used(r);
	if (!elem) {
		dprintf(verbose_fd, "indirect chain of %u descriptors unanswered\n", n);
		return;
	}
	memcpy(&got_id, resp, 8);
	dprintf(verbose_fd, "indirect chain of %u descriptors answered status %u len %u id %s\n",
		n, resp[16], elem[1], got_id == id ? "echoed" : "wrong");
}

static void show_status(void)
{
	uint8_t st = r8(C_STATUS);

	say("device_status 0x%02lx needs_reset %lu", st, !!(st & S_NEEDS_RESET));
}

/*
 * ---------------------------------------------------------------------
 * fuzz: seeded random hostile traffic
 *
 *   vh-raw PCIDIR fuzz SEED BATCHES
 *
 * Each batch makes a few chains available and kicks, then waits until the
 * device has answered all of them or says DEVICE_NEEDS_RESET.  A chain is
 * one of:
 *
 *   valid   GREET, ECHO, CRC32 or NOP, split at random across readable and
 *           writable descriptors, direct or indirect: the device must
 *           answer it, and every writable byte is compared with what the
 *           contract says (docs/virtio-hello.md: response header, payload,
 *           zeroed gap, status as the last byte; used.len = writable
 *           bytes).  An indirect table may be longer than the ring, which
 *           the driver must not do: the contract's answer is then BADREQ;
 *   hdr     a well-formed chain with a random header (op, len, id), a short
 *           header, a payload that disagrees with len, too little room, a
 *           bad GREET name: the same byte-for-byte check, against the error
 *           status the contract gives;
 *   fatal   a chain the device must refuse with virtio_error(): no
 *           writable byte, a zero-length descriptor, readable after
 *           writable, next out of range, a loop (longer than the ring), too
 *           many writable bytes, a head beyond the ring, an indirect table
 *           of a bad length.  It must never be answered;
 *   wild    what has no single right answer: buffers outside guest RAM,
 *           random flags and next within the chain, nested indirect, an
 *           indirect head that also says NEXT, a table longer than its
 *           entries.  Answered or not, only QEMU's survival is checked.
 *
 * The device handles chains in ring order and stops at the first one that
 * breaks it, so the used ring must name a prefix of the batch, in order,
 * and every valid chain of a batch with no fatal or wild one must be
 * answered.  In a batch the device had to refuse, an unanswered valid
 * chain is not counted as valid: "skipped" when it came after the bad
 * chain, "lost" when it came before (see fz_batch()).
 *
 * Between chains: register writes a guest can make, allowed or not: a
 * reset right after the kick, queue_size or queue_enable on the live
 * queue, DRIVER_OK cleared or a random status byte, and harmless noise
 * (feature and queue selects, MSI-X vectors, config writes, kicks of
 * queues that do not exist).  After NEEDS_RESET, a reset in flight, or
 * any doubt, the tool resets the device, negotiates a random feature set
 * and a random ring size again, and goes on.
 *
 * Every device-writable buffer lies in pages of this process (or beyond
 * 1 TiB, where nothing is, or is so large that the device must refuse the
 * chain before writing): a fuzzer that let the device write into guest
 * RAM at random would only test the guest kernel.
 *
 * Batch b draws from its own generator, seeded by (SEED, b), so the same
 * SEED and BATCHES replay the same chains and register writes; only where
 * a reset in flight races the device can the outcome differ.  The last
 * line is the summary; the exit status is 0 only if nothing failed.
 */

#define FZ_PAGES	128	/* data arena: buffers and indirect tables */
#define FZ_MAXQ		256	/* a page of descriptors */
#define FZ_MAXCHAINS	10
#define FZ_MAXPIECES	48	/* descriptors of one well-formed chain */
#define FZ_HDR		16	/* virtio_hello_req and _resp */
#define FZ_GREETING	"QEMU"	/* the device's default "greeting" */
#define FZ_NAME_MAX	64
#define FZ_OP_GREET	1
#define FZ_OP_ECHO	2
#define FZ_OP_CRC32	3
#define FZ_OP_NOP	4
#define FZ_F_CRC32	0
#define FZ_SLOW_MS	2000	/* an answer this late is reported */
#define FZ_TIMEOUT_MS	60000	/* an unanswered, unbroken batch: a hang */
#define FZ_FAR		(1ULL << 40)	/* nothing is mapped at 1 TiB and up */
#define FZ_REPORTS	12	/* failures printed in full */

enum fz_kind { FZ_VALID, FZ_HDR_BAD, FZ_FATAL, FZ_WILD };
static const char *const fz_kind_name[] = { "valid", "hdr", "fatal", "wild" };

struct fz_rng {
	uint64_t s;
};

/* splitmix64: tiny, and any 64-bit seed gives a good stream */
static uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t fz_below(struct fz_rng *r, uint32_t n)
{
	return n ? fz_next(r) % n : 0;
}

static int fz_chance(struct fz_rng *r, unsigned int pct)
{
	return fz_below(r, 100) < pct;
}

static struct fz_rng fz_rng_for(uint64_t seed, uint64_t batch, uint64_t what)
{
	struct fz_rng r = { seed ^ (batch * 0xd1b54a32d192ed03ULL) ^
			       (what << 56) };

	fz_next(&r);
	return r;
}

/* CRC-32 as zlib's crc32(0, buf, len) computes it, the device's */
static uint32_t fz_crc_table[256];

static uint32_t fz_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = ~0U;

	while (n--)
		c = fz_crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static void fz_crc_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		for (c = i, j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		fz_crc_table[i] = c;
	}
}

struct fz_piece {
	uint8_t *va;		/* NULL: not ours (outside RAM, or a lie) */
	uint64_t pa;
	uint32_t len;
	uint16_t flags;
};

struct fz_chain {
	enum fz_kind kind;
	const char *what;
	uint32_t op, len;
	uint16_t head;		/* what avail names */
	int answered;
	uint32_t used_len;
	/* valid and hdr: the writable part and the bytes it must hold */
	unsigned int nw;
	struct fz_piece w[FZ_MAXPIECES];
	uint32_t in_size;
	uint8_t *expect;
};

struct fz_state {
	uint64_t seed;
	uint32_t mult;
	uint32_t max_buf;
	uint64_t ram_top;	/* end of the highest System RAM range */
	/* ring: three pages, so any size up to 256 fits */
	volatile struct desc *desc;
	volatile uint16_t *avail;
	volatile uint16_t *used;
	uint64_t desc_pa, avail_pa, used_pa;
	unsigned int qsize;
	uint64_t features;
	int live;
	uint16_t avail_idx, used_seen;
	/* arena: a bump allocator over FZ_PAGES pages, emptied per batch */
	uint8_t *page_va[FZ_PAGES];
	uint64_t page_pa[FZ_PAGES];
	unsigned int page, off;
	uint8_t *scratch;	/* readable bytes and expectations, per batch */
	size_t scratch_off;
	/* descriptor indices in a random order, taken one by one */
	uint16_t free_idx[FZ_MAXQ];
	unsigned int nfree;
	/* figures */
	unsigned long batches, empty, requests, valid, valid_ok, hdr, hdr_ok;
	unsigned long fatal, wild, skipped, lost, needs_reset, resets, chaos;
	unsigned long hangs, fatal_answered, misordered, failures, slow;
	long slowest_ms;
};

#define FZ_SCRATCH	(4 << 20)

static void fz_fail(struct fz_state *st, unsigned long batch, int chain,
		    const struct fz_chain *c, const char *why, long at)
{
	st->failures++;
	if (st->failures > FZ_REPORTS)
		return;
	printf("vh-fuzz FAIL seed=%llu batch=%lu chain=%d kind=%s what=%s op=%u len=%u: %s",
	       (unsigned long long)st->seed, batch, chain,
	       c ? fz_kind_name[c->kind] : "-", c ? c->what : "-",
	       c ? c->op : 0, c ? c->len : 0, why);
	if (at >= 0)
		printf(" (first difference at writable byte %ld of %u)", at,
		       c ? c->in_size : 0);
	printf("\n");
}

/* len bytes (1..PAGE) inside one page of the arena, 16-byte aligned */
static uint8_t *fz_alloc(struct fz_state *st, uint32_t len, uint64_t *pa)
{
	uint8_t *p;

	if (st->off + len > PAGE) {
		st->page++;
		st->off = 0;
	}
	if (st->page >= FZ_PAGES || len > PAGE)
		return NULL;
	p = st->page_va[st->page] + st->off;
	*pa = st->page_pa[st->page] + st->off;
	st->off = (st->off + len + 15) & ~15U;
	return p;
}

static uint8_t *fz_scratch(struct fz_state *st, size_t len)
{
	uint8_t *p;

	if (st->scratch_off + len > FZ_SCRATCH)
		return NULL;
	p = st->scratch + st->scratch_off;
	st->scratch_off += (len + 15) & ~(size_t)15;
	return p;
}

/*
 * Cut @len bytes into 1..@maxp pieces of the arena, each inside one page
 * (guest-physical pages of a process are not contiguous).  @src, when
 * given, is copied in; otherwise the pieces are filled with @fill, a
 * nonzero byte the device must overwrite.  Returns the number of pieces, 0
 * when the arena or @room pieces ran out.
 */
static unsigned int fz_pieces(struct fz_state *st, struct fz_rng *r,
			      struct fz_piece *pc, unsigned int room,
			      const uint8_t *src, uint32_t len,
			      unsigned int maxp, uint16_t flags, uint8_t fill)
{
	unsigned int n = 0;
	uint32_t done = 0;

	while (done < len) {
		uint32_t left = len - done, k;

		if (n == room)
			return 0;
		if (n + 1 >= maxp)
			k = left;
		else
			k = 1 + fz_below(r, left);
		if (k > PAGE)
			k = PAGE - fz_below(r, 64);
		pc[n].va = fz_alloc(st, k, &pc[n].pa);
		if (!pc[n].va)
			return 0;
		pc[n].len = k;
		pc[n].flags = flags;
		if (src)
			memcpy(pc[n].va, src + done, k);
		else
			memset(pc[n].va, fill, k);
		done += k;
		n++;
	}
	return n;
}

static int fz_printable(const uint8_t *p, uint32_t n)
{
	while (n--)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
		else
			p++;
	return 1;
}

/*
 * The contract (docs/virtio-hello.md), written out independently of the
 * device: the @in_size writable bytes a well-formed chain of @ndesc
 * descriptors gets back for @out_size readable bytes @rd.  Only called for
 * 1 <= in_size <= limit.
 */
static void fz_model(const struct fz_state *st, const uint8_t *rd,
		     uint32_t out_size, uint32_t in_size, unsigned int ndesc,
		     uint8_t *exp)
{
	uint32_t op, len, out_len = 0, crc = 0, room;
	uint8_t status, resp[FZ_HDR] = { 0 };
	char reply[FZ_NAME_MAX + 64];
	size_t used = 0;
	int rlen;

	memset(exp, 0, in_size);
	if (out_size < FZ_HDR) {
		status = 1;			/* BADREQ, no id read */
		goto done;
	}
	memcpy(&op, rd, 4);
	memcpy(&len, rd + 4, 4);
	memcpy(resp, rd + 8, 8);		/* id */
	if (len > st->max_buf) {
		status = 3;			/* TOOBIG */
		goto done;
	}
	if (out_size - FZ_HDR != len) {
		status = 1;
		goto done;
	}
	if (in_size < FZ_HDR + 1) {
		status = 4;			/* NOSPACE */
		goto done;
	}
	if (ndesc > st->qsize) {
		status = 1;			/* longer than the queue */
		goto done;
	}
	room = in_size - FZ_HDR - 1;
	switch (op) {
	case FZ_OP_GREET:
		if (len == 0 || len > FZ_NAME_MAX || !fz_printable(rd + FZ_HDR, len)) {
			status = 1;
			break;
		}
		rlen = snprintf(reply, sizeof(reply), "Hello, %.*s! from %s",
				(int)len, rd + FZ_HDR, FZ_GREETING);
		if ((uint32_t)rlen > room) {
			status = 4;
			break;
		}
		memcpy(exp + FZ_HDR, reply, rlen);
		out_len = rlen;
		status = 0;
		break;
	case FZ_OP_ECHO:
		if (len > room) {
			status = 4;
			break;
		}
		memcpy(exp + FZ_HDR, rd + FZ_HDR, len);
		out_len = len;
		crc = fz_crc32(rd + FZ_HDR, len);
		status = 0;
		break;
	case FZ_OP_CRC32:
		if (!(st->features & (1ULL << FZ_F_CRC32))) {
			status = 2;		/* UNSUPP */
			break;
		}
		crc = fz_crc32(rd + FZ_HDR, len);
		status = 0;
		break;
	case FZ_OP_NOP:
		status = 0;
		break;
	default:
		status = 2;
		break;
	}
done:
	if (in_size >= FZ_HDR + 1) {
		if (status) {
			out_len = 0;
			crc = 0;
			memset(exp + FZ_HDR, 0, in_size - FZ_HDR);
		}
		memcpy(resp + 8, &out_len, 4);
		memcpy(resp + 12, &crc, 4);
		memcpy(exp, resp, FZ_HDR);
		used = FZ_HDR + out_len;
	}
	memset(exp + used, 0, in_size - 1 - used);
	exp[in_size - 1] = status;
}

/* A request's readable bytes: header and payload, valid or not */
static uint32_t fz_request(struct fz_state *st, struct fz_rng *r,
			   struct fz_chain *c, uint8_t *rd, uint32_t *room)
{
	uint64_t id = fz_next(r);
	uint32_t plen, i, op;

	if (c->kind == FZ_VALID) {
		op = 1 + fz_below(r, 4);
		if (op == FZ_OP_CRC32 && !(st->features & (1ULL << FZ_F_CRC32)))
			op = FZ_OP_ECHO;
	} else {
		static const uint32_t ops[] = { 0, 1, 2, 3, 4, 5, 0x80000001U,
						0xffffffffU };

		op = ops[fz_below(r, sizeof(ops) / sizeof(ops[0]))];
	}
	switch (op) {
	case FZ_OP_GREET:
		plen = 1 + fz_below(r, FZ_NAME_MAX);
		for (i = 0; i < plen; i++)
			rd[FZ_HDR + i] = 0x20 + fz_below(r, 0x5f);
		*room = 7 + plen + 7 + strlen(FZ_GREETING) + fz_below(r, 40);
		break;
	case FZ_OP_NOP:
		plen = 0;
		*room = fz_below(r, 8);
		break;
	default:
		/* mostly small, sometimes across several pages */
		plen = fz_chance(r, 85) ? fz_below(r, 300) : fz_below(r, 3 * PAGE);
		for (i = 0; i < plen; i++)
			rd[FZ_HDR + i] = fz_next(r);
		*room = (op == FZ_OP_ECHO ? plen : 0) + fz_below(r, 64);
		break;
	}
	c->what = "request";
	if (c->kind == FZ_HDR_BAD) {
		/* one lie about the request, and the status it must earn */
		switch (fz_below(r, 7)) {
		case 0:
			c->what = "random-op";
			break;
		case 1:
			c->what = "len-mismatch";
			memcpy(rd + 4, &(uint32_t){ plen + 1 + fz_below(r, 9) }, 4);
			goto hdr;
		case 2:
			c->what = "len-toobig";
			memcpy(rd + 4, &(uint32_t){ st->max_buf + 1 +
						    fz_below(r, 1U << 30) }, 4);
			goto hdr;
		case 3:
			c->what = "short-header";
			plen = 0;
			memcpy(rd, &op, 4);
			memcpy(rd + 4, &plen, 4);
			memcpy(rd + 8, &id, 8);
			c->op = op;
			c->len = 0;
			return 1 + fz_below(r, FZ_HDR - 1);
		case 4:
			c->what = "no-room";
			*room = fz_below(r, 8);
			/* and a writable part shorter than the response header */
			if (fz_chance(r, 50))
				*room = (uint32_t)-1;
			break;
		case 5:
			c->what = "greet-bad-name";
			op = FZ_OP_GREET;
			plen = fz_chance(r, 50) ? 0 : 1 + fz_below(r, 2 * FZ_NAME_MAX);
			for (i = 0; i < plen; i++)
				rd[FZ_HDR + i] = fz_below(r, 256);
			*room = fz_below(r, 200);
			break;
		default:
			c->what = "crc32";
			op = FZ_OP_CRC32;
			break;
		}
	}
	memcpy(rd + 4, &plen, 4);
hdr:
	memcpy(rd, &op, 4);
	memcpy(rd + 8, &id, 8);
	c->op = op;
	memcpy(&c->len, rd + 4, 4);
	return FZ_HDR + plen;
}

/* The next free descriptor index of the ring, in shuffled order */
static int fz_take(struct fz_state *st, uint16_t *idx, unsigned int n)
{
	unsigned int i;

	if (n > st->nfree)
		return 0;
	for (i = 0; i < n; i++)
		idx[i] = st->free_idx[--st->nfree];
	return 1;
}

/*
 * Build one chain of @kind, place it in the ring (directly or through an
 * indirect table), and record what must come back.  Returns 0 when the
 * ring or the arena is full: the batch goes with what it has.
 */
static int fz_chain(struct fz_state *st, struct fz_rng *r, struct fz_chain *c)
{
	struct fz_piece pc[FZ_MAXPIECES + 2];
	uint16_t idx[FZ_MAXPIECES + 2] = { 0 };
	volatile struct desc *tbl;
	uint32_t out_size, room, in_size, limit;
	unsigned int nr, nw, n, i, maxp, variant = 0, tcap = 0;
	uint8_t *rd, fill = 1 + fz_below(r, 255);
	int indirect, has_ind = !!(st->features & (1ULL << F_INDIRECT));
	uint64_t tpa = 0;
	uint8_t *tva = NULL;

	memset(c->w, 0, sizeof(c->w));
	c->answered = 0;
	c->nw = 0;
	c->expect = NULL;
	limit = FZ_HDR + st->max_buf + 1;

	if (c->kind == FZ_FATAL) {
		variant = fz_below(r, 8);
		if (variant == 6) {
			/* a head the ring does not have */
			c->what = "head-out-of-range";
			c->head = st->qsize + fz_below(r, 65536 - st->qsize);
			return 1;
		}
	}

	rd = fz_scratch(st, FZ_HDR + 4 * PAGE);
	if (!rd)
		return 0;
	out_size = fz_request(st, r, c, rd, &room);
	in_size = room == (uint32_t)-1 ? 1 + fz_below(r, FZ_HDR) :
		  FZ_HDR + room + 1;
	/* a well-formed chain fits through an indirect table; most are small */
	maxp = fz_chance(r, 80) ? 4 : FZ_MAXPIECES / 2;
	nr = fz_pieces(st, r, pc, FZ_MAXPIECES / 2, rd, out_size, maxp, 0, 0);
	nw = fz_pieces(st, r, pc + nr, FZ_MAXPIECES / 2, NULL, in_size, maxp,
		       D_WRITE, fill);
	if (!nr || !nw)
		return 0;
	n = nr + nw;

	if (c->kind == FZ_VALID || c->kind == FZ_HDR_BAD) {
		c->in_size = in_size;
		c->nw = nw;
		memcpy(c->w, pc + nr, nw * sizeof(pc[0]));
		c->expect = fz_scratch(st, in_size);
		if (!c->expect)
			return 0;
		fz_model(st, rd, out_size, in_size, n, c->expect);
		if (n > st->qsize && c->kind == FZ_VALID)
			c->what = "longer-than-queue";
	} else if (c->kind == FZ_FATAL) {
		switch (variant) {
		case 0:
			c->what = "no-writable";
			n = nr;
			break;
		case 1:
			c->what = "zero-length";
			pc[fz_below(r, n)].len = 0;
			break;
		case 2:
			c->what = "readable-after-writable";
			pc[n] = pc[0];	/* read the header again, after writing */
			n++;
			break;
		case 3:
			c->what = "next-out-of-range";
			break;
		case 4:
			c->what = "loop";
			break;
		case 5:
			/* never written: the device must refuse it first */
			c->what = "writable-too-large";
			pc[nr].len = limit + fz_below(r, 1U << 24);
			break;
		default:
			c->what = "indirect-bad-length";
			break;
		}
	} else {
		variant = fz_below(r, 7);
		switch (variant) {
		case 0:
			c->what = "readable-outside-ram";
			i = fz_below(r, nr);
			pc[i].va = NULL;
			pc[i].pa = fz_chance(r, 50) ?
				st->ram_top + fz_below(r, 1U << 28) :
				FZ_FAR + (fz_next(r) & ((1ULL << 43) - 1));
			pc[i].len = 1 + fz_below(r, fz_chance(r, 50) ? 64 : 3 * PAGE);
			break;
		case 1:
			c->what = "writable-outside-ram";
			i = nr + fz_below(r, nw);
			pc[i].va = NULL;
			pc[i].pa = FZ_FAR + (fz_next(r) & ((1ULL << 43) - 1));
			pc[i].len = 1 + fz_below(r, 3 * PAGE);
			break;
		case 2:
			/* WRITE on a readable piece of ours is still ours */
			c->what = "random-flags";
			i = fz_below(r, n);
			pc[i].flags = fz_below(r, 8) & (D_WRITE | D_INDIRECT);
			break;
		case 3:
			c->what = "random-next";
			break;
		case 4:
			c->what = "nested-indirect";
			break;
		case 5:
			c->what = "indirect-and-next";
			break;
		default:
			c->what = "indirect-longer-table";
			break;
		}
	}

	/* direct, or through a table (which may hold more than the ring) */
	if (n > st->nfree && !has_ind)
		return 0;
	indirect = n > st->nfree ||
		   (c->kind == FZ_FATAL && variant == 7) ||
		   (c->kind == FZ_WILD && variant >= 4) ||
		   (has_ind && fz_chance(r, 30));
	if (indirect) {
		if (!fz_take(st, &c->head, 1))
			return 0;
		tcap = n + 4;
		tva = fz_alloc(st, tcap * 16, &tpa);
		if (!tva)
			return 0;
		memset(tva, 0, tcap * 16);
		tbl = (volatile struct desc *)tva;
		for (i = 0; i < n; i++)
			idx[i] = i;
	} else {
		if (!fz_take(st, idx, n))
			return 0;
		tbl = st->desc;
		c->head = idx[0];
	}
	for (i = 0; i < n; i++) {
		tbl[idx[i]].addr = pc[i].pa;
		tbl[idx[i]].len = pc[i].len;
		tbl[idx[i]].flags = pc[i].flags | (i + 1 < n ? D_NEXT : 0);
		tbl[idx[i]].next = i + 1 < n ? idx[i + 1] : 0;
	}

	/* the malformations that are about links */
	if (c->kind == FZ_FATAL && variant == 3) {
		i = fz_below(r, n);
		tbl[idx[i]].flags |= D_NEXT;
		tbl[idx[i]].next = (indirect ? tcap : st->qsize) +
				   fz_below(r, 65536 - (indirect ? tcap : st->qsize));
	} else if (c->kind == FZ_FATAL && variant == 4) {
		/* back to any earlier writable one, or to a readable one */
		tbl[idx[n - 1]].flags |= D_NEXT;
		tbl[idx[n - 1]].next = idx[fz_below(r, n)];
	} else if (c->kind == FZ_WILD && variant == 3) {
		/* within the chain only: no other chain's buffers */
		i = fz_below(r, n);
		tbl[idx[i]].flags |= D_NEXT;
		tbl[idx[i]].next = idx[fz_below(r, n)];
	} else if (c->kind == FZ_WILD && variant == 4) {
		/* an entry of the table that says INDIRECT again */
		tbl[idx[fz_below(r, n)]].flags |= D_INDIRECT;
	}

	if (indirect) {
		uint32_t tlen = n * 16;

		if (c->kind == FZ_FATAL && variant == 7)
			tlen = fz_chance(r, 30) ? 0 : n * 16 - 1 - fz_below(r, 15);
		else if (c->kind == FZ_WILD && variant == 6)
			tlen = tcap * 16;	/* zero entries: never linked */
		st->desc[c->head].addr = tpa;
		st->desc[c->head].len = tlen;
		st->desc[c->head].flags = D_INDIRECT;
		st->desc[c->head].next = 0;
		if (c->kind == FZ_WILD && variant == 5) {
			st->desc[c->head].flags |= D_NEXT;
			st->desc[c->head].next = fz_below(r, 65536);
		}
	}
	return 1;
}

static uint8_t fz_status(void)
{
	return r8(C_STATUS);
}

/* Reset, negotiate a random feature set, set up a ring of a random size */
static int fz_init(struct fz_state *st, struct fz_rng *r)
{
	uint64_t offered, want;
	unsigned int max, i;

	w8(C_STATUS, 0);
	for (i = 0; i < 1000 && r8(C_STATUS); i++)
		usleep(1000);
	if (r8(C_STATUS))
		return 0;
	w8(C_STATUS, S_ACK);
	w8(C_STATUS, S_ACK | S_DRIVER);
	w32(C_DFSELECT, 0);
	offered = r32(C_DF);
	w32(C_DFSELECT, 1);
	offered |= (uint64_t)r32(C_DF) << 32;
	want = 1ULL << F_VERSION_1;
	for (i = 0; i < 64; i++)
		if ((i == F_INDIRECT || i == F_EVENT_IDX || i == FZ_F_CRC32) &&
		    fz_chance(r, 75))
			want |= 1ULL << i;
	want &= offered;
	w32(C_GFSELECT, 0);
	w32(C_GF, (uint32_t)want);
	w32(C_GFSELECT, 1);
	w32(C_GF, (uint32_t)(want >> 32));
	w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(r8(C_STATUS) & S_FEATURES_OK))
		return 0;
	st->features = want;

	w16(C_Q_SELECT, 0);
	max = r16(C_Q_SIZE);
	if (max > FZ_MAXQ)
		max = FZ_MAXQ;
	do
		st->qsize = 2U << fz_below(r, 8);
	while (st->qsize > max);
	memset((void *)st->desc, 0, PAGE);
	memset((void *)st->avail, 0, PAGE);
	memset((void *)st->used, 0, PAGE);
	st->avail_idx = 0;
	st->used_seen = 0;
	w16(C_Q_SIZE, st->qsize);
	w32(C_Q_DESCLO, (uint32_t)st->desc_pa);
	w32(C_Q_DESCHI, (uint32_t)(st->desc_pa >> 32));
	w32(C_Q_AVAILLO, (uint32_t)st->avail_pa);
	w32(C_Q_AVAILHI, (uint32_t)(st->avail_pa >> 32));
	w32(C_Q_USEDLO, (uint32_t)st->used_pa);
	w32(C_Q_USEDHI, (uint32_t)(st->used_pa >> 32));
	w16(C_Q_ENABLE, 1);
	w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	st->live = 1;
	return 1;
}

static void fz_kick(struct fz_state *st)
{
	kick(st->mult);
}

/* Register writes that should change nothing a driver can see */
static void fz_noise(struct fz_state *st, struct fz_rng *r)
{
	switch (fz_below(r, 6)) {
	case 0:
		w32(C_DFSELECT, fz_next(r));
		(void)r32(C_DF);
		break;
	case 1:
		/* ignored once FEATURES_OK is set */
		w32(C_GFSELECT, fz_below(r, 3));
		w32(C_GF, fz_next(r));
		break;
	case 2:
		w16(C_Q_SELECT, fz_below(r, 1024));
		(void)r16(C_Q_SIZE);
		(void)r16(C_Q_ENABLE);
		w16(C_Q_SELECT, 0);
		break;
	case 3:
		w16(0x10, fz_next(r));		/* config_msix_vector */
		w16(0x1a, fz_next(r));		/* queue_msix_vector */
		break;
	case 4:
		if (devcfg) {
			(void)*(volatile uint32_t *)devcfg;
			*(volatile uint32_t *)(devcfg + 4 * fz_below(r, 4)) =
				fz_next(r);
		}
		break;
	default:
		/* queues the device does not have */
		*(volatile uint16_t *)(notify + (1 + fz_below(r, 15)) * st->mult) =
			fz_next(r);
		break;
	}
}

/*
 * What a driver must not do on a live queue.  Returns 1 when it may leave
 * published chains unanswered (they are then not held against the
 * device).  queue_enable := 1 again is only harmless if the device keeps
 * the ring it had, so it excuses nothing.
 */
static int fz_chaos(struct fz_state *st, struct fz_rng *r)
{
	st->chaos++;
	switch (fz_below(r, 6)) {
	case 0:
		w8(C_STATUS, 0);		/* reset in flight */
		return 1;
	case 1:
		w16(C_Q_SIZE, fz_below(r, 2048));
		return 1;
	case 2:
		w16(C_Q_ENABLE, 1);
		return 0;
	case 3:
		w16(C_Q_ENABLE, fz_chance(r, 50) ? 0 : fz_next(r) | 2);
		return 1;
	case 4:
		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
		if (fz_chance(r, 50))
			w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		return 1;
	default:
		w8(C_STATUS, fz_next(r));
		return 1;
	}
}

static long fz_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Wait until all @n chains are answered, or the device stops (it says
 * NEEDS_RESET, or is no longer DRIVER_OK).  The status read goes through
 * QEMU under the lock the device drains with, so once it shows NEEDS_RESET
 * the used index is final.  Returns 0 on a timeout.
 */
static int fz_wait(struct fz_state *st, unsigned int n, uint8_t *status)
{
	struct timespec t0;
	uint16_t target = st->used_seen + n;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		__sync_synchronize();
		if (st->used[1] == target) {
			*status = fz_status();
			break;
		}
		*status = fz_status();
		if ((*status & S_NEEDS_RESET) || !(*status & S_DRIVER_OK)) {
			__sync_synchronize();
			break;
		}
		if (fz_ms_since(&t0) > FZ_TIMEOUT_MS)
			return 0;
		sched_yield();
	}
	/*
	 * Late is not wrong: QEMU's main loop also writes each virtio_error()
	 * line to its stderr, and blocks while whoever reads it lags.
	 */
	ms = fz_ms_since(&t0);
	if (ms > FZ_SLOW_MS)
		st->slow++;
	if (ms > st->slowest_ms)
		st->slowest_ms = ms;
	return 1;
}

static void fz_check(struct fz_state *st, unsigned long batch, int ci,
		     struct fz_chain *c)
{
	uint32_t off = 0, i, j;

	if (c->used_len != c->in_size) {
		char why[96];

		snprintf(why, sizeof(why), "used.len %u, writable bytes %u",
			 c->used_len, c->in_size);
		fz_fail(st, batch, ci, c, why, -1);
		return;
	}
	for (i = 0; i < c->nw; i++) {
		for (j = 0; j < c->w[i].len; j++, off++) {
			if (c->w[i].va[j] != c->expect[off]) {
				char why[96];

				snprintf(why, sizeof(why),
					 "wrong answer: byte 0x%02x, want 0x%02x (status want %u)",
					 c->w[i].va[j], c->expect[off],
					 c->expect[c->in_size - 1]);
				fz_fail(st, batch, ci, c, why, off);
				return;
			}
		}
	}
	if (c->kind == FZ_VALID)
		st->valid_ok++;
	else
		st->hdr_ok++;
}

static int fz_trace;

/* VH_FUZZ_TRACE=1: each chain as the device will see it, for replays */
static void fz_dump(struct fz_state *st, unsigned long b,
		    const struct fz_chain *chains, unsigned int n)
{
	unsigned int i, j, d;

	for (i = 0; i < n; i++) {
		const struct fz_chain *c = &chains[i];

		fprintf(stderr, "batch %lu chain %u %s %s op %u len %u head %u q %u\n",
			b, i, fz_kind_name[c->kind], c->what, c->op, c->len,
			c->head, st->qsize);
		for (d = c->head, j = 0; d < st->qsize && j < 8; j++) {
			volatile struct desc *e = &st->desc[d];

			fprintf(stderr, "  d%u addr 0x%llx len %u flags %u next %u\n",
				d, (unsigned long long)e->addr, e->len, e->flags,
				e->next);
			if (!(e->flags & D_NEXT))
				break;
			d = e->next;
		}
	}
}

static void fz_batch(struct fz_state *st, unsigned long b)
{
	struct fz_rng r = fz_rng_for(st->seed, b, 0);
	struct fz_chain chains[FZ_MAXCHAINS];
	unsigned int n, want, i, first_bad, answered, pos, tries;
	int excused = 0, chaos_at = -1;
	uint8_t status = 0;

	if (!st->live) {
		struct fz_rng ri = fz_rng_for(st->seed, b, 1);

		if (!fz_init(st, &ri)) {
			fz_fail(st, b, -1, NULL, "device did not come back from reset", -1);
			return;
		}
	}
	/* this batch owns the whole ring: no stale descriptor can be linked */
	memset((void *)st->desc, 0, st->qsize * 16);
	st->page = 0;
	st->off = 0;
	st->scratch_off = 0;
	for (i = 0; i < st->qsize; i++) {
		unsigned int k = fz_below(&r, i + 1);

		st->free_idx[i] = st->free_idx[k];
		st->free_idx[k] = i;
	}
	st->nfree = st->qsize;

	want = 1 + fz_below(&r, FZ_MAXCHAINS);
	if (want > st->qsize)
		want = st->qsize;
	/* a chain that does not fit (small ring, no INDIRECT) is drawn again */
	for (n = 0, tries = 0; n < want && tries < 2 * want + 8; tries++) {
		unsigned int p = fz_below(&r, 100);

		chains[n].kind = p < 45 ? FZ_VALID : p < 65 ? FZ_HDR_BAD :
				 p < 85 ? FZ_FATAL : FZ_WILD;
		/* one batch in four has valid requests only */
		if (b % 4 == 1)
			chains[n].kind = FZ_VALID;
		if (fz_chain(st, &r, &chains[n]))
			n++;
	}
	st->batches++;
	if (!n) {
		st->empty++;		/* nothing fitted this ring */
		return;
	}
	if (fz_trace)
		fz_dump(st, b, chains, n);
	if (fz_chance(&r, 8))
		chaos_at = fz_below(&r, n + 1);

	/* publish one by one, kicking now and then, always at the end */
	for (i = 0; i < n; i++) {
		if ((int)i == chaos_at)
			excused |= fz_chaos(st, &r);
		/*
		 * Not after chaos: with FEATURES_OK cleared by a random status
		 * write, a feature write is no longer ignored, and the answers
		 * the device still gives follow the new features.
		 */
		if (fz_chance(&r, 10) && !excused)
			fz_noise(st, &r);
		st->avail[2 + st->avail_idx % st->qsize] = chains[i].head;
		__sync_synchronize();
		st->avail[1] = ++st->avail_idx;
		if (fz_chance(&r, 25))
			fz_kick(st);
	}
	/* used_event: any value is allowed, it only asks for interrupts */
	st->avail[2 + st->qsize] = fz_next(&r);
	fz_kick(st);
	if ((int)n == chaos_at)
		excused |= fz_chaos(st, &r);
	st->requests += n;

	if (!fz_wait(st, n, &status)) {
		char why[128];

		st->hangs++;
		snprintf(why, sizeof(why),
			 "hang: %u of %u answered, device_status 0x%02x, neither answered nor NEEDS_RESET",
			 (uint16_t)(st->used[1] - st->used_seen), n, status);
		fz_fail(st, b, -1, NULL, why, -1);
		excused = 1;
	}
	if (status & S_NEEDS_RESET)
		st->needs_reset++;

	/* match the used ring against ring order */
	answered = (uint16_t)(st->used[1] - st->used_seen);
	if (answered > n) {
		fz_fail(st, b, -1, NULL, "more used entries than chains", -1);
		answered = n;
	}
	first_bad = n;
	pos = 0;
	for (i = 0; i < n; i++) {
		struct fz_chain *c = &chains[i];

		if (c->kind == FZ_FATAL)
			st->fatal++;
		else if (c->kind == FZ_WILD)
			st->wild++;
		if (pos < answered) {
			volatile uint32_t *e = (volatile uint32_t *)
				&st->used[2 + 4 * ((st->used_seen + pos) % st->qsize)];

			if (e[0] == c->head) {
				c->answered = 1;
				c->used_len = e[1];
				pos++;
			}
		}
		if (!c->answered && first_bad == n)
			first_bad = i;
		if (c->answered && first_bad < i) {
			st->misordered++;
			fz_fail(st, b, i, c, "answered after an unanswered chain", -1);
		}
		if (c->kind == FZ_FATAL && c->answered) {
			st->fatal_answered++;
			fz_fail(st, b, i, c, "malformed chain answered", -1);
		}
		if (c->kind != FZ_VALID && c->kind != FZ_HDR_BAD)
			continue;
		if (c->answered) {
			if (c->kind == FZ_VALID)
				st->valid++;
			else
				st->hdr++;
			fz_check(st, b, i, c);
			continue;
		}
		/*
		 * Unanswered: excused by chaos, or by a malformed chain in the
		 * batch once the device says NEEDS_RESET.  Even one before the
		 * malformed chain: the device publishes its answers in batches
		 * (virtqueue_flush() per VIRTIO_HELLO_FLUSH_BATCH or per pass),
		 * and 7.2's virtqueue_flush() does nothing on a broken device,
		 * so what one pass answered before the bad chain is never
		 * published ("lost").  The used ring must still be a prefix.
		 */
		{
			unsigned int k;
			int before_bad = 1, bad = 0;

			for (k = 0; k < n; k++) {
				if (chains[k].kind != FZ_FATAL &&
				    chains[k].kind != FZ_WILD)
					continue;
				bad = 1;
				if (k < i)
					before_bad = 0;
			}
			if (excused || (bad && (status & S_NEEDS_RESET))) {
				if (before_bad && !excused)
					st->lost++;
				else
					st->skipped++;
				continue;
			}
			if (c->kind == FZ_VALID)
				st->valid++;
			else
				st->hdr++;
			fz_fail(st, b, i, c, (status & S_NEEDS_RESET) ?
				"unanswered, NEEDS_RESET with no malformed chain before it" :
				"unanswered", -1);
		}
	}
	if (pos != answered)
		fz_fail(st, b, -1, NULL, "used ring names a chain out of order or not made available", -1);
	st->used_seen += answered;

	/* recover, and sometimes start over for no reason at all */
	if (excused || (status & S_NEEDS_RESET) || !(status & S_DRIVER_OK) ||
	    fz_chance(&r, 2)) {
		w8(C_STATUS, 0);
		st->resets++;
		st->live = 0;
	}
}

static uint64_t fz_ram_top(void)
{
	unsigned long long start, end, top = 0;
	char line[256];
	FILE *f = fopen("/proc/iomem", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "System RAM") &&
		    sscanf(line, " %llx-%llx", &start, &end) == 2 && end + 1 > top)
			top = end + 1;
	if (f)
		fclose(f);
	return top ? top : 1ULL << 32;
}

static int fuzz_main(uint64_t seed, unsigned long batches, uint32_t mult)
{
	static struct fz_state st;
	struct timespec t0;
	uint8_t *p;
	unsigned long b;
	unsigned int i;

	fz_crc_init();
	fz_trace = getenv("VH_FUZZ_TRACE") != NULL;
	st.seed = seed;
	st.mult = mult;
	st.ram_top = fz_ram_top();
	st.max_buf = devcfg ? *(volatile uint32_t *)devcfg : 1024 * 1024;
	p = locked_page(&st.desc_pa);
	st.desc = (volatile struct desc *)p;
	st.avail = (volatile uint16_t *)locked_page(&st.avail_pa);
	st.used = (volatile uint16_t *)locked_page(&st.used_pa);
	for (i = 0; i < FZ_PAGES; i++)
		st.page_va[i] = locked_page(&st.page_pa[i]);
	st.scratch = malloc(FZ_SCRATCH);
	if (!st.scratch)
		die("malloc");
	printf("vh-fuzz start seed=%llu batches=%lu max_buf=%u ram_top=0x%llx\n",
	       (unsigned long long)seed, batches, st.max_buf,
	       (unsigned long long)st.ram_top);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (b = 0; b < batches; b++)
		fz_batch(&st, b);

	/* and then one plain NOP on a fresh device: it must have recovered */
	{
		struct fz_rng r = fz_rng_for(seed, batches, 2);
		struct fz_chain c = { .kind = FZ_VALID, .what = "nop-after" };
		uint8_t status;
		uint16_t idx[2];

		w8(C_STATUS, 0);
		st.resets++;
		if (!fz_init(&st, &r)) {
			fz_fail(&st, batches, 0, NULL, "device did not come back from reset", -1);
		} else {
			uint8_t *req, *resp;
			uint64_t req_pa, resp_pa, id = seed;

			st.page = 0;
			st.off = 0;
			req = fz_alloc(&st, FZ_HDR, &req_pa);
			resp = fz_alloc(&st, FZ_HDR + 1, &resp_pa);
			memset(req, 0, FZ_HDR);
			req[0] = FZ_OP_NOP;
			memcpy(req + 8, &id, 8);
			memset(resp, 0xff, FZ_HDR + 1);
			idx[0] = 0;
			idx[1] = 1;
			st.desc[idx[0]] = (struct desc){ req_pa, FZ_HDR, D_NEXT, idx[1] };
			st.desc[idx[1]] = (struct desc){ resp_pa, FZ_HDR + 1, D_WRITE, 0 };
			st.avail[2] = 0;
			__sync_synchronize();
			st.avail[1] = ++st.avail_idx;
			fz_kick(&st);
			st.requests++;
			st.valid++;
			if (fz_wait(&st, 1, &status) && st.used[1] == 1 &&
			    resp[FZ_HDR] == 0 && !memcmp(resp, &id, 8)) {
				st.valid_ok++;
				printf("vh-fuzz after: nop answered status 0, device_status 0x%02x\n",
				       fz_status());
			} else {
				fz_fail(&st, batches, 0, &c, "the NOP after the fuzz was not answered", -1);
			}
			w8(C_STATUS, 0);
		}
	}

	printf("vh-fuzz seed=%llu batches=%lu empty=%lu requests=%lu valid=%lu valid_ok=%lu hdr=%lu hdr_ok=%lu fatal=%lu wild=%lu skipped=%lu lost=%lu needs_reset=%lu resets=%lu chaos=%lu hangs=%lu slow=%lu slowest_ms=%ld fatal_answered=%lu misordered=%lu failures=%lu ms=%ld\n",
	       (unsigned long long)seed, st.batches, st.empty, st.requests, st.valid,
	       st.valid_ok, st.hdr, st.hdr_ok, st.fatal, st.wild, st.skipped,
	       st.lost, st.needs_reset, st.resets, st.chaos, st.hangs,
	       st.slow, st.slowest_ms,
	       st.fatal_answered, st.misordered, st.failures,
	       fz_ms_since(&t0));
	return st.failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *scenario, *go;
	struct ring r = { 0 };
	uint64_t features;
	uint32_t mult = 0;
	uint8_t *page;

	if (argc < 3) {
		fprintf(stderr, "usage: vh-raw PCIDIR nop|batch|selfdma|qsize|early|stale|long [GO_FILE]\n"
				"       vh-raw PCIDIR fuzz SEED BATCHES\n");
		return 2;
	}
	scenario = argv[2];
	go = argc > 3 ? argv[3] : NULL;
	setvbuf(stdout, NULL, _IONBF, 0);

	find_caps(argv[1], &mult);
	if (!strcmp(scenario, "fuzz")) {
		if (argc != 5) {
			fprintf(stderr, "usage: vh-raw PCIDIR fuzz SEED BATCHES\n");
			return 2;
		}
		return fuzz_main(strtoull(argv[3], NULL, 0),
				 strtoul(argv[4], NULL, 0), mult);
	}
	page = locked_page(&r.pa);
	r.desc = (volatile struct desc *)page;
	r.avail = (volatile uint16_t *)(page + 256);
	r.used = (volatile uint16_t *)(page + 512);
	r.buf = locked_page(&r.buf_pa);
	init_device(&r, &features);

	if (!strcmp(scenario, "nop")) {
		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		nop_chain(&r, 0, 1);
		publish(&r, 0, mult);
		wait_used(&r, 0);
		show_status();
	} else if (!strcmp(scenario, "batch")) {
		unsigned int d, answered = 0;

		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		for (d = 0; d < QSIZE; d += 2) {
			nop_chain(&r, d, 1);
			r.avail[2 + r.avail_idx++ % QSIZE] = d;
		}
		__sync_synchronize();
		r.avail[1] = r.avail_idx;
		kick(mult);
		for (d = 0; d < QSIZE; d += 2)
			answered += wait_used(&r, d);
		say("batch answered %lu of %lu", answered, QSIZE / 2);
		show_status();
	} else if (!strcmp(scenario, "selfdma")) {
		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		nop_chain(&r, 0, 1);
		r.desc[1].len = 16;			/* resp in RAM */
		r.desc[1].flags = D_WRITE | D_NEXT;
		r.desc[1].next = 2;
		r.desc[2].addr = common_pa + C_STATUS;	/* status: the register */
		r.desc[2].len = 1;
		r.desc[2].flags = D_WRITE;
		publish(&r, 0, mult);
		wait_used(&r, 0);
		show_status();
	} else if (!strcmp(scenario, "qsize")) {
		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		nop_chain(&r, 0, 1);
		publish(&r, 0, mult);
		wait_used(&r, 0);
		w16(C_Q_SELECT, 0);
		w16(C_Q_SIZE, 1024);		/* forbidden on a live queue */
		say("queue_size written: reads %lu", r16(C_Q_SIZE), 0);
		show_status();
		nop_chain(&r, 2, 1);
		publish(&r, 2, mult);
		wait_used(&r, 2);
		show_status();
	} else if (!strcmp(scenario, "early")) {
		nop_chain(&r, 0, 0);		/* readable only: no status byte */
		publish(&r, 0, mult);
		usleep(100000);
		show_status();
		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		usleep(200000);			/* the device's bottom half */
		show_status();
		nop_chain(&r, 2, 1);
		publish(&r, 2, mult);
		wait_used(&r, 2);
		show_status();
	} else if (!strcmp(scenario, "stale")) {
		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		nop_chain(&r, 0, 1);
		publish(&r, 0, mult);
		wait_used(&r, 0);
		/* what a freed or reused chain can look like, unpublished */
		r.desc[1].flags = D_WRITE | D_NEXT;
		r.desc[1].next = 0xffff;
		r.avail[2 + 1] = 0xffff;
		r.desc[5].addr = r.buf_pa + 5 * 64;
		r.desc[5].len = 8;
		r.desc[5].flags = D_INDIRECT;
		r.avail[2 + 2] = 5;
		show_status();
		say("ready for queries: avail[0] used, avail[1] head 65535, "
		    "avail[2] indirect of 8 bytes", 0, 0);
		while (go && access(go, F_OK))
			usleep(20000);
		go = NULL;
		show_status();
		nop_chain(&r, 2, 1);
		publish(&r, 2, mult);
		wait_used(&r, 2);
		show_status();
	} else if (!strcmp(scenario, "long")) {
		dprintf(verbose_fd, "config max_segs %u, queue size at most %u, set to %u\n",
			devcfg ? *(volatile uint32_t *)(devcfg + 4) : 0,
			queue_max, QSIZE);
		w8(C_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
		indirect_nop(&r, 4, QSIZE, mult);
		indirect_nop(&r, 5, QSIZE + 1, mult);
		show_status();
		nop_chain(&r, 6, 1);
		publish(&r, 6, mult);
		wait_used(&r, 6);
		show_status();
	} else {
		fprintf(stderr, "vh-raw: unknown scenario %s\n", scenario);
		return 2;
	}

	say("ready", 0, 0);
	while (go && access(go, F_OK))
		usleep(20000);
	w8(C_STATUS, 0);	/* the device forgets this ring */
	say("done", 0, 0);
	return 0;
}
