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
 *
 * Each step prints one line ("nop answered status 0 len 17",
 * "device_status 0x4f", ...).  Then it prints "ready", waits until GO_FILE
 * exists (if given), resets the device so it forgets the ring, and exits.
 */
#include <errno.h>
#include <fcntl.h>
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

static volatile uint8_t *common, *notify;
static uint64_t common_pa;		/* guest-physical address of common */
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

/* Waits up to 2 s for the used index to move; prints what came back. */
static int wait_used(struct ring *r, unsigned int d)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		__sync_synchronize();
		if (r->used[1] != r->used_seen) {
			volatile uint32_t *elem = (volatile uint32_t *)
				&r->used[2 + 4 * (r->used_seen % QSIZE)];

			r->used_seen++;
			say("nop answered status %lu len %lu",
			    r->buf[(d + 1) * 64 + 16], elem[1]);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > 2000)
			break;
		usleep(1000);
	}
	say("nop unanswered (used idx %lu, avail idx %lu)", r->used[1],
	    r->avail_idx);
	return 0;
}

static void show_status(void)
{
	uint8_t st = r8(C_STATUS);

	say("device_status 0x%02lx needs_reset %lu", st, !!(st & S_NEEDS_RESET));
}

int main(int argc, char **argv)
{
	const char *scenario, *go;
	struct ring r = { 0 };
	uint64_t features;
	uint32_t mult = 0;
	uint8_t *page;

	if (argc < 3) {
		fprintf(stderr, "usage: vh-raw PCIDIR nop|batch|selfdma|qsize|early|stale [GO_FILE]\n");
		return 2;
	}
	scenario = argv[2];
	go = argc > 3 ? argv[3] : NULL;
	setvbuf(stdout, NULL, _IONBF, 0);

	find_caps(argv[1], &mult);
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
