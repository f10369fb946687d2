// SPDX-License-Identifier: GPL-2.0
/*
 * hello-client: exercise /dev/virtio-helloN from inside the guest.
 *
 * Build on the host:  gcc -static -O2 -I.. -I../../../devices/virtio-hello/include \
 *                         -o hello-client hello-client.c -lpthread
 *
 *   hello-client [-d DEV] info
 *   hello-client [-d DEV] greet NAME
 *   hello-client [-d DEV] echo SIZE [COUNT]      random data, verified, MB/s
 *   hello-client [-d DEV] crc SIZE               device CRC-32 vs ours
 *   hello-client [-d DEV] nop [COUNT]            round-trip latency
 *   hello-client [-d DEV] batch [N] [ROUNDS]     N NOPs per kick
 *   hello-client [-d DEV] stress THREADS COUNT SIZE   parallel echoes
 *   hello-client [-d DEV] bad KIND|all           hostile chains (allow_raw=1)
 *   hello-client [-d DEV] bench naive SECS [SIZE]      one request in flight
 *   hello-client [-d DEV] bench batch SECS N [each]    N NOPs per ioctl
 *   hello-client bench pread FILE SECS [BS]            O_DIRECT reads, one in flight
 *
 * bench prints one "bench key=value ..." line for kernelcraft's tune
 * milestone: ops, bytes, seconds, latency percentiles, and for virtio-hello
 * the driver's own kick/interrupt/completion counts over the run.
 *
 * SIZE takes K/M suffixes.  Exit status 0 means every check passed.
 */
#define _GNU_SOURCE		/* O_DIRECT */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "virtio_hello.h"
#include "virtio_hello_ioctl.h"

static const char *dev_path = "/dev/virtio-hello0";

static void usage(void);

static const char *status_name(unsigned int s)
{
	switch (s) {
	case VIRTIO_HELLO_S_OK: return "OK";
	case VIRTIO_HELLO_S_BADREQ: return "BADREQ";
	case VIRTIO_HELLO_S_UNSUPP: return "UNSUPP";
	case VIRTIO_HELLO_S_TOOBIG: return "TOOBIG";
	case VIRTIO_HELLO_S_NOSPACE: return "NOSPACE";
	case VIRTIO_HELLO_S_PENDING: return "not written";
	default: return "?";
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*end == 'k' || *end == 'K')
		v <<= 10;
	else if (*end == 'm' || *end == 'M')
		v <<= 20;
	return v;
}

/* CRC-32 (IEEE, reflected, as zlib and the kernel's crc32_le) */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t c = 0xffffffffu;
	size_t i;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			uint32_t t = i;
			int k;

			for (k = 0; k < 8; k++)
				t = (t & 1) ? 0xedb88320u ^ (t >> 1) : t >> 1;
			table[i] = t;
		}
	}
	for (i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed ? seed : 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static int open_dev(void)
{
	int fd = open(dev_path, O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "hello-client: %s: %s\n", dev_path, strerror(errno));
		exit(2);
	}
	return fd;
}

static int do_req(int fd, struct virtio_hello_ioc_req *r)
{
	if (ioctl(fd, VIRTIO_HELLO_IOC_REQUEST, r) < 0) {
		fprintf(stderr, "hello-client: request op %u: %s\n", r->op,
			strerror(errno));
		return -1;
	}
	if (r->status != VIRTIO_HELLO_S_OK) {
		fprintf(stderr, "hello-client: request op %u: device status %u (%s)\n",
			r->op, r->status, status_name(r->status));
		return -1;
	}
	return 0;
}

static int cmd_info(int fd)
{
	struct virtio_hello_ioc_info i;

	if (ioctl(fd, VIRTIO_HELLO_IOC_INFO, &i) < 0) {
		perror("hello-client: info");
		return 1;
	}
	printf("device: %s (index %u)\n", dev_path, i.index);
	printf("features: 0x%llx%s%s%s\n", (unsigned long long)i.features,
	       i.features & (1ull << VIRTIO_HELLO_F_CRC32) ? " crc32" : "",
	       i.features & (1ull << 28) ? " indirect_desc" : "",
	       i.features & (1ull << 29) ? " event_idx" : "");
	printf("ring size: %u\nmax_data: %u\nmax_buf_size: %u\nmax_segs: %u\n",
	       i.ring_size, i.max_data, i.max_buf_size, i.max_segs);
	printf("max_name_len: %u\nmax_greeting_len: %u\n", i.max_name_len,
	       i.max_greeting_len);
	return 0;
}

