// SPDX-License-Identifier: MIT
/*
 * Cost of the per-packet inner-packet helpers on one core: parse (strict
 * and trim), the address accessors, the RFC 1071 checksum by length, and
 * building an unreachable answer. Times are this thread's CPU time.
 *
 *   build/bench/ippkt [-n ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datapath/icmp.h"
#include "datapath/ippkt.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keeps results alive so the compiler cannot drop the timed work. */
static volatile uintptr_t sink;

static void mk_packet(uint8_t *p, size_t tot, int v6)
{
	memset(p, 0x5a, tot);
	memset(p, 0, v6 ? 40 : 20);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((tot - 40) >> 8);
		p[5] = (uint8_t)(tot - 40);
		p[6] = 17;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(tot >> 8);
		p[3] = (uint8_t)tot;
		p[9] = 17;
		p[12] = 10;
		p[15] = 1;
		p[16] = 10;
		p[19] = 2;
	}
}

static void row(const char *what, double ns, long n)
{
	printf("%-34s %9.2f ns/op %12.1f Mop/s\n", what, ns / (double)n,
	       (double)n / ns * 1e3);
}

static void bench_parse(long n, const uint8_t *p, size_t len, int trim,
			const char *what)
{
	struct wgx_ippkt_info in;
	double t = now_ns();

	for (long i = 0; i < n; i++) {
		/* Vary the length slightly so the call is not hoisted. */
		size_t l = len + (trim ? (size_t)(i & 15) : 0);
		int err = trim ? wgx_ippkt_parse_trim(p, l, &in)
			       : wgx_ippkt_parse(p, l, &in);

		sink += (uintptr_t)err + in.tot_len;
	}
	row(what, now_ns() - t, n);
}

static void bench_daddr(long n, const uint8_t *p, size_t len)
{
	double t = now_ns();
	int family;

	for (long i = 0; i < n; i++)
		sink += (uintptr_t)wgx_ippkt_daddr(p, len - (size_t)(i & 1),
						   &family);
	row("daddr accessor", now_ns() - t, n);
}

static void bench_csum(long n, const uint8_t *p)
{
	static const size_t lens[] = { 20, 64, 576, 1280, 1420 };

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		long m = n / (long)(lens[k] / 20 + 1);
		char what[64];
		double t = now_ns(), ns;

		for (long i = 0; i < m; i++)
			sink += wgx_ippkt_csum(p + (i & 1), lens[k]);
		ns = now_ns() - t;
		snprintf(what, sizeof(what), "csum %4zu bytes", lens[k]);
		printf("%-34s %9.2f ns/op %12.2f GB/s\n", what, ns / (double)m,
		       (double)lens[k] * (double)m / ns);
	}
}

static void bench_icmp(long n, const uint8_t *p, size_t len, const char *what)
{
	static uint8_t out[WGX_ICMP_MAX_LEN];
	double t = now_ns();

	for (long i = 0; i < n; i++)
		sink += (uintptr_t)wgx_icmp_unreachable(p, len, NULL, out,
							sizeof(out));
	row(what, now_ns() - t, n);
}

int main(int argc, char **argv)
{
	static uint8_t v4[1440], v6[1440];
	long n = 20000000;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (n = atol(optarg)) <= 0) {
			fprintf(stderr, "usage: %s [-n ITERATIONS]\n", argv[0]);
			return 2;
		}
	}
	mk_packet(v4, 1420, 0);
	mk_packet(v6, 1420, 1);
	printf("%ld iterations (checksum and ICMP rows use fewer)\n", n);
	bench_parse(n, v4, 1420, 0, "parse IPv4 1420");
	bench_parse(n, v6, 1420, 0, "parse IPv6 1420");
	bench_parse(n, v4, 1420, 1, "parse_trim IPv4 + padding");
	bench_daddr(n, v6, 1420);
	bench_csum(n, v4);
	bench_icmp(n / 50, v4, 1420, "icmp answer IPv4 (576 bytes)");
	bench_icmp(n / 50, v6, 1420, "icmp answer IPv6 (1280 bytes)");
	return 0;
}
