// SPDX-License-Identifier: GPL-2.0
/*
 * hello-client bench: the measurements kernelcraft's tune milestone reads.
 *
 *   bench naive SECS [SIZE]      one request in flight (NOP, or ECHO SIZE)
 *   bench batch SECS N [each]    N NOPs per VIRTIO_HELLO_IOC_BATCH
 *   bench pread FILE SECS [BS]   O_DIRECT reads, one in flight
 *
 * Each prints one "bench key=value ..." line: ops, bytes, seconds, latency
 * percentiles per call, and for virtio-hello the driver's own kick,
 * interrupt and completion counts over the run.
 *
 * Not a program of its own: hello-client.c includes it after the helpers
 * it uses (now, do_req, fill_random, open_dev, parse_size, dev_path).
 */

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
		print_usage();
	fd = open_dev();
	if (!strcmp(mode, "naive"))
		rc = bench_naive(fd, strtod(argv[3], NULL),
				 argc > 4 ? parse_size(argv[4]) : 0);
	else if (!strcmp(mode, "batch") && argc > 4)
		rc = bench_batch(fd, strtod(argv[3], NULL), atoi(argv[4]),
				 argc > 5 && !strcmp(argv[5], "each"));
	else
		print_usage();
	close(fd);
	return rc;
}