static int cmd_greet(int fd, const char *name)
{
	char reply[4096];
	struct virtio_hello_ioc_req r = {
		.op = VIRTIO_HELLO_OP_GREET,
		.in_ptr = (uintptr_t)name,
		.in_len = strlen(name),
		.out_ptr = (uintptr_t)reply,
		.out_cap = sizeof(reply) - 1,
	};
	struct virtio_hello_ioc_info i;

	if (ioctl(fd, VIRTIO_HELLO_IOC_INFO, &i) == 0 && r.out_cap > i.max_greeting_len)
		r.out_cap = i.max_greeting_len;
	if (do_req(fd, &r))
		return 1;
	reply[r.out_len] = '\0';
	printf("%s\n", reply);
	return 0;
}

static int cmd_echo(int fd, size_t size, unsigned long count)
{
	uint8_t *in = malloc(size ? size : 1), *out = malloc(size ? size : 1);
	double t0, t;
	unsigned long n;
	int rc = 0;

	if (!in || !out)
		return 1;
	t0 = now();
	for (n = 0; n < count; n++) {
		struct virtio_hello_ioc_req r = {
			.op = VIRTIO_HELLO_OP_ECHO,
			.in_ptr = (uintptr_t)in, .in_len = size,
			.out_ptr = (uintptr_t)out, .out_cap = size,
		};

		fill_random(in, size, (uint64_t)time(NULL) * 2654435761u + n);
		memset(out, 0, size);
		if (do_req(fd, &r)) {
			rc = 1;
			break;
		}
		if (r.out_len != size || memcmp(in, out, size)) {
			fprintf(stderr, "hello-client: echo %lu: data mismatch (got %u bytes)\n",
				n, r.out_len);
			rc = 1;
			break;
		}
		if (r.crc32 != crc32_ieee(in, size)) {
			fprintf(stderr, "hello-client: echo %lu: crc32 %08x, expected %08x\n",
				n, r.crc32, crc32_ieee(in, size));
			rc = 1;
			break;
		}
	}
	t = now() - t0;
	if (!rc)
		printf("echo: %lu x %zu bytes verified, %.1f MB/s (%.1f us/request)\n",
		       count, size, t > 0 ? 2.0 * size * count / t / 1e6 : 0.0,
		       t * 1e6 / count);
	free(in);
	free(out);
	return rc;
}

static int cmd_crc(int fd, size_t size)
{
	uint8_t *in = malloc(size ? size : 1);
	struct virtio_hello_ioc_req r = {
		.op = VIRTIO_HELLO_OP_CRC32,
		.in_ptr = (uintptr_t)in, .in_len = size,
	};
	uint32_t want;

	if (!in)
		return 1;
	fill_random(in, size, (uint64_t)time(NULL));
	want = crc32_ieee(in, size);
	if (do_req(fd, &r))
		return 1;
	printf("crc32: device %08x, client %08x: %s\n", r.crc32, want,
	       r.crc32 == want ? "match" : "MISMATCH");
	free(in);
	return r.crc32 != want;
}

static int cmd_nop(int fd, unsigned long count)
{
	double t0 = now(), t;
	unsigned long n;
	uint64_t lat = 0;

	for (n = 0; n < count; n++) {
		struct virtio_hello_ioc_req r = { .op = VIRTIO_HELLO_OP_NOP };

		if (do_req(fd, &r))
			return 1;
		lat += r.latency_ns;
	}
	t = now() - t0;
	printf("nop: %lu requests, %.1f us/request wall, %.1f us in driver\n",
	       count, t * 1e6 / count, lat / 1e3 / count);
	return 0;
}

static int cmd_batch(int fd, unsigned int n, unsigned long rounds)
{
	struct virtio_hello_ioc_req r[VIRTIO_HELLO_BATCH_MAX];
	struct virtio_hello_ioc_batch b = {
		.reqs_ptr = (uintptr_t)r, .count = n,
	};
	double t0 = now(), t;
	unsigned long k;
	unsigned int i;

	if (n < 1 || n > VIRTIO_HELLO_BATCH_MAX) {
		fprintf(stderr, "hello-client: batch size 1..%d\n", VIRTIO_HELLO_BATCH_MAX);
		return 1;
	}
	for (k = 0; k < rounds; k++) {
		memset(r, 0, sizeof(r));
		for (i = 0; i < n; i++)
			r[i].op = VIRTIO_HELLO_OP_NOP;
		if (ioctl(fd, VIRTIO_HELLO_IOC_BATCH, &b) < 0) {
			perror("hello-client: batch");
			return 1;
		}
		for (i = 0; i < n; i++)
			if (r[i].status != VIRTIO_HELLO_S_OK) {
				fprintf(stderr, "hello-client: batch[%u]: status %u\n",
					i, r[i].status);
				return 1;
			}
	}
	t = now() - t0;
	printf("batch: %lu x %u NOPs, %.1f us/request\n", rounds, n,
	       t * 1e6 / (rounds * n));
	return 0;
}

