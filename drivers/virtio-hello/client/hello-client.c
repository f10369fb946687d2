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
 *                                                (beyond max_data: several requests)
 *   hello-client [-d DEV] crc SIZE               device CRC-32 vs ours
 *   hello-client [-d DEV] nop [COUNT]            round-trip latency
 *   hello-client [-d DEV] batch [N] [ROUNDS]     N NOPs per kick
 *   hello-client [-d DEV] stress THREADS COUNT SIZE   parallel echoes
 *   hello-client [-d DEV] bad KIND|all           hostile chains (allow_raw=1)
 *   hello-client [-d DEV] bench naive SECS [SIZE]      one request in flight
 *   hello-client [-d DEV] bench batch SECS N [each]    N NOPs per ioctl
 *   hello-client bench pread FILE SECS [BS]            O_DIRECT reads, one in flight
 *
 * bench (hello-bench.c, #included below: still one source file to build)
 * prints one "bench key=value ..." line for kernelcraft's tune milestone.
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *dev_path = "/dev/virtio-hello0";

static void print_usage(void);

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

/*
 * The most payload one request carries (INFO's max_data): a chain is never
 * longer than the ring, so that is (ring entries - 3) / 2 pages at most.
 * 0 when the driver does not say.
 */
static size_t max_data(int fd)
{
	struct virtio_hello_ioc_info i;

	if (ioctl(fd, VIRTIO_HELLO_IOC_INFO, &i) < 0)
		return 0;
	return i.max_data;
}

/*
 * Says where an echo's answer differs from what was sent, and whether what
 * came back is all zero: bytes the device said it wrote but did not.  The
 * driver hands out zeroed pages, so those are zeros, never old kernel data.
 */
static void report_difference(unsigned long n, unsigned long req,
			      const uint8_t *sent, const uint8_t *got,
			      size_t len)
{
	size_t i, first = len, nonzero = 0;

	for (i = 0; i < len; i++) {
		if (got[i])
			nonzero++;
		if (first == len && got[i] != sent[i])
			first = i;
	}
	fprintf(stderr, "hello-client: echo %lu: request %lu: data mismatch at byte %zu of %zu (sent 0x%02x, got 0x%02x); ",
		n, req, first, len, sent[first], got[first]);
	if (nonzero)
		fprintf(stderr, "%zu of the bytes that came back are not zero\n", nonzero);
	else
		fprintf(stderr, "the bytes that came back are all zero\n");
}

/*
 * ECHO @size bytes from @in to @out, in requests of at most @chunk bytes
 * (one request if @chunk is 0), each checked by length and by the device's
 * CRC-32 of its own part.  Returns the number of requests, 0 on failure.
 */
static unsigned long echo_verify(int fd, const uint8_t *in, uint8_t *out,
				 size_t size, size_t chunk, unsigned long n)
{
	unsigned long reqs = 0;
	size_t off = 0;

	do {
		size_t len = chunk && size - off > chunk ? chunk : size - off;
		struct virtio_hello_ioc_req r = {
			.op = VIRTIO_HELLO_OP_ECHO,
			.in_ptr = (uintptr_t)(in + off), .in_len = len,
			.out_ptr = (uintptr_t)(out + off), .out_cap = len,
		};

		if (do_req(fd, &r))
			return 0;
		reqs++;
		if (r.out_len != len) {
			fprintf(stderr, "hello-client: echo %lu: request %lu: got %u bytes of %zu\n",
				n, reqs, r.out_len, len);
			return 0;
		}
		if (r.crc32 != crc32_ieee(in + off, len)) {
			fprintf(stderr, "hello-client: echo %lu: request %lu: crc32 %08x, expected %08x\n",
				n, reqs, r.crc32, crc32_ieee(in + off, len));
			return 0;
		}
		if (memcmp(in + off, out + off, len)) {
			report_difference(n, reqs, in + off, out + off, len);
			return 0;
		}
		off += len;
	} while (off < size);
	return reqs;
}

/*
 * An echo larger than max_data goes out as several requests of max_data
 * bytes (the last one shorter): "echo 1M" on a 256-entry ring is 504 KiB,
 * 504 KiB and 16 KiB.
 */
static int cmd_echo(int fd, size_t size, unsigned long count)
{
	uint8_t *in = malloc(size ? size : 1), *out = malloc(size ? size : 1);
	size_t chunk = max_data(fd);
	unsigned long n, reqs = 0;
	double t0, t;
	int rc = 0;

	if (!in || !out)
		return 1;
	t0 = now();
	for (n = 0; n < count; n++) {
		unsigned long k;

		fill_random(in, size, (uint64_t)time(NULL) * 2654435761u + n);
		memset(out, 0, size);
		k = echo_verify(fd, in, out, size, chunk, n);
		if (!k) {
			rc = 1;
			break;
		}
		reqs += k;
	}
	t = now() - t0;
	if (!rc)
		printf("echo: %lu x %zu bytes verified, %.1f MB/s (%lu requests of at most %zu bytes, %.1f us/request)\n",
		       count, size, t > 0 ? 2.0 * size * count / t / 1e6 : 0.0,
		       reqs, chunk && chunk < size ? chunk : size,
		       reqs ? t * 1e6 / reqs : 0.0);
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

	for (i = 0; i < ARRAY_SIZE(bad_kinds); i++) {
		if (strcmp(kind, "all") && strcmp(kind, bad_kinds[i].name))
			continue;
		found = 1;
		rc |= bad_one(fd, i);
		if (rc & 2)
			return 2;
	}
	if (!found) {
		fprintf(stderr, "hello-client: bad KIND: all");
		for (i = 0; i < ARRAY_SIZE(bad_kinds); i++)
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

/*
 * The benchmarks (bench naive|batch|pread) are in hello-bench.c, compiled
 * as part of this file: the guest build is one gcc command on one source.
 */
#include "hello-bench.c"

static void print_usage(void)
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
		print_usage();
	cmd = argv[1];
	if (!strcmp(cmd, "stress")) {
		if (argc < 5)
			print_usage();
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
		print_usage();
	close(fd);
	return rc;
}