struct stress_arg {
	size_t size;
	unsigned long count;
	int rc;
	unsigned int seed;
};

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	int fd = open_dev();
	uint8_t *in = malloc(a->size + 1), *out = malloc(a->size + 1);
	unsigned long n;

	for (n = 0; n < a->count; n++) {
		struct virtio_hello_ioc_req r = {
			.op = VIRTIO_HELLO_OP_ECHO,
			.in_ptr = (uintptr_t)in, .in_len = a->size,
			.out_ptr = (uintptr_t)out, .out_cap = a->size,
		};

		fill_random(in, a->size, a->seed * 7919u + n);
		if (ioctl(fd, VIRTIO_HELLO_IOC_REQUEST, &r) < 0) {
			fprintf(stderr, "hello-client: stress: %s\n", strerror(errno));
			a->rc = errno == ENODEV ? 3 : 1;
			break;
		}
		if (r.status || r.out_len != a->size || memcmp(in, out, a->size)) {
			fprintf(stderr, "hello-client: stress: bad echo\n");
			a->rc = 1;
			break;
		}
	}
	free(in);
	free(out);
	close(fd);
	return NULL;
}

static int cmd_stress(unsigned int threads, unsigned long count, size_t size)
{
	pthread_t tid[64];
	struct stress_arg a[64];
	double t0 = now(), t;
	unsigned int i;
	int rc = 0;

	if (threads < 1 || threads > 64)
		return 1;
	for (i = 0; i < threads; i++) {
		a[i] = (struct stress_arg){ .size = size, .count = count, .seed = i + 1 };
		pthread_create(&tid[i], NULL, stress_thread, &a[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		if (a[i].rc > rc)
			rc = a[i].rc;
	}
	t = now() - t0;
	if (rc == 3)
		printf("stress: device went away (ENODEV)\n");
	else if (!rc)
		printf("stress: %u threads x %lu x %zu bytes verified, %.1f MB/s\n",
		       threads, count, size, 2.0 * size * count * threads / t / 1e6);
	return rc;
}

static const struct {
	const char *name;
	unsigned int kind;
	int want_errno;		/* or 0 and want_status */
	unsigned int want_status;
	const char *what;
} bad_kinds[] = {
	{ "empty", VIRTIO_HELLO_RAW_EMPTY, EIO, 0,
	  "zero-length descriptor: QEMU marks the device broken" },
	{ "wrongdir", VIRTIO_HELLO_RAW_WRONG_DIR, 0, VIRTIO_HELLO_S_BADREQ,
	  "request in device-writable buffers" },
	{ "short", VIRTIO_HELLO_RAW_SHORT, 0, VIRTIO_HELLO_S_BADREQ,
	  "8-byte request header" },
	{ "oversized", VIRTIO_HELLO_RAW_OVERSIZED, 0, VIRTIO_HELLO_S_TOOBIG,
	  "header claims max_buf_size + 1" },
	{ "mismatch", VIRTIO_HELLO_RAW_LEN_MISMATCH, 0, VIRTIO_HELLO_S_BADREQ,
	  "header says 100 bytes, chain has 50" },
	{ "nostatus", VIRTIO_HELLO_RAW_NO_STATUS, EIO, 0,
	  "no writable byte: device marks itself broken" },
	{ "badop", VIRTIO_HELLO_RAW_BAD_OP, 0, VIRTIO_HELLO_S_UNSUPP,
	  "unknown op" },
	{ "nospace", VIRTIO_HELLO_RAW_NOSPACE, 0, VIRTIO_HELLO_S_NOSPACE,
	  "ECHO 4 KiB, no room for the payload" },
	{ "badname", VIRTIO_HELLO_RAW_BAD_NAME, 0, VIRTIO_HELLO_S_BADREQ,
	  "GREET name with a control character" },
};

static int bad_one(int fd, unsigned int i)
{
	struct virtio_hello_ioc_raw r = { .kind = bad_kinds[i].kind };
	int ok;

	if (ioctl(fd, VIRTIO_HELLO_IOC_RAW, &r) < 0) {
		int e = errno;

		if (e == EPERM) {
			fprintf(stderr, "hello-client: raw chains need virtio_hello allow_raw=1 and root\n");
			return 2;
		}
		ok = bad_kinds[i].want_errno == e;
		printf("bad %-9s %-4s %s -> %s (%s)\n", bad_kinds[i].name,
		       ok ? "ok" : "FAIL", bad_kinds[i].what, strerror(e),
		       e == EIO ? "device needed a reset; driver recovered" : "");
		return !ok;
	}
	ok = !bad_kinds[i].want_errno && r.status == bad_kinds[i].want_status;
	printf("bad %-9s %-4s %s -> status %u (%s), used.len %u\n",
	       bad_kinds[i].name, ok ? "ok" : "FAIL", bad_kinds[i].what,
	       r.status, status_name(r.status), r.used_len);
	return !ok;
}

static int cmd_bad(int fd, const char *kind)
{
	unsigned int i;
	int rc = 0, found = 0;

	for (i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
		if (strcmp(kind, "all") && strcmp(kind, bad_kinds[i].name))
			continue;
		found = 1;
		rc |= bad_one(fd, i);
		if (rc & 2)
			return 2;
	}
	if (!found) {
		fprintf(stderr, "hello-client: bad KIND: all");
		for (i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++)
			fprintf(stderr, " %s", bad_kinds[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	/* The device must still work after all that. */
	if (cmd_greet(fd, "survivor")) {
		fprintf(stderr, "hello-client: device unusable after hostile chains\n");
		return 1;
	}
	return rc;
}

/* ---------------------------------------------------------------- bench */

#define BENCH_MAX_CALLS	2000000

/*
 * Latencies are taken with the TSC and converted with the rate measured
 * against CLOCK_MONOTONIC over the whole run: a TCG guest often fails to
 * calibrate its TSC and falls back to jiffies, whose 10 ms steps would
 * turn every latency into 0 or 10000 us.
 */
static inline uint64_t tsc(void)
{
	return __builtin_ia32_rdtsc();
}

struct bench {
	const char *mode;
	double secs;		/* run at least this long */
	uint64_t *lat_ns;	/* one entry per syscall, in TSC ticks until the report */
	uint64_t tsc0, tsc1;
	unsigned long calls;
	unsigned long ops;	/* requests completed */
	unsigned long long bytes;	/* payload bytes moved */
	double t0, t;
};

static int bench_init(struct bench *b, const char *mode, double secs)
{
	memset(b, 0, sizeof(*b));
	b->mode = mode;
	b->secs = secs > 0 ? secs : 1;
	b->lat_ns = malloc(sizeof(*b->lat_ns) * BENCH_MAX_CALLS);
	if (!b->lat_ns) {
		fprintf(stderr, "hello-client: bench: out of memory\n");
		return -1;
	}
	return 0;
}

/* True while the run should go on: time left and room for latencies. */
static int bench_more(struct bench *b)
{
	if (!b->calls) {
		b->t0 = now();
		b->tsc0 = tsc();
	}
	return b->calls < BENCH_MAX_CALLS &&
	       (!b->calls || now() - b->t0 < b->secs);
}

static void bench_end(struct bench *b)
{
	b->t = now();
	b->tsc1 = tsc();
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array */
static double pct_us(const uint64_t *v, unsigned long n, double p)
{
	unsigned long rank = (unsigned long)(p / 100.0 * n + 0.999999);

	if (!n)
		return 0;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1] / 1e3;
}

/* The driver's counters of the device behind dev_path (sysfs) */
static unsigned long long drv_stat(const char *name)
{
	const char *base = strrchr(dev_path, '/');
	char path[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/device/stats/%s",
		 base ? base + 1 : dev_path, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static void bench_report(struct bench *b, const char *target, const char *extra)
{
	double t = b->t - b->t0;
	double ns_per_tick;
	char clock[32] = "?";
	unsigned long i;
	FILE *f;

	ns_per_tick = b->tsc1 > b->tsc0 ? t * 1e9 / (b->tsc1 - b->tsc0) : 0;
	for (i = 0; i < b->calls; i++)
		b->lat_ns[i] = (uint64_t)(b->lat_ns[i] * ns_per_tick);
	qsort(b->lat_ns, b->calls, sizeof(*b->lat_ns), cmp_u64);
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (f) {
		if (fscanf(f, "%31s", clock) != 1)
			strcpy(clock, "?");
		fclose(f);
	}
	printf("bench mode=%s target=%s ops=%lu calls=%lu bytes=%llu secs=%.6f ops_s=%.1f mb_s=%.3f p50_us=%.2f p99_us=%.2f max_us=%.2f clock=%s%s\n",
	       b->mode, target, b->ops, b->calls, b->bytes, t,
	       t > 0 ? b->ops / t : 0.0, t > 0 ? b->bytes / t / 1e6 : 0.0,
	       pct_us(b->lat_ns, b->calls, 50), pct_us(b->lat_ns, b->calls, 99),
	       pct_us(b->lat_ns, b->calls, 100), clock, extra);
	free(b->lat_ns);
}

struct drv_counts {
	unsigned long long kicks, interrupts, completed;
};

static void drv_counts(struct drv_counts *c)
{
	c->kicks = drv_stat("kicks");
	c->interrupts = drv_stat("interrupts");
	c->completed = drv_stat("completed");
}

static void drv_extra(char *buf, size_t n, int fd, const struct drv_counts *a,
		      const struct drv_counts *z)
{
	struct virtio_hello_ioc_info i = { 0 };

	ioctl(fd, VIRTIO_HELLO_IOC_INFO, &i);
	snprintf(buf, n, " features=0x%llx event_idx=%d drv_kicks=%llu drv_irqs=%llu drv_completed=%llu",
		 (unsigned long long)i.features, !!(i.features & (1ull << 29)),
		 z->kicks - a->kicks, z->interrupts - a->interrupts,
		 z->completed - a->completed);
}

/* One request in flight: NOP, or ECHO of @size bytes (verified) */
static int bench_naive(int fd, double secs, size_t size)
{
	uint8_t *in = malloc(size + 1), *out = malloc(size + 1);
	struct drv_counts a, z;
	struct bench b;
	char extra[256];

	if (!in || !out || bench_init(&b, size ? "echo" : "nop", secs))
		return 1;
	fill_random(in, size, 42);
	drv_counts(&a);
	while (bench_more(&b)) {
		struct virtio_hello_ioc_req r = {
			.op = size ? VIRTIO_HELLO_OP_ECHO : VIRTIO_HELLO_OP_NOP,
			.in_ptr = (uintptr_t)in, .in_len = size,
			.out_ptr = (uintptr_t)out, .out_cap = size,
		};
		uint64_t s = tsc();

		if (do_req(fd, &r))
			return 1;
		b.lat_ns[b.calls++] = tsc() - s;
		if (r.out_len != size || (size && memcmp(in, out, size))) {
			fprintf(stderr, "hello-client: bench: echo mismatch\n");
			return 1;
		}
		b.ops++;
		b.bytes += 2ull * size;
	}
	bench_end(&b);
	drv_counts(&z);
	drv_extra(extra, sizeof(extra), fd, &a, &z);
	bench_report(&b, dev_path, extra);
	free(in);
	free(out);
	return 0;
}

/* @n NOPs per VIRTIO_HELLO_IOC_BATCH: one kick, or one per request (@each) */
static int bench_batch(int fd, double secs, unsigned int n, int each)
{
	struct virtio_hello_ioc_req r[VIRTIO_HELLO_BATCH_MAX];
	struct virtio_hello_ioc_batch bt = {
		.reqs_ptr = (uintptr_t)r, .count = n,
		.flags = each ? VIRTIO_HELLO_BATCH_KICK_EACH : 0,
	};
	struct drv_counts a, z;
	struct bench b;
	char extra[256];
	unsigned int i;

	if (n < 1 || n > VIRTIO_HELLO_BATCH_MAX) {
		fprintf(stderr, "hello-client: batch size 1..%d\n", VIRTIO_HELLO_BATCH_MAX);
		return 1;
	}
	if (bench_init(&b, each ? "kick-each" : "batch", secs))
		return 1;
	drv_counts(&a);
	while (bench_more(&b)) {
		uint64_t s;

		memset(r, 0, sizeof(r[0]) * n);
		for (i = 0; i < n; i++)
			r[i].op = VIRTIO_HELLO_OP_NOP;
		s = tsc();
		if (ioctl(fd, VIRTIO_HELLO_IOC_BATCH, &bt) < 0) {
			perror("hello-client: bench batch");
			return 1;
		}
		b.lat_ns[b.calls++] = tsc() - s;
		for (i = 0; i < n; i++)
			if (r[i].status != VIRTIO_HELLO_S_OK) {
				fprintf(stderr, "hello-client: batch[%u]: status %u\n",
					i, r[i].status);
				return 1;
			}
		b.ops += n;
	}
	bench_end(&b);
	drv_counts(&z);
	drv_extra(extra, sizeof(extra), fd, &a, &z);
	snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
		 " batch=%u", n);
	bench_report(&b, dev_path, extra);
	return 0;
}

/* O_DIRECT reads of @bs bytes, one in flight, walking the file/device */
static int bench_pread(const char *file, double secs, size_t bs)
{
	int fd = open(file, O_RDONLY | O_DIRECT);
	unsigned long long size, off = 0;
	struct bench b;
	struct stat st;
	void *buf;

	if (fd < 0) {
		fprintf(stderr, "hello-client: %s: %s\n", file, strerror(errno));
		return 2;
	}
	if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		unsigned long long bytes = 0;

		ioctl(fd, BLKGETSIZE64, &bytes);
		size = bytes;
	} else {
		size = st.st_size;
	}
	if (size < bs || posix_memalign(&buf, 4096, bs) ||
	    bench_init(&b, "pread", secs)) {
		fprintf(stderr, "hello-client: bench pread: cannot set up\n");
		return 1;
	}
	while (bench_more(&b)) {
		uint64_t s = tsc();
		ssize_t got = pread(fd, buf, bs, off);

		b.lat_ns[b.calls++] = tsc() - s;
		if (got != (ssize_t)bs) {
			fprintf(stderr, "hello-client: pread at %llu: %s\n", off,
				got < 0 ? strerror(errno) : "short read");
			return 1;
		}
		b.ops++;
		b.bytes += bs;
		off += bs;
		if (off + bs > size)
			off = 0;
	}
	bench_end(&b);
	bench_report(&b, file, "");
	free(buf);
	close(fd);
	return 0;
}

static int cmd_bench(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "";
	int fd, rc;

	if (!strcmp(mode, "pread") && argc > 4)
		return bench_pread(argv[3], strtod(argv[4], NULL),
				   argc > 5 ? parse_size(argv[5]) : 512);
	if (argc < 4)
		usage();
	fd = open_dev();
	if (!strcmp(mode, "naive"))
		rc = bench_naive(fd, strtod(argv[3], NULL),
				 argc > 4 ? parse_size(argv[4]) : 0);
	else if (!strcmp(mode, "batch") && argc > 4)
		rc = bench_batch(fd, strtod(argv[3], NULL), atoi(argv[4]),
				 argc > 5 && !strcmp(argv[5], "each"));
	else
		usage();
	close(fd);
	return rc;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: hello-client [-d DEV] info | greet NAME | echo SIZE [COUNT] |\n"
		"       crc SIZE | nop [COUNT] | batch [N] [ROUNDS] |\n"
		"       stress THREADS COUNT SIZE | bad KIND|all |\n"
		"       bench naive SECS [SIZE] | bench batch SECS N [each] |\n"
		"       bench pread FILE SECS [BS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;
	int fd, rc;

	if (argc > 2 && !strcmp(argv[1], "-d")) {
		dev_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "stress")) {
		if (argc < 5)
			usage();
		return cmd_stress(atoi(argv[2]), strtoul(argv[3], NULL, 0),
				  parse_size(argv[4]));
	}
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc, argv);
	fd = open_dev();
	if (!strcmp(cmd, "info"))
		rc = cmd_info(fd);
	else if (!strcmp(cmd, "greet") && argc > 2)
		rc = cmd_greet(fd, argv[2]);
	else if (!strcmp(cmd, "echo") && argc > 2)
		rc = cmd_echo(fd, parse_size(argv[2]),
			      argc > 3 ? strtoul(argv[3], NULL, 0) : 1);
	else if (!strcmp(cmd, "crc") && argc > 2)
		rc = cmd_crc(fd, parse_size(argv[2]));
	else if (!strcmp(cmd, "nop"))
		rc = cmd_nop(fd, argc > 2 ? strtoul(argv[2], NULL, 0) : 1000);
	else if (!strcmp(cmd, "batch"))
		rc = cmd_batch(fd, argc > 2 ? atoi(argv[2]) : 16,
			       argc > 3 ? strtoul(argv[3], NULL, 0) : 100);
	else if (!strcmp(cmd, "bad") && argc > 2)
		rc = cmd_bad(fd, argv[2]);
	else
		usage();
	close(fd);
	return rc;
}
