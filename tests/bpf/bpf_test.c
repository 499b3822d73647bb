// SPDX-License-Identifier: MIT
/*
 * Fixture tests of the XDP classifier (bpf/wgxdp.bpf.c), run through
 * BPF_PROG_TEST_RUN: each fixture is {name, frame, verdict, stat id}; the
 * frame is built from a short description so the table reads as what it
 * tests (initiations and responses get a valid mac1 unless the fixture
 * says otherwise). Every run also checks that exactly its stat moved, by
 * one packet and the frame's length in bytes. Then every truncation of
 * every fixture and random frames (fixed seed; 100,000 by default) must
 * come back PASS, DROP or REDIRECT, counted once; a third of them are
 * built from random descriptions and must get exactly the stat an oracle
 * computes from the description (mac1 with libb2's BLAKE2s).
 *
 * Needs root to load the program; without it prints SKIP. The XSK
 * redirect group opens an AF_XDP socket on the loopback device of a
 * private network namespace; it sends nothing.
 *
 * Usage: bpf_test [BUILD_DIR] [-v] [--frames N] [--seed N]
 *   --frames N   random frames in all (default 100000; `make bpf-random`
 *                runs 1000000), split 40/30/30 between random bytes,
 *                mutated fixtures and random descriptions
 *   --seed N     another fixed seed
 * Prints PASS/FAIL per group, the time per frame of a few kinds, and
 * "N passed, N failed[, N skipped]".
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <blake2.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <time.h>

#include "wgx_bpf.h"
#include "wgx_wire.h"
#include "wgxdp.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	LISTEN_PORT = 51820,
	KNOWN_INDEX = 0x0badc0de,
	UNKNOWN_INDEX = 0x12345678,
	HORIZON_INDEX = 0x0f00d001, /* a horizon published just now */
	STALE_INDEX = 0x0f00d002,   /* one published 10 s ago */
	FUTURE_INDEX = 0x0f00d003,  /* one stamped a minute ahead */
	MAX_FRAME = 2048,
	MIN_FRAME = 14,	       /* ETH_HLEN: the smallest frame test_run takes */
	FULL_DATA = 1452,      /* a data message carrying a 1420-byte packet */
	RANDOM_TOTAL = 100000, /* split 40/30/30, see the top */
	MAX_RANDOM_TOTAL = 100000000,
	MAX_EXT = 8,
	DENIED_SRC = 200, /* the denied IPv4 source (source_addr()) */
	DENIED64 = 9,	  /* the denied IPv6 /64 (spec.src64) */
};

/* IPv6 extension headers a test frame can carry, in order. */
enum ext_hdr {
	EXT_NONE = 0,
	EXT_HOPOPTS,	/* hop-by-hop options, 8 bytes */
	EXT_DEST,	/* destination options, 8 bytes */
	EXT_DEST_LONG,	/* destination options, 24 bytes */
	EXT_ROUTING,	/* routing header, 8 bytes */
	EXT_AH,		/* authentication header, 16 bytes */
	EXT_FRAG,	/* fragment header: first fragment (M set) */
	EXT_FRAG_LATER, /* fragment header: offset 1448, M set */
	EXT_FRAG_WHOLE, /* fragment header: offset 0, M clear (atomic) */
	EXT_MOBILITY,	/* mobility header: not walked */
	EXT_KINDS,
};

/* What a test frame looks like; zero fields take the ordinary value. */
struct spec {
	bool v6;
	uint16_t ethertype; /* non-zero: this ethertype, no IP header */
	uint8_t vlans;	    /* VLAN tags, 0 to 3 */
	uint8_t ip_version; /* non-zero: written instead of 4 or 6 */
	uint8_t ihl;	   /* non-zero: its low 4 bits instead of 5 + options */
	uint8_t ip_opts;   /* IPv4 option bytes, a multiple of 4 */
	uint16_t frag_off; /* IPv4 flags and fragment offset */
	uint8_t ext[MAX_EXT]; /* enum ext_hdr, up to the first EXT_NONE */
	uint8_t proto;	      /* non-zero: L4 protocol instead of UDP */
	bool not_local;	      /* to another host's address */
	uint8_t src;	      /* which source address */
	uint8_t src64;	      /* IPv6: which /64 it is in */
	uint16_t dport;	      /* non-zero: instead of the listen port */
	uint32_t word;	      /* first WireGuard word, little-endian */
	int wg_len;	      /* UDP payload bytes */
	uint32_t index;	      /* receiver index at offset 4 */
	uint64_t counter;     /* data: the counter at offset 8 */
	int udp_len_delta;    /* added to the UDP length field */
	int ip_len_delta;     /* added to the IP length field */
	int ip_extra;	      /* IP payload bytes after the UDP datagram */
	int pad;	      /* frame bytes after the IP packet */
	int cut;	      /* bytes cut off the end */
	bool bad_mac1;	      /* an initiation or response with a wrong mac1 */
};

struct fixture {
	const char *name;
	struct spec s;
	int verdict;
	int stat;
};

/* FX(name, verdict, stat, spec fields...) */
#define FX(nm, v, st, ...)                                                     \
	{                                                                      \
		.name = nm, .verdict = XDP_##v, .stat = WGX_XDP_STAT_##st,     \
		.s = { __VA_ARGS__ }                                           \
	}

#define WG(type, len)  .word = (type), .wg_len = (len)
#define DATA(len, idx) .word = WGX_MSG_DATA, .wg_len = (len), .index = (idx)
#define INIT	       WG(WGX_MSG_INITIATION, WGX_MSG_INITIATION_LEN)
#define RESP	       WG(WGX_MSG_RESPONSE, WGX_MSG_RESPONSE_LEN)
#define COOKIE	       WG(WGX_MSG_COOKIE_REPLY, WGX_MSG_COOKIE_REPLY_LEN)

#define ST(x) WGX_XDP_STAT_##x

static const char *const stat_names[] = {
#define STAT_NAME(id, name) name,
	WGX_XDP_STATS_LIST(STAT_NAME)
#undef STAT_NAME
};

/* Any 32 bytes: the program only ever sees the mac1 key derived from it. */
static const uint8_t test_public_key[32] = {
	0x5c, 0x2a, 0x9f, 0x31, 0x07, 0xe4, 0x66, 0x18, 0xd1, 0x42, 0xbb,
	0x7e, 0x03, 0x90, 0x2d, 0xc5, 0x6a, 0x14, 0xf8, 0x81, 0x3b, 0x57,
	0xe0, 0x09, 0xa6, 0x72, 0x1d, 0xcf, 0x48, 0x95, 0x2e, 0x60,
};
static uint8_t mac1_key[32];

static const uint8_t local4[4] = { 192, 0, 2, 1 };
static const uint8_t other4[4] = { 192, 0, 2, 99 };
static const uint8_t local6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t other6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };

static struct wgxdp *skel;
static int prog_fd;
static unsigned long random_total = RANDOM_TOTAL;
static int ncpus;
static struct wgx_xdp_counter *percpu; /* one value per possible CPU */
static bool verbose;
static int passed, failed, skipped;
/* Failures within the running group; their details are already printed. */
static int group_failures;
static unsigned long group_frames;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	group_failures++;
	if (group_failures > 20)
		return; /* enough to debug with */
	fputs("    ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void group_end(const char *name)
{
	if (group_failures) {
		printf("FAIL %s (%d checks failed, %lu frames)\n", name,
		       group_failures, group_frames);
		failed++;
	} else {
		printf("PASS %s (%lu frames)\n", name, group_frames);
		passed++;
	}
	group_failures = 0;
	group_frames = 0;
}

static const char *verdict_name(int v)
{
	static const char *const names[] = { "ABORTED", "DROP", "PASS", "TX",
					     "REDIRECT" };

	return v >= 0 && v < (int)ARRAY_SIZE(names) ? names[v] : "?";
}

static int stat_verdict(int stat)
{
	switch (stat) {
	case ST(REDIRECT_XSK):
		return XDP_REDIRECT;
	case ST(DROP_MALFORMED):
	case ST(DROP_UNKNOWN_INDEX):
	case ST(DROP_BAD_COUNTER):
	case ST(DROP_FRAGMENT):
	case ST(DROP_BAD_MAC1):
	case ST(DROP_DENIED):
		return XDP_DROP;
	case ST(ABORTED):
		return XDP_ABORTED;
	default:
		return XDP_PASS;
	}
}

/* ---- frames ---- */

static uint64_t rng_state = 0x7767786470ULL; /* fixed: runs repeat */
static uint64_t seed;

static uint64_t rng(void)
{
	/* xorshift64*: plenty for test input. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static void ip4_checksum(uint8_t *h, int len)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < len; i += 2)
		sum += (h[i] << 8) | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(h + 10, ~sum & 0xffff);
}

static void source_addr(const struct spec *s, uint8_t *addr)
{
	static const uint8_t base4[4] = { 198, 51, 100, 10 };
	static const uint8_t base6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

	if (s->v6) {
		memcpy(addr, base6, 16);
		addr[7] = s->src64;
		addr[15] = 10 + s->src;
	} else {
		memcpy(addr, base4, 4);
		addr[3] = 10 + s->src;
	}
}

static int ext_count(const struct spec *s)
{
	int n = 0;

	while (n < MAX_EXT && s->ext[n] != EXT_NONE)
		n++;
	return n;
}

static int ext_len(uint8_t kind)
{
	switch (kind) {
	case EXT_DEST_LONG:
		return 24;
	case EXT_AH:
		return 16;
	default:
		return 8;
	}
}

static uint8_t ext_nexthdr(uint8_t kind)
{
	switch (kind) {
	case EXT_HOPOPTS:
		return 0;
	case EXT_DEST:
	case EXT_DEST_LONG:
		return 60;
	case EXT_ROUTING:
		return 43;
	case EXT_AH:
		return 51;
	case EXT_MOBILITY:
		return 135;
	default:
		return 44;
	}
}

/* One extension header of kind at p whose next header is next. */
static int put_ext(uint8_t *p, uint8_t kind, uint8_t next)
{
	int len = ext_len(kind);

	memset(p, 0, len);
	p[0] = next;
	switch (kind) {
	case EXT_AH:
		p[1] = len / 4 - 2;
		break;
	case EXT_FRAG:
		put16(p + 2, 1); /* offset 0, more fragments */
		break;
	case EXT_FRAG_LATER:
		put16(p + 2, (1448 / 8) << 3 | 1);
		break;
	case EXT_FRAG_WHOLE:
		break;
	default:
		p[1] = len / 8 - 1;
		if (kind != EXT_ROUTING && len > 2) {
			p[2] = 1; /* PadN over the rest */
			p[3] = len - 4;
		}
		break;
	}
	return len;
}

/* Ethernet, VLAN tags, IP and UDP headers; returns the header length. */
static int build_headers(const struct spec *s, uint8_t *f, int udp_total,
			 int ip_payload)
{
	static const uint16_t tags[3] = { 0x88a8, 0x8100, 0x8100 };
	int n = 0, i, ihl_bytes, ext = 0, next = ext_count(s);
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	uint8_t *ip;

	for (i = 0; i < next; i++)
		ext += ext_len(s->ext[i]);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	n = 12;
	for (i = 0; i < s->vlans; i++) {
		/* One tag is 802.1Q; two are 802.1AD outside 802.1Q. */
		put16(f + n, s->vlans == 1 ? 0x8100 : tags[i]);
		put16(f + n + 2, 100 + i);
		n += 4;
	}
	if (s->ethertype) {
		put16(f + n, s->ethertype);
		return n + 2;
	}
	put16(f + n, s->v6 ? 0x86dd : 0x0800);
	n += 2;
	ip = f + n;

	if (s->v6) {
		ip[0] = (s->ip_version ? s->ip_version : 6) << 4;
		put16(ip + 4, ext + ip_payload + s->ip_len_delta);
		ip[6] = next ? ext_nexthdr(s->ext[0]) : proto;
		ip[7] = 64;
		source_addr(s, ip + 8);
		memcpy(ip + 24, s->not_local ? other6 : local6, 16);
		n += 40;
		for (i = 0; i < next; i++)
			n += put_ext(f + n, s->ext[i],
				     i + 1 < next ? ext_nexthdr(s->ext[i + 1])
						  : proto);
	} else {
		ihl_bytes = 20 + s->ip_opts;
		ip[0] = 0x40 | (s->ihl ? s->ihl & 0x0f : ihl_bytes / 4);
		if (s->ip_version)
			ip[0] = (s->ip_version << 4) | (ip[0] & 0x0f);
		put16(ip + 2, ihl_bytes + ip_payload + s->ip_len_delta);
		put16(ip + 4, 0x1234);
		put16(ip + 6, s->frag_off);
		ip[8] = 64;
		ip[9] = proto;
		source_addr(s, ip + 12);
		memcpy(ip + 16, s->not_local ? other4 : local4, 4);
		/* NOPs, then end of options. */
		memset(ip + 20, 1, s->ip_opts);
		if (s->ip_opts)
			ip[ihl_bytes - 1] = 0;
		ip4_checksum(ip, ihl_bytes);
		n += ihl_bytes;
	}

	put16(f + n, 51821);
	put16(f + n + 2, s->dport ? s->dport : LISTEN_PORT);
	put16(f + n + 4, udp_total + s->udp_len_delta);
	put16(f + n + 6, 0);
	return n + 8;
}

/* mac1 of an initiation or response of its exact size, as a peer who
 * knows test_public_key makes it (the key as cookie.c derives it). */
static bool has_mac1(const struct spec *s)
{
	return (s->word == WGX_MSG_INITIATION &&
		s->wg_len == WGX_MSG_INITIATION_LEN) ||
	       (s->word == WGX_MSG_RESPONSE &&
		s->wg_len == WGX_MSG_RESPONSE_LEN);
}

static void put_mac1(uint8_t *msg, int len, bool bad)
{
	int cover = len - 2 * WGX_MAC_LEN;

	blake2s(msg + cover, msg, mac1_key, WGX_MAC_LEN, cover,
		sizeof(mac1_key));
	if (bad)
		msg[cover + rng_below(WGX_MAC_LEN)] ^= 1 << rng_below(8);
}

/* Builds the frame s describes into f; returns its length. */
static int build(const struct spec *s, uint8_t *f)
{
	int udp_total = 8 + s->wg_len, n, i, len;

	n = build_headers(s, f, udp_total, udp_total + s->ip_extra);
	if (s->ethertype) {
		memset(f + n, 0, s->pad);
		return n + s->pad - s->cut;
	}
	/* Payload: the word, the index, then a recognisable filler. */
	for (i = 0; i < s->wg_len + s->ip_extra + s->pad; i++)
		f[n + i] = (uint8_t)(0xa5 ^ i);
	if (s->wg_len >= 4)
		put_le32(f + n, s->word);
	if (s->wg_len >= 8)
		put_le32(f + n + 4, s->index);
	if (s->wg_len >= 16 && s->word == WGX_MSG_DATA) {
		put_le32(f + n + 8, (uint32_t)s->counter);
		put_le32(f + n + 12, (uint32_t)(s->counter >> 32));
	}
	if (has_mac1(s))
		put_mac1(f + n, s->wg_len, s->bad_mac1);
	len = n + s->wg_len + s->ip_extra + s->pad - s->cut;
	return len < 0 ? 0 : len;
}

/* ---- running the program ---- */

static int run(const uint8_t *frame, int len, int *verdict)
{
	struct bpf_test_run_opts opts = { .sz = sizeof(opts),
					  .data_in = frame,
					  .data_size_in = len,
					  .repeat = 1 };
	int err;

	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err)
		return -errno;
	*verdict = opts.retval;
	group_frames++;
	return 0;
}

/* Sum of the per-CPU stats. */
static int read_stats(struct wgx_xdp_counter *out)
{
	int fd = bpf_map__fd(skel->maps.wgx_stats);
	__u32 id;
	int c;

	for (id = 0; id < WGX_XDP_STAT_COUNT; id++) {
		if (bpf_map_lookup_elem(fd, &id, percpu))
			return -errno;
		out[id].packets = out[id].bytes = 0;
		for (c = 0; c < ncpus; c++) {
			out[id].packets += percpu[c].packets;
			out[id].bytes += percpu[c].bytes;
		}
	}
	return 0;
}

/* Runs one frame and checks verdict and that only stat moved. */
static void expect(const char *name, const uint8_t *frame, int len, int verdict,
		   int stat)
{
	struct wgx_xdp_counter before[WGX_XDP_STAT_COUNT];
	struct wgx_xdp_counter after[WGX_XDP_STAT_COUNT];
	int got, id;

	if (read_stats(before) || run(frame, len, &got) || read_stats(after)) {
		fail("%s: test run failed: %s", name, strerror(errno));
		return;
	}
	if (got != verdict)
		fail("%s: verdict %s, want %s", name, verdict_name(got),
		     verdict_name(verdict));
	for (id = 0; id < WGX_XDP_STAT_COUNT; id++) {
		__u64 dp = after[id].packets - before[id].packets;
		__u64 db = after[id].bytes - before[id].bytes;
		__u64 wp = id == stat, wb = id == stat ? (__u64)len : 0;

		if (dp != wp || db != wb)
			fail("%s: %s moved by %llu packets %llu bytes, want "
			     "%llu, %llu",
			     name, stat_names[id], (unsigned long long)dp,
			     (unsigned long long)db, (unsigned long long)wp,
			     (unsigned long long)wb);
	}
	if (verbose)
		printf("    ok %s: %d bytes -> %s %s\n", name, len,
		       verdict_name(got), stat_names[stat]);
}

static void expect_fixture(const struct fixture *fx)
{
	uint8_t frame[MAX_FRAME];
	int len = build(&fx->s, frame);

	if (len < MIN_FRAME) {
		fail("%s: fixture frame too short (%d)", fx->name, len);
		return;
	}
	expect(fx->name, frame, len, fx->verdict, fx->stat);
}

static void run_table(const char *group, const struct fixture *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		expect_fixture(&t[i]);
	group_end(group);
}

/* ---- maps ---- */

/* The derived key, as wgx_cookie_checker_set_public_key() makes it. */
static void mac1_key_init(void)
{
	uint8_t in[8 + 32];

	memcpy(in, "mac1----", 8);
	memcpy(in + 8, test_public_key, 32);
	blake2s(mac1_key, in, NULL, sizeof(mac1_key), sizeof(in), 0);
}

/* Listen port and flags, with the test's mac1 key (WGX_XDP_MAC1 on by
 * default: what the agent sets once it has a key). */
static int set_config_key(uint16_t port, uint16_t flags, const uint8_t *key)
{
	struct wgx_xdp_config cfg = { .listen_port = port, .flags = flags };
	__u32 zero = 0;

	memcpy(cfg.mac1_key, key, sizeof(cfg.mac1_key));
	return bpf_map_update_elem(bpf_map__fd(skel->maps.wgx_config), &zero,
				   &cfg, BPF_ANY);
}

static int set_config(uint16_t port, uint16_t flags)
{
	return set_config_key(port, flags, mac1_key);
}

/* Deny the source of s (its /64 for IPv6) for ms milliseconds from now
 * (negative: expired that long ago), keyed as the agent keys it. */
static int deny(const struct spec *s, long ms)
{
	struct wgx_addr_key key = { .family = s->v6 ? 6 : 4 };
	struct wgx_deny_value val;
	uint8_t addr[16] = { 0 };
	struct timespec ts;

	source_addr(s, addr);
	memcpy(key.addr, addr, s->v6 ? WGX_DENY_PREFIX6 : WGX_DENY_PREFIX4);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	val.until_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec +
		       (uint64_t)(ms * 1000000);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.wgx_deny), &key, &val,
				   BPF_ANY);
}

/* The receive counter's next as a worker publishes it for the fixtures. */
#define H_NEXT (1ULL << 30)

/* Publish next for index, stamped ms milliseconds ago, as a worker does. */
static int publish_horizon(uint32_t index, long ms)
{
	struct wgx_session_key key = { .index_le = htole32(index) };
	struct wgx_rx_horizon h = { .next = H_NEXT };
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	h.at_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec -
		  (uint64_t)(ms * 1000000);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.wgx_rx_horizon), &key,
				   &h, BPF_ANY);
}

static int add_local(uint8_t family, const uint8_t *addr)
{
	struct wgx_addr_key key = { .family = family };
	__u32 one = 1;

	memcpy(key.addr, addr, family == 4 ? 4 : 16);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.wgx_local_addrs),
				   &key, &one, BPF_NOEXIST);
}

static int add_session(uint32_t index)
{
	struct wgx_session_key key = { .index_le = htole32(index) };
	struct wgx_session_value val = { .peer_id = 7,
					 .slot = WGX_SLOT_CURRENT };

	return bpf_map_update_elem(bpf_map__fd(skel->maps.wgx_sessions), &key,
				   &val, BPF_NOEXIST);
}

static int fill_maps(void)
{
	mac1_key_init();
	if (set_config(LISTEN_PORT, WGX_XDP_MAC1) || add_local(4, local4) ||
	    add_local(6, local6) || add_session(KNOWN_INDEX) ||
	    add_session(HORIZON_INDEX) || add_session(STALE_INDEX) ||
	    add_session(FUTURE_INDEX) || publish_horizon(HORIZON_INDEX, 0) ||
	    publish_horizon(STALE_INDEX, 10000) ||
	    publish_horizon(FUTURE_INDEX, -60000) ||
	    deny(&(struct spec){ .src = DENIED_SRC }, 3600 * 1000) ||
	    deny(&(struct spec){ .v6 = true, .src64 = DENIED64 }, 3600 * 1000))
		return -errno;
	return 0;
}

/* ---- fixture tables ---- */

static const struct fixture eth_fixtures[] = {
	FX("arp frame", PASS, PASS_OTHER, .ethertype = 0x0806, .pad = 28),
	FX("ethernet header only", PASS, PASS_OTHER, .ethertype = 0x0800),
	FX("one 802.1Q tag, data", PASS, PASS_DATA, .vlans = 1,
	   DATA(64, KNOWN_INDEX)),
	FX("two tags (802.1AD, 802.1Q), data", PASS, PASS_DATA, .vlans = 2,
	   DATA(64, KNOWN_INDEX)),
	FX("two tags, ipv6 initiation", PASS, PASS_HANDSHAKE, .vlans = 2,
	   .v6 = true, INIT),
	FX("two tags, unknown index", DROP, DROP_UNKNOWN_INDEX, .vlans = 2,
	   DATA(32, UNKNOWN_INDEX)),
	FX("one tag, malformed", DROP, DROP_MALFORMED, .vlans = 1,
	   WG(WGX_MSG_INITIATION, 147)),
	FX("three tags: not parsed", PASS, PASS_OTHER, .vlans = 3, INIT),
	FX("tag cut short", PASS, PASS_OTHER, .vlans = 1, .ethertype = 0x0800,
	   .cut = 2),
	FX("vlan tag with nothing after it", PASS, PASS_OTHER, .vlans = 1,
	   .ethertype = 0x0800),
};

static const struct fixture ipv4_fixtures[] = {
	FX("initiation", PASS, PASS_HANDSHAKE, INIT),
	FX("4 option bytes, initiation", PASS, PASS_HANDSHAKE, .ip_opts = 4,
	   INIT),
	FX("40 option bytes, initiation", PASS, PASS_HANDSHAKE, .ip_opts = 40,
	   INIT),
	FX("40 option bytes, known data", PASS, PASS_DATA, .ip_opts = 40,
	   DATA(32, KNOWN_INDEX)),
	FX("12 option bytes, unknown index", DROP, DROP_UNKNOWN_INDEX,
	   .ip_opts = 12, DATA(48, UNKNOWN_INDEX)),
	FX("8 option bytes, response 93", DROP, DROP_MALFORMED, .ip_opts = 8,
	   WG(WGX_MSG_RESPONSE, 93)),
	FX("ihl 4", PASS, PASS_OTHER, .ihl = 4, INIT),
	FX("ihl 0", PASS, PASS_OTHER, .ihl = 0x10, INIT),
	FX("ihl 15 past the frame end", PASS, PASS_OTHER, .ihl = 15,
	   .wg_len = 0),
	FX("version 6 in an IPv4 ethertype", PASS, PASS_OTHER, .ip_version = 6,
	   INIT),
	FX("header cut at 19 bytes", PASS, PASS_OTHER, .wg_len = 0, .cut = 9),
	FX("tcp to the listen port", PASS, PASS_OTHER, .proto = IPPROTO_TCP,
	   INIT),
	FX("udp to port 53", PASS, PASS_OTHER, .dport = 53, INIT),
	FX("udp to port 51821", PASS, PASS_OTHER, .dport = LISTEN_PORT + 1,
	   INIT),
	FX("total length 1 past the frame", DROP, DROP_MALFORMED,
	   .ip_len_delta = 1, INIT),
	FX("total length 1 short of udp", DROP, DROP_MALFORMED,
	   .ip_len_delta = -1, INIT),
	FX("total length below the header", DROP, DROP_MALFORMED,
	   .ip_len_delta = -170, INIT),
	FX("total length 0", DROP, DROP_MALFORMED, .ip_len_delta = -176, INIT),
	FX("ethernet padding after the packet", PASS, PASS_HANDSHAKE, .pad = 6,
	   INIT),
	FX("padding after known data", PASS, PASS_DATA, .pad = 4,
	   DATA(32, KNOWN_INDEX)),
	FX("ip payload longer than udp", PASS, PASS_HANDSHAKE, .ip_extra = 4,
	   COOKIE),
	FX("1452-byte data message", PASS, PASS_DATA,
	   DATA(FULL_DATA, KNOWN_INDEX)),
	FX("1452-byte unknown index", DROP, DROP_UNKNOWN_INDEX,
	   DATA(FULL_DATA, UNKNOWN_INDEX)),
	FX("known data, counter 2^40 - 1", PASS, PASS_DATA,
	   DATA(64, KNOWN_INDEX), .counter = WGX_COUNTER_LIMIT - 1),
	FX("known data, counter 2^40 (no session reaches it)", DROP,
	   DROP_BAD_COUNTER, DATA(64, KNOWN_INDEX),
	   .counter = WGX_COUNTER_LIMIT),
	FX("known data, counter 2^64 - 1", DROP, DROP_BAD_COUNTER,
	   DATA(FULL_DATA, KNOWN_INDEX), .counter = ~0ULL),
	FX("unknown index, counter 2^64 - 1", DROP, DROP_UNKNOWN_INDEX,
	   DATA(64, UNKNOWN_INDEX), .counter = ~0ULL),
};

static const struct fixture ipv6_fixtures[] = {
	FX("initiation", PASS, PASS_HANDSHAKE, .v6 = true, INIT),
	FX("response", PASS, PASS_HANDSHAKE, .v6 = true, RESP),
	FX("cookie reply", PASS, PASS_HANDSHAKE, .v6 = true, COOKIE),
	FX("known data", PASS, PASS_DATA, .v6 = true, DATA(32, KNOWN_INDEX)),
	FX("known data, counter 2^40", DROP, DROP_BAD_COUNTER, .v6 = true,
	   DATA(32, KNOWN_INDEX), .counter = WGX_COUNTER_LIMIT),
	FX("unknown index", DROP, DROP_UNKNOWN_INDEX, .v6 = true,
	   DATA(32, UNKNOWN_INDEX)),
	FX("1452-byte data message (1500-byte packet)", PASS, PASS_DATA,
	   .v6 = true, DATA(FULL_DATA, KNOWN_INDEX)),
	FX("initiation 149", DROP, DROP_MALFORMED, .v6 = true,
	   WG(WGX_MSG_INITIATION, 149)),
	FX("hop-by-hop header before udp", PASS, PASS_HANDSHAKE, .v6 = true,
	   .ext = { EXT_HOPOPTS }, INIT),
	FX("fragment header, first fragment", PASS, PASS_FRAGMENT, .v6 = true,
	   .ext = { EXT_FRAG }, INIT),
	FX("version 4 in an IPv6 ethertype", PASS, PASS_OTHER, .v6 = true,
	   .ip_version = 4, INIT),
	FX("header cut at 39 bytes", PASS, PASS_OTHER, .v6 = true, .wg_len = 0,
	   .cut = 9),
	FX("udp header cut", PASS, PASS_OTHER, .v6 = true, .wg_len = 0,
	   .cut = 1),
	FX("payload length 1 past the frame", DROP, DROP_MALFORMED, .v6 = true,
	   .ip_len_delta = 1, INIT),
	FX("payload length 1 short of udp", DROP, DROP_MALFORMED, .v6 = true,
	   .ip_len_delta = -1, INIT),
	FX("payload length 0 (jumbogram)", DROP, DROP_MALFORMED, .v6 = true,
	   .ip_len_delta = -156, INIT),
	FX("padding after the packet", PASS, PASS_HANDSHAKE, .v6 = true,
	   .pad = 2, RESP),
	FX("udp to port 53", PASS, PASS_OTHER, .v6 = true, .dport = 53, INIT),
};

/*
 * Fragments. A later one is passed untouched; the first is judged by its
 * WireGuard header (the UDP length is the whole datagram's: 8 + wg_len),
 * and what passes is counted as a fragment whatever it holds.
 */
static const struct fixture fragment_fixtures[] = {
	FX("MF set, known index", PASS, PASS_FRAGMENT, .frag_off = 0x2000,
	   DATA(64, KNOWN_INDEX)),
	FX("MF set, unknown index", DROP, DROP_FRAGMENT, .frag_off = 0x2000,
	   DATA(64, UNKNOWN_INDEX)),
	FX("MF set, known index, counter 2^40", DROP, DROP_FRAGMENT,
	   .frag_off = 0x2000, DATA(64, KNOWN_INDEX),
	   .counter = WGX_COUNTER_LIMIT),
	FX("ipv6 first fragment, known index, counter 2^63", DROP,
	   DROP_FRAGMENT, .v6 = true, .ext = { EXT_FRAG },
	   DATA(64, KNOWN_INDEX), .counter = 1ULL << 63),
	FX("MF set, 1452-byte datagram, unknown index", DROP, DROP_FRAGMENT,
	   .frag_off = 0x2000, DATA(FULL_DATA, UNKNOWN_INDEX)),
	FX("MF set, initiation", PASS, PASS_FRAGMENT, .frag_off = 0x2000, INIT),
	FX("MF set, initiation with a bad mac1 (not checkable)", PASS,
	   PASS_FRAGMENT, .frag_off = 0x2000, INIT, .bad_mac1 = true),
	FX("MF set, initiation from a denied source", DROP, DROP_FRAGMENT,
	   .frag_off = 0x2000, .src = DENIED_SRC, INIT),
	FX("ipv6 first fragment, response from a denied /64", DROP,
	   DROP_FRAGMENT, .v6 = true, .src64 = DENIED64, .ext = { EXT_FRAG },
	   RESP),
	FX("MF set, cookie reply", PASS, PASS_FRAGMENT, .frag_off = 0x2000,
	   COOKIE),
	FX("MF set, initiation 147 (bad size)", DROP, DROP_FRAGMENT,
	   .frag_off = 0x2000, WG(1, 147)),
	FX("MF set, unknown type", DROP, DROP_FRAGMENT, .frag_off = 0x2000,
	   WG(7, 64)),
	FX("MF set, reserved byte set", DROP, DROP_FRAGMENT, .frag_off = 0x2000,
	   WG(0x104, 64), .index = KNOWN_INDEX),
	FX("MF set, udp length 7", DROP, DROP_FRAGMENT, .frag_off = 0x2000,
	   DATA(64, KNOWN_INDEX), .udp_len_delta = -65),
	FX("MF set, header only (too little to judge)", PASS, PASS_FRAGMENT,
	   .frag_off = 0x2000, WG(4, 4)),
	FX("MF set, to another port", PASS, PASS_OTHER, .frag_off = 0x2000,
	   .dport = 53, DATA(64, UNKNOWN_INDEX)),
	FX("MF set, to another host", PASS, PASS_NOT_LOCAL, .frag_off = 0x2000,
	   .not_local = true, DATA(64, UNKNOWN_INDEX)),
	FX("MF set, IP length past the frame", DROP, DROP_MALFORMED,
	   .frag_off = 0x2000, .ip_len_delta = 1, DATA(64, UNKNOWN_INDEX)),
	FX("offset 185", PASS, PASS_FRAGMENT, .frag_off = 185,
	   DATA(64, UNKNOWN_INDEX)),
	FX("MF and offset", PASS, PASS_FRAGMENT, .frag_off = 0x2001, INIT),
	FX("largest offset", PASS, PASS_FRAGMENT, .frag_off = 0x1fff, INIT),
	FX("later fragment of malformed bytes", PASS, PASS_FRAGMENT,
	   .frag_off = 0x2001, WG(7, 3)),
	FX("tcp first fragment", PASS, PASS_OTHER, .frag_off = 0x2000,
	   .proto = IPPROTO_TCP, INIT),
	FX("later fragment to another host", PASS, PASS_FRAGMENT, .frag_off = 8,
	   .not_local = true, INIT),
	FX("DF set is not a fragment", PASS, PASS_HANDSHAKE, .frag_off = 0x4000,
	   INIT),
	FX("reserved flag is not a fragment", DROP, DROP_UNKNOWN_INDEX,
	   .frag_off = 0x8000, DATA(32, UNKNOWN_INDEX)),
	FX("ipv6 first fragment, known index", PASS, PASS_FRAGMENT, .v6 = true,
	   .ext = { EXT_FRAG }, DATA(32, KNOWN_INDEX)),
	FX("ipv6 first fragment, unknown index", DROP, DROP_FRAGMENT,
	   .v6 = true, .ext = { EXT_FRAG }, DATA(32, UNKNOWN_INDEX)),
	FX("ipv6 later fragment", PASS, PASS_FRAGMENT, .v6 = true,
	   .ext = { EXT_FRAG_LATER }, DATA(32, UNKNOWN_INDEX)),
	FX("ipv6 atomic fragment (offset 0, no M): whole", DROP,
	   DROP_UNKNOWN_INDEX, .v6 = true, .ext = { EXT_FRAG_WHOLE },
	   DATA(32, UNKNOWN_INDEX)),
	FX("ipv6 first fragment after hop-by-hop", DROP, DROP_FRAGMENT,
	   .v6 = true, .ext = { EXT_HOPOPTS, EXT_FRAG },
	   DATA(32, UNKNOWN_INDEX)),
};

/* IPv6 extension headers are walked (up to six) so that they hide
 * nothing from the checks; what cannot be walked is passed and counted. */
static const struct fixture ext_fixtures[] = {
	FX("hop-by-hop, unknown index", DROP, DROP_UNKNOWN_INDEX, .v6 = true,
	   .ext = { EXT_HOPOPTS }, DATA(32, UNKNOWN_INDEX)),
	FX("hop-by-hop, known index (passed, never redirected)", PASS,
	   PASS_DATA, .v6 = true, .ext = { EXT_HOPOPTS },
	   DATA(64, KNOWN_INDEX)),
	FX("destination options, malformed", DROP, DROP_MALFORMED, .v6 = true,
	   .ext = { EXT_DEST }, WG(2, 91)),
	FX("24-byte destination options, initiation", PASS, PASS_HANDSHAKE,
	   .v6 = true, .ext = { EXT_DEST_LONG }, INIT),
	FX("routing header, bad mac1", DROP, DROP_BAD_MAC1, .v6 = true,
	   .ext = { EXT_ROUTING }, INIT, .bad_mac1 = true),
	FX("authentication header, unknown index", DROP, DROP_UNKNOWN_INDEX,
	   .v6 = true, .ext = { EXT_AH }, DATA(32, UNKNOWN_INDEX)),
	FX("six headers, unknown index", DROP, DROP_UNKNOWN_INDEX, .v6 = true,
	   .ext = { EXT_HOPOPTS, EXT_DEST, EXT_ROUTING, EXT_AH, EXT_DEST_LONG,
		    EXT_DEST },
	   DATA(32, UNKNOWN_INDEX)),
	FX("seven headers: not walked", PASS, PASS_IPV6_EXT, .v6 = true,
	   .ext = { EXT_HOPOPTS, EXT_DEST, EXT_ROUTING, EXT_AH, EXT_DEST,
		    EXT_DEST, EXT_DEST },
	   DATA(32, UNKNOWN_INDEX)),
	FX("mobility header: not walked", PASS, PASS_IPV6_EXT, .v6 = true,
	   .ext = { EXT_MOBILITY }, DATA(32, UNKNOWN_INDEX)),
	FX("hop-by-hop then mobility: not walked", PASS, PASS_IPV6_EXT,
	   .v6 = true, .ext = { EXT_HOPOPTS, EXT_MOBILITY },
	   DATA(32, UNKNOWN_INDEX)),
	FX("hop-by-hop cut short", PASS, PASS_OTHER, .v6 = true,
	   .ext = { EXT_HOPOPTS }, .wg_len = 0, .cut = 12),
	FX("hop-by-hop to another port", PASS, PASS_OTHER, .v6 = true,
	   .ext = { EXT_HOPOPTS }, .dport = 53, DATA(32, UNKNOWN_INDEX)),
	FX("hop-by-hop to another host", PASS, PASS_NOT_LOCAL, .v6 = true,
	   .ext = { EXT_HOPOPTS }, .not_local = true, DATA(32, UNKNOWN_INDEX)),
	FX("hop-by-hop, payload length 1 short", DROP, DROP_MALFORMED,
	   .v6 = true, .ext = { EXT_HOPOPTS }, .ip_len_delta = -1, INIT),
};

/* mac1 under the key the agent put in the config map. */
static const struct fixture mac1_fixtures[] = {
	FX("initiation, valid mac1", PASS, PASS_HANDSHAKE, INIT),
	FX("initiation, bad mac1", DROP, DROP_BAD_MAC1, INIT, .bad_mac1 = true),
	FX("response, valid mac1", PASS, PASS_HANDSHAKE, RESP),
	FX("response, bad mac1", DROP, DROP_BAD_MAC1, RESP, .bad_mac1 = true),
	FX("ipv6 initiation, bad mac1", DROP, DROP_BAD_MAC1, .v6 = true, INIT,
	   .bad_mac1 = true),
	FX("ipv6 response, two tags, valid mac1", PASS, PASS_HANDSHAKE,
	   .v6 = true, .vlans = 2, RESP),
	FX("initiation with 40 option bytes, bad mac1", DROP, DROP_BAD_MAC1,
	   .ip_opts = 40, INIT, .bad_mac1 = true),
	FX("initiation with padding after it, valid mac1", PASS, PASS_HANDSHAKE,
	   .pad = 6, INIT),
	FX("cookie reply (no mac1)", PASS, PASS_HANDSHAKE, COOKIE),
};

/* Sources the agent denied (fill_maps: IPv4 DENIED_SRC, the IPv6 /64
 * DENIED64). */
static const struct fixture deny_fixtures[] = {
	FX("initiation", DROP, DROP_DENIED, .src = DENIED_SRC, INIT),
	FX("response", DROP, DROP_DENIED, .src = DENIED_SRC, RESP),
	FX("initiation with a bad mac1 (denied first)", DROP, DROP_DENIED,
	   .src = DENIED_SRC, INIT, .bad_mac1 = true),
	FX("cookie reply still passes", PASS, PASS_HANDSHAKE, .src = DENIED_SRC,
	   COOKIE),
	FX("known data still passes", PASS, PASS_DATA, .src = DENIED_SRC,
	   DATA(64, KNOWN_INDEX)),
	FX("ipv6 initiation", DROP, DROP_DENIED, .v6 = true, .src64 = DENIED64,
	   INIT),
	FX("another source", PASS, PASS_HANDSHAKE, .src = DENIED_SRC + 1, INIT),
	FX("ipv6 another host of the same /64", DROP, DROP_DENIED, .v6 = true,
	   .src = 77, .src64 = DENIED64, INIT),
	FX("ipv6 the same host number in another /64", PASS, PASS_HANDSHAKE,
	   .v6 = true, .src64 = DENIED64 + 1, INIT),
};

static const struct fixture udp_fixtures[] = {
	FX("udp length 0", DROP, DROP_MALFORMED, .udp_len_delta = -156, INIT),
	FX("udp length 7", DROP, DROP_MALFORMED, .udp_len_delta = -149, INIT),
	FX("udp length 8, no payload", DROP, DROP_MALFORMED, .wg_len = 0),
	FX("udp length 8 over an initiation", DROP, DROP_MALFORMED,
	   .udp_len_delta = -148, INIT),
	FX("udp length 1 past the frame", DROP, DROP_MALFORMED,
	   .udp_len_delta = 1, INIT),
	FX("udp and ip length 1 past the frame", DROP, DROP_MALFORMED,
	   .udp_len_delta = 1, .ip_len_delta = 1, INIT),
	FX("udp length 65535", DROP, DROP_MALFORMED,
	   .udp_len_delta = 65535 - 156, INIT),
	FX("udp length 1 short: initiation 147", DROP, DROP_MALFORMED,
	   .udp_len_delta = -1, INIT),
	FX("udp length over padding", DROP, DROP_MALFORMED, .udp_len_delta = 4,
	   .pad = 4, INIT),
	FX("udp length short, data still 32", PASS, PASS_DATA,
	   .udp_len_delta = -32, DATA(64, KNOWN_INDEX)),
	FX("ipv6 udp length 1 past the frame", DROP, DROP_MALFORMED, .v6 = true,
	   .udp_len_delta = 1, DATA(32, KNOWN_INDEX)),
	FX("ipv6 udp length 0", DROP, DROP_MALFORMED, .v6 = true,
	   .udp_len_delta = -40, DATA(32, KNOWN_INDEX)),
	FX("udp header cut at 7 bytes", PASS, PASS_OTHER, .wg_len = 0,
	   .cut = 1),
	FX("wireguard header cut", DROP, DROP_MALFORMED, INIT, .cut = 146),
	FX("data message cut after the type", DROP, DROP_MALFORMED,
	   DATA(32, KNOWN_INDEX), .cut = 28),
};

static const struct fixture wg_fixtures[] = {
	FX("initiation 148", PASS, PASS_HANDSHAKE, INIT),
	FX("initiation 147", DROP, DROP_MALFORMED, WG(1, 147)),
	FX("initiation 149", DROP, DROP_MALFORMED, WG(1, 149)),
	FX("initiation 32", DROP, DROP_MALFORMED, WG(1, 32)),
	FX("response 92", PASS, PASS_HANDSHAKE, RESP),
	FX("response 91", DROP, DROP_MALFORMED, WG(2, 91)),
	FX("response 93", DROP, DROP_MALFORMED, WG(2, 93)),
	FX("response 148", DROP, DROP_MALFORMED, WG(2, 148)),
	FX("cookie reply 64", PASS, PASS_HANDSHAKE, COOKIE),
	FX("cookie reply 63", DROP, DROP_MALFORMED, WG(3, 63)),
	FX("cookie reply 65", DROP, DROP_MALFORMED, WG(3, 65)),
	FX("data 32, known", PASS, PASS_DATA, DATA(32, KNOWN_INDEX)),
	FX("data 31, known", DROP, DROP_MALFORMED, DATA(31, KNOWN_INDEX)),
	FX("data 33, known (not a multiple of 16)", PASS, PASS_DATA,
	   DATA(33, KNOWN_INDEX)),
	FX("data 1452, known", PASS, PASS_DATA, DATA(FULL_DATA, KNOWN_INDEX)),
	FX("data 1453, known", PASS, PASS_DATA,
	   DATA(FULL_DATA + 1, KNOWN_INDEX)),
	FX("data 32, unknown", DROP, DROP_UNKNOWN_INDEX,
	   DATA(32, UNKNOWN_INDEX)),
	FX("data 31, unknown", DROP, DROP_MALFORMED, DATA(31, UNKNOWN_INDEX)),
	FX("data 33, unknown", DROP, DROP_UNKNOWN_INDEX,
	   DATA(33, UNKNOWN_INDEX)),
	FX("type 0", DROP, DROP_MALFORMED, WG(0, 148)),
	FX("type 5", DROP, DROP_MALFORMED, WG(5, 64)),
	FX("type 255", DROP, DROP_MALFORMED, WG(255, 92)),
	FX("type word big-endian 1", DROP, DROP_MALFORMED, WG(0x01000000, 148)),
	FX("ipv6 initiation 147", DROP, DROP_MALFORMED, .v6 = true, WG(1, 147)),
	FX("ipv6 response 91", DROP, DROP_MALFORMED, .v6 = true, WG(2, 91)),
	FX("ipv6 response 93", DROP, DROP_MALFORMED, .v6 = true, WG(2, 93)),
	FX("ipv6 cookie reply 63", DROP, DROP_MALFORMED, .v6 = true, WG(3, 63)),
	FX("ipv6 cookie reply 65", DROP, DROP_MALFORMED, .v6 = true, WG(3, 65)),
	FX("ipv6 data 31", DROP, DROP_MALFORMED, .v6 = true,
	   DATA(31, KNOWN_INDEX)),
	FX("ipv6 data 33", PASS, PASS_DATA, .v6 = true, DATA(33, KNOWN_INDEX)),
	FX("ipv6 type 0", DROP, DROP_MALFORMED, .v6 = true, WG(0, 32)),
};

#define RSV(t, len, byte)                                                      \
	FX("type " #t ", reserved byte " #byte " set", DROP, DROP_MALFORMED,   \
	   WG((t) | (0x01u << (8 * (byte))), len), .index = KNOWN_INDEX)

static const struct fixture reserved_fixtures[] = {
	RSV(1, 148, 1),
	RSV(1, 148, 2),
	RSV(1, 148, 3),
	RSV(2, 92, 1),
	RSV(2, 92, 2),
	RSV(2, 92, 3),
	RSV(3, 64, 1),
	RSV(3, 64, 2),
	RSV(3, 64, 3),
	RSV(4, 32, 1),
	RSV(4, 32, 2),
	RSV(4, 32, 3),
	FX("type 4, reserved 0x80 in the top byte", DROP, DROP_MALFORMED,
	   WG(0x80000004, 32), .index = KNOWN_INDEX),
	FX("ipv6 type 1, reserved bytes all ones", DROP, DROP_MALFORMED,
	   .v6 = true, WG(0xffffff01, 148)),
};

static const struct fixture session_fixtures[] = {
	FX("known index", PASS, PASS_DATA, DATA(32, KNOWN_INDEX)),
	FX("unknown index", DROP, DROP_UNKNOWN_INDEX, DATA(32, UNKNOWN_INDEX)),
	FX("known index byte-swapped", DROP, DROP_UNKNOWN_INDEX,
	   DATA(32, 0xdec0ad0b)),
	FX("index 0", DROP, DROP_UNKNOWN_INDEX, DATA(32, 0)),
	FX("known index on ipv6, two tags", PASS, PASS_DATA, .v6 = true,
	   .vlans = 2, DATA(FULL_DATA, KNOWN_INDEX)),
	FX("initiation with the known index as sender", PASS, PASS_HANDSHAKE,
	   INIT, .index = KNOWN_INDEX),
};

/*
 * A published receive horizon (next = 2^30): counters behind the replay
 * window or further ahead than the session can have moved are dropped.
 * The one published 10 s ago allows 10 s x 125 million more.
 */
static const struct fixture horizon_fixtures[] = {
	FX("counter at next", PASS, PASS_DATA, DATA(64, HORIZON_INDEX),
	   .counter = H_NEXT),
	FX("at the window's far end", PASS, PASS_DATA, DATA(64, HORIZON_INDEX),
	   .counter = H_NEXT - 1 - WGX_REPLAY_WINDOW),
	FX("one behind the window", DROP, DROP_BAD_COUNTER,
	   DATA(64, HORIZON_INDEX), .counter = H_NEXT - 2 - WGX_REPLAY_WINDOW),
	FX("counter 0", DROP, DROP_BAD_COUNTER, DATA(64, HORIZON_INDEX),
	   .counter = 0),
	FX("2^20 - 1 ahead", PASS, PASS_DATA, DATA(64, HORIZON_INDEX),
	   .counter = H_NEXT + (1ULL << 20) - 1),
	/* (2^34 takes the allowance over two minutes to reach) */
	FX("2^34 ahead", DROP, DROP_BAD_COUNTER, DATA(64, HORIZON_INDEX),
	   .counter = H_NEXT + (1ULL << 34)),
	FX("ipv6, 2^35 ahead", DROP, DROP_BAD_COUNTER, .v6 = true,
	   DATA(FULL_DATA, HORIZON_INDEX), .counter = H_NEXT + (1ULL << 35)),
	FX("ipv4 options, 2^39 ahead", DROP, DROP_BAD_COUNTER, .ip_opts = 4,
	   DATA(64, HORIZON_INDEX), .counter = H_NEXT + (1ULL << 39)),
	FX("stale: 2^30 ahead, within 10 s x 125 M", PASS, PASS_DATA,
	   DATA(64, STALE_INDEX), .counter = H_NEXT + (1ULL << 30)),
	FX("stale: 2^36 ahead", DROP, DROP_BAD_COUNTER, DATA(64, STALE_INDEX),
	   .counter = H_NEXT + (1ULL << 36)),
	FX("stamped ahead of now: no upper bound", PASS, PASS_DATA,
	   DATA(64, FUTURE_INDEX), .counter = H_NEXT + (1ULL << 36)),
	FX("stamped ahead of now: the window still holds", DROP,
	   DROP_BAD_COUNTER, DATA(64, FUTURE_INDEX), .counter = 5),
	FX("stale: behind the window", DROP, DROP_BAD_COUNTER,
	   DATA(64, STALE_INDEX), .counter = 5),
	FX("none published: counter 0", PASS, PASS_DATA, DATA(64, KNOWN_INDEX),
	   .counter = 0),
	FX("none published: 2^40 - 1", PASS, PASS_DATA, DATA(64, KNOWN_INDEX),
	   .counter = WGX_COUNTER_LIMIT - 1),
};

static const struct fixture not_local_fixtures[] = {
	FX("ipv4 initiation to another host", PASS, PASS_NOT_LOCAL,
	   .not_local = true, INIT),
	FX("ipv4 known data to another host", PASS, PASS_NOT_LOCAL,
	   .not_local = true, DATA(64, KNOWN_INDEX)),
	FX("ipv4 unknown index to another host", PASS, PASS_NOT_LOCAL,
	   .not_local = true, DATA(64, UNKNOWN_INDEX)),
	FX("ipv4 malformed to another host", PASS, PASS_NOT_LOCAL,
	   .not_local = true, WG(9, 3), .udp_len_delta = 100),
	FX("ipv6 initiation to another host", PASS, PASS_NOT_LOCAL, .v6 = true,
	   .not_local = true, INIT),
	FX("ipv6 malformed to another host", PASS, PASS_NOT_LOCAL, .v6 = true,
	   .not_local = true, WG(1, 147)),
	FX("other port, another host", PASS, PASS_OTHER, .not_local = true,
	   .dport = 53, INIT),
};

struct table {
	const char *group;
	const struct fixture *f;
	size_t n;
};

#define TABLE(name, t)                                                         \
	{                                                                      \
		name, t, ARRAY_SIZE(t)                                         \
	}

static const struct table tables[] = {
	TABLE("ethernet and vlan", eth_fixtures),
	TABLE("ipv4", ipv4_fixtures),
	TABLE("ipv6", ipv6_fixtures),
	TABLE("fragments", fragment_fixtures),
	TABLE("ipv6 extension headers", ext_fixtures),
	TABLE("mac1", mac1_fixtures),
	TABLE("denied sources", deny_fixtures),
	TABLE("udp length", udp_fixtures),
	TABLE("wireguard types and sizes", wg_fixtures),
	TABLE("reserved bytes", reserved_fixtures),
	TABLE("sessions", session_fixtures),
	TABLE("receive horizons", horizon_fixtures),
	TABLE("not local", not_local_fixtures),
};

/* ---- groups that change the maps ---- */

static void test_config(void)
{
	uint8_t frame[MAX_FRAME];
	int len = build(&(struct spec){ INIT }, frame);

	if (set_config(0, WGX_XDP_MAC1))
		fail("config: %s", strerror(errno));
	expect("listen port 0 passes an initiation", frame, len, XDP_PASS,
	       ST(PASS_OTHER));
	len = build(&(struct spec){ DATA(32, UNKNOWN_INDEX) }, frame);
	expect("listen port 0 passes an unknown index", frame, len, XDP_PASS,
	       ST(PASS_OTHER));
	len = build(&(struct spec){ .dport = 0xffff, INIT }, frame);
	frame[len - 148 - 8 + 2] = 0; /* UDP port 0 */
	frame[len - 148 - 8 + 3] = 0;
	expect("listen port 0 passes an initiation to udp port 0", frame, len,
	       XDP_PASS, ST(PASS_OTHER));
	/*
	 * With ihl 4 the "UDP header" would start at the destination
	 * address, whose last two bytes (2, 1) then read as port 513.
	 */
	if (set_config(0x0201, WGX_XDP_MAC1))
		fail("config: %s", strerror(errno));
	len = build(&(struct spec){ .ihl = 4, INIT }, frame);
	expect("ihl 4 never parsed as udp", frame, len, XDP_PASS,
	       ST(PASS_OTHER));
	if (set_config(LISTEN_PORT + 1, WGX_XDP_MAC1))
		fail("config: %s", strerror(errno));
	len = build(&(struct spec){ DATA(32, UNKNOWN_INDEX) }, frame);
	expect("another listen port passes ours", frame, len, XDP_PASS,
	       ST(PASS_OTHER));
	len = build(&(struct spec){ .dport = LISTEN_PORT + 1,
				    DATA(32, UNKNOWN_INDEX) },
		    frame);
	expect("another listen port drops its unknown index", frame, len,
	       XDP_DROP, ST(DROP_UNKNOWN_INDEX));
	if (set_config(LISTEN_PORT, WGX_XDP_MAC1))
		fail("config: %s", strerror(errno));
	group_end("config");
}

static void expect_spec(const char *name, const struct spec *s, int verdict,
			int stat)
{
	uint8_t frame[MAX_FRAME];
	int len = build(s, frame);

	expect(name, frame, len, verdict, stat);
}

/* The mac1 check follows the config: on and off, and a new key. */
static void test_mac1_config(void)
{
	struct spec init = { INIT }, resp = { RESP };
	uint8_t other_key[32];

	if (set_config(LISTEN_PORT, 0))
		fail("config: %s", strerror(errno));
	init.bad_mac1 = true;
	expect_spec("mac1 check off: bad mac1 passes", &init, XDP_PASS,
		    ST(PASS_HANDSHAKE));
	if (set_config(LISTEN_PORT, WGX_XDP_MAC1))
		fail("config: %s", strerror(errno));
	expect_spec("mac1 check on: bad mac1 dropped", &init, XDP_DROP,
		    ST(DROP_BAD_MAC1));

	/* Another key (our private key changed): the old mac1 is wrong. */
	memcpy(other_key, mac1_key, sizeof(other_key));
	other_key[31] ^= 0x80;
	if (set_config_key(LISTEN_PORT, WGX_XDP_MAC1, other_key))
		fail("config: %s", strerror(errno));
	init.bad_mac1 = false;
	expect_spec("another key: initiation dropped", &init, XDP_DROP,
		    ST(DROP_BAD_MAC1));
	expect_spec("another key: response dropped", &resp, XDP_DROP,
		    ST(DROP_BAD_MAC1));
	if (set_config(LISTEN_PORT, WGX_XDP_MAC1))
		fail("config: %s", strerror(errno));
	expect_spec("our key again: initiation passes", &init, XDP_PASS,
		    ST(PASS_HANDSHAKE));
	group_end("mac1 follows the config");
}

/*
 * Every single bit of an initiation and a response flipped in turn: a
 * flip in the covered bytes or in mac1 must be caught, one in mac2 must
 * not matter (mac2 is the agent's business).
 */
static void test_mac1_bits(void)
{
	static const struct spec specs[2] = { { INIT }, { RESP } };
	uint8_t frame[MAX_FRAME];
	int i, k, len, hdr, wg_len, cover, want;

	for (k = 0; k < 2; k++) {
		len = build(&specs[k], frame);
		wg_len = specs[k].wg_len;
		hdr = len - wg_len;
		cover = wg_len - 2 * WGX_MAC_LEN;
		for (i = 4 * 8; i < wg_len * 8; i++) {
			char name[64];

			frame[hdr + i / 8] ^= 1 << (i % 8);
			want = i / 8 < cover + WGX_MAC_LEN ? ST(DROP_BAD_MAC1)
							   : ST(PASS_HANDSHAKE);
			snprintf(name, sizeof(name), "%s bit %d flipped",
				 k ? "response" : "initiation", i);
			expect(name, frame, len, stat_verdict(want), want);
			frame[hdr + i / 8] ^= 1 << (i % 8);
		}
	}
	group_end("mac1: every bit of a message flipped");
}

/* Deny entries end by their time; a new entry starts at once. */
static void test_deny_time(void)
{
	struct spec s = { .src = 30, INIT };
	struct spec s6 = { .v6 = true, .src64 = 30, INIT };

	expect_spec("not denied", &s, XDP_PASS, ST(PASS_HANDSHAKE));
	if (deny(&s, 2000) || deny(&s6, 2000))
		fail("deny: %s", strerror(errno));
	expect_spec("denied for 2 s", &s, XDP_DROP, ST(DROP_DENIED));
	expect_spec("ipv6 denied for 2 s", &s6, XDP_DROP, ST(DROP_DENIED));
	if (deny(&s, -1) || deny(&s6, -1))
		fail("deny: %s", strerror(errno));
	expect_spec("deny ended 1 ms ago", &s, XDP_PASS, ST(PASS_HANDSHAKE));
	expect_spec("ipv6 deny ended 1 ms ago", &s6, XDP_PASS,
		    ST(PASS_HANDSHAKE));
	group_end("deny entries end by their time");
}

/*
 * An AF_XDP socket on queue 0 of the loopback device of a new network
 * namespace, copy mode: enough for the XSKMAP to hold it. Nothing is
 * ever received on it; test_run does not perform the redirect.
 */
static int xsk_open(void **umem, size_t umem_len)
{
	struct xdp_umem_reg reg = { .len = umem_len, .chunk_size = 2048 };
	struct sockaddr_xdp sxdp = { .sxdp_family = AF_XDP,
				     .sxdp_queue_id = 0,
				     .sxdp_flags = XDP_COPY };
	int fd, ring = 64;

	if (unshare(CLONE_NEWNET))
		return -errno;
	sxdp.sxdp_ifindex = if_nametoindex("lo");
	*umem = mmap(NULL, umem_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*umem == MAP_FAILED)
		return -errno;
	reg.addr = (uintptr_t)*umem;
	fd = socket(AF_XDP, SOCK_RAW, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring,
		       sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring)) ||
	    bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void test_redirect(void)
{
	const size_t umem_len = 64 * 2048;
	int xsks = bpf_map__fd(skel->maps.wgx_xsks);
	struct spec s = { DATA(64, KNOWN_INDEX) };
	uint8_t frame[MAX_FRAME];
	int len = build(&s, frame), fd;
	void *umem = MAP_FAILED;
	__u32 queue = 0;

	expect("no socket on the queue: pass", frame, len, XDP_PASS,
	       ST(PASS_DATA));
	fd = xsk_open(&umem, umem_len);
	if (fd < 0) {
		printf("SKIP xsk redirect: couldn't open an AF_XDP socket: "
		       "%s\n",
		       strerror(-fd));
		skipped++;
		group_end("xsk redirect: no socket on the queue");
		goto out;
	}
	if (bpf_map_update_elem(xsks, &queue, &fd, BPF_ANY)) {
		fail("xsks: couldn't add the socket: %s", strerror(errno));
	} else {
		expect("socket on queue 0: redirect", frame, len, XDP_REDIRECT,
		       ST(REDIRECT_XSK));
		s.index = UNKNOWN_INDEX;
		len = build(&s, frame);
		expect("socket on queue 0, unknown index: drop", frame, len,
		       XDP_DROP, ST(DROP_UNKNOWN_INDEX));
		len = build(&(struct spec){ INIT }, frame);
		expect("socket on queue 0, initiation: pass", frame, len,
		       XDP_PASS, ST(PASS_HANDSHAKE));
		if (bpf_map_delete_elem(xsks, &queue))
			fail("xsks: couldn't remove the socket: %s",
			     strerror(errno));
		len = build(&(struct spec){ DATA(64, KNOWN_INDEX) }, frame);
		expect("socket removed: pass again", frame, len, XDP_PASS,
		       ST(PASS_DATA));
	}
	close(fd);
	group_end("xsk redirect");
out:
	if (umem != MAP_FAILED)
		munmap(umem, umem_len);
}

/* ---- truncations and random frames ---- */

static bool accepts_wireguard(int stat)
{
	return stat == ST(PASS_HANDSHAKE) || stat == ST(PASS_DATA) ||
	       stat == ST(REDIRECT_XSK) || stat == ST(DROP_UNKNOWN_INDEX) ||
	       stat == ST(DROP_BAD_MAC1) || stat == ST(DROP_DENIED) ||
	       stat == ST(DROP_FRAGMENT);
}

/* Verdicts seen while stats are not read per frame, checked at the end
 * against what the counters say. */
struct tally {
	__u64 verdict[XDP_REDIRECT + 1];
	__u64 bytes;
	struct wgx_xdp_counter before[WGX_XDP_STAT_COUNT];
};

static void tally_start(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	if (read_stats(t->before))
		fail("stats: %s", strerror(errno));
}

/* Runs frame: never ABORTED or TX, never a failed run. */
static int tally_run(struct tally *t, const char *what, const uint8_t *frame,
		     int len)
{
	int v;

	if (run(frame, len, &v)) {
		fail("%s: test run failed (%d bytes): %s", what, len,
		     strerror(errno));
		return -1;
	}
	if (v != XDP_PASS && v != XDP_DROP && v != XDP_REDIRECT) {
		fail("%s: verdict %s (%d bytes)", what, verdict_name(v), len);
		return -1;
	}
	t->verdict[v]++;
	t->bytes += len;
	return v;
}

/* Every frame counted exactly once, under a stat of its verdict. */
static void tally_check(struct tally *t, const char *what)
{
	struct wgx_xdp_counter after[WGX_XDP_STAT_COUNT];
	__u64 got[XDP_REDIRECT + 1] = { 0 }, bytes = 0;
	int id, v;

	if (read_stats(after)) {
		fail("stats: %s", strerror(errno));
		return;
	}
	for (id = 0; id < WGX_XDP_STAT_COUNT; id++) {
		__u64 dp = after[id].packets - t->before[id].packets;

		/* ABORTED counted at all shows up as a mismatch below. */
		v = stat_verdict(id);
		got[v] += dp;
		bytes += after[id].bytes - t->before[id].bytes;
	}
	for (v = 0; v <= XDP_REDIRECT; v++)
		if (got[v] != t->verdict[v])
			fail("%s: %llu %s verdicts, counters say %llu", what,
			     (unsigned long long)t->verdict[v], verdict_name(v),
			     (unsigned long long)got[v]);
	if (bytes != t->bytes)
		fail("%s: %llu bytes run, counters say %llu", what,
		     (unsigned long long)t->bytes, (unsigned long long)bytes);
}

/* Reads the one stat that moved in the last run (-1 if not one). */
static int last_stat(struct wgx_xdp_counter *prev)
{
	struct wgx_xdp_counter now[WGX_XDP_STAT_COUNT];
	int id, moved = -1;

	if (read_stats(now))
		return -1;
	for (id = 0; id < WGX_XDP_STAT_COUNT; id++) {
		if (now[id].packets == prev[id].packets)
			continue;
		if (moved >= 0 || now[id].packets - prev[id].packets != 1)
			return -1;
		moved = id;
	}
	memcpy(prev, now, sizeof(now));
	return moved;
}

/*
 * Every truncation from 14 bytes to one short of full. The length fields
 * still describe the whole frame, so a cut that reaches into the UDP
 * datagram must never be accepted as WireGuard.
 */
static void test_truncations(void)
{
	struct wgx_xdp_counter prev[WGX_XDP_STAT_COUNT];
	uint8_t frame[MAX_FRAME];
	struct tally t;
	size_t i, j;
	int len, cut, v, stat, slack;

	tally_start(&t);
	if (read_stats(prev))
		fail("stats: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(tables); i++) {
		for (j = 0; j < tables[i].n; j++) {
			const struct fixture *fx = &tables[i].f[j];

			len = build(&fx->s, frame);
			/* Bytes that may go without breaking a length. */
			slack = fx->s.pad + (fx->s.ip_len_delta < 0
						     ? -fx->s.ip_len_delta
						     : 0);
			for (cut = 1; len - cut >= MIN_FRAME; cut++) {
				v = tally_run(&t, fx->name, frame, len - cut);
				stat = last_stat(prev);
				if (v < 0)
					continue;
				if (stat < 0 || stat_verdict(stat) != v)
					fail("%s cut by %d: counted wrong",
					     fx->name, cut);
				else if (cut > slack && accepts_wireguard(stat))
					fail("%s cut by %d: %s", fx->name, cut,
					     stat_names[stat]);
			}
		}
	}
	tally_check(&t, "truncations");
	group_end("every truncation of every fixture");
}

/* Random bytes, with the fields the classifier looks at often set to
 * the values that take it deeper. */
static int random_frame(uint8_t *f)
{
	int len = MIN_FRAME + rng_below(1600), i, l3 = 14;

	for (i = 0; i < len; i++)
		f[i] = rng();
	if (rng_below(2))
		return len;
	if (rng_below(4) == 0) {
		put16(f + 12, 0x8100);
		put16(f + 16, rng_below(2) ? 0x8100 : 0x0800);
		l3 = 18;
	}
	if (len < l3 + 48)
		return len;
	if (rng_below(2)) {
		put16(f + l3 - 2, 0x0800);
		f[l3] = 0x40 | (f[l3] & 0x0f);
		if (rng_below(2))
			f[l3] = 0x45;
		if (rng_below(2))
			put16(f + l3 + 6, 0); /* not a fragment */
		f[l3 + 9] = IPPROTO_UDP;
		if (rng_below(4))
			memcpy(f + l3 + 16, local4, 4);
		if (rng_below(4))
			put16(f + l3 + 22, LISTEN_PORT);
		if (rng_below(2))
			put16(f + l3 + 2, len - l3);
	} else if (len >= l3 + 48 + 8) {
		put16(f + l3 - 2, 0x86dd);
		f[l3] = 0x60;
		f[l3 + 6] = IPPROTO_UDP;
		if (rng_below(4))
			memcpy(f + l3 + 24, local6, 16);
		if (rng_below(4))
			put16(f + l3 + 42, LISTEN_PORT);
		if (rng_below(2))
			put16(f + l3 + 4, len - l3 - 40);
	}
	return len;
}

static void test_random_frames(void)
{
	uint8_t frame[MAX_FRAME];
	struct tally t;
	long i;
	int len;

	tally_start(&t);
	for (i = 0; i < (long)(random_total * 4 / 10); i++) {
		len = random_frame(frame);
		tally_run(&t, "random frame", frame, len);
	}
	tally_check(&t, "random frames");
	group_end("random frames");
}

/* Valid fixtures with a few bytes changed, cut or extended. */
static void test_random_mutations(void)
{
	uint8_t frame[MAX_FRAME] = { 0 };
	struct tally t;
	int m, len, n, pos;
	long i;

	tally_start(&t);
	for (i = 0; i < (long)(random_total * 3 / 10); i++) {
		const struct table *tb = &tables[rng_below(ARRAY_SIZE(tables))];
		const struct fixture *fx = &tb->f[rng_below(tb->n)];

		len = build(&fx->s, frame);
		n = 1 + rng_below(4);
		for (m = 0; m < n; m++) {
			pos = rng_below(len);
			switch (rng_below(4)) {
			case 0:
				frame[pos] = rng();
				break;
			case 1:
				frame[pos] ^= 1 << rng_below(8);
				break;
			case 2: /* the headers are where it matters */
				pos = rng_below(len < 90 ? len : 90);
				frame[pos] = rng();
				break;
			default:
				len = MIN_FRAME +
				      rng_below(len + 64 - MIN_FRAME);
				break;
			}
		}
		tally_run(&t, fx->name, frame, len);
	}
	tally_check(&t, "random mutations");
	group_end("random mutations of the fixtures");
}

/* The extension header chain of s as the program sees it: how many it
 * walks and what it finds at the end. */
struct chain {
	bool too_long; /* more than six walkable headers */
	bool other;    /* ends at a header it does not walk */
	bool later;    /* a fragment header with an offset */
	bool first;    /* a fragment header with M set, offset 0 */
	bool any;      /* at least one header walked */
};

static struct chain chain_of(const struct spec *s)
{
	struct chain c = { 0 };
	int i, n = ext_count(s);

	for (i = 0; i < n; i++) {
		if (s->ext[i] == EXT_MOBILITY) {
			c.other = true;
			return c;
		}
		if (i == 6) {
			c.too_long = true;
			return c;
		}
		if (s->ext[i] == EXT_FRAG_LATER) {
			c.later = true;
			return c;
		}
		if (s->ext[i] == EXT_FRAG)
			c.first = true;
		c.any = true;
	}
	return c;
}

static bool is_denied(const struct spec *s)
{
	return s->v6 ? s->src64 == DENIED64 : s->src == DENIED_SRC;
}

/* What the classifier must say about the first fragment built from s. */
static int first_fragment_stat(const struct spec *s, bool known, int ip_hdr,
			       int tot, int frame_ip)
{
	/* The counter is judged when the fragment holds it. */
	bool bad_counter = s->counter >= WGX_COUNTER_LIMIT &&
			   ip_hdr + 8 + 16 <= frame_ip - s->cut;
	uint32_t w = s->word;
	int ulen = 8 + s->wg_len + s->udp_len_delta, mlen;

	if (ip_hdr + 16 > tot)
		return ST(PASS_FRAGMENT);
	if (ulen < 8)
		return ST(DROP_FRAGMENT);
	mlen = ulen - 8;
	if ((w == 1 && mlen == 148) || (w == 2 && mlen == 92))
		return is_denied(s) ? ST(DROP_FRAGMENT) : ST(PASS_FRAGMENT);
	if (w == 3 && mlen == 64)
		return ST(PASS_FRAGMENT);
	if (w == 4 && mlen >= 32)
		return known && !bad_counter ? ST(PASS_FRAGMENT)
					     : ST(DROP_FRAGMENT);
	return ST(DROP_FRAGMENT);
}

/* What the classifier must say about a frame built from s; an oracle
 * from the description, not from the bytes. */
static int spec_stat(const struct spec *s, bool known)
{
	struct chain c = chain_of(s);
	int ext = 0, i, n = ext_count(s);
	int hdr, udp = 8 + s->wg_len, tot, frame_ip;
	int ulen = udp + s->udp_len_delta, mlen = ulen - 8;
	bool denied = is_denied(s);
	bool first = c.first || (!s->v6 && (s->frag_off & 0x2000));
	uint32_t w = s->word;

	for (i = 0; i < n; i++)
		ext += ext_len(s->ext[i]);
	hdr = s->v6 ? 40 + ext : 20 + s->ip_opts;
	tot = hdr + udp + s->ip_extra + s->ip_len_delta;
	frame_ip = hdr + udp + s->ip_extra + s->pad;
	if (!s->v6 && (s->frag_off & 0x1fff))
		return ST(PASS_FRAGMENT);
	if (s->v6 && c.later)
		return ST(PASS_FRAGMENT);
	if (s->v6 && (c.too_long || c.other))
		return ST(PASS_IPV6_EXT);
	if (s->dport && s->dport != LISTEN_PORT)
		return ST(PASS_OTHER);
	if (s->not_local)
		return ST(PASS_NOT_LOCAL);
	if (tot > frame_ip)
		return ST(DROP_MALFORMED);
	if (first)
		return first_fragment_stat(s, known, hdr, tot, frame_ip);
	if (ulen < 8 || hdr + ulen > tot || mlen < 32)
		return ST(DROP_MALFORMED);
	if ((w == 1 && mlen == 148) || (w == 2 && mlen == 92)) {
		if (denied)
			return ST(DROP_DENIED);
		/* The mac1 put_mac1() wrote covers wg_len bytes; a UDP length
		 * that differs moves what the program reads. */
		if (s->bad_mac1 || s->wg_len != mlen)
			return ST(DROP_BAD_MAC1);
		return ST(PASS_HANDSHAKE);
	}
	if (w == 3 && mlen == 64)
		return ST(PASS_HANDSHAKE);
	if (w == 4 && !known)
		return ST(DROP_UNKNOWN_INDEX);
	if (w == 4)
		return s->counter >= WGX_COUNTER_LIMIT ? ST(DROP_BAD_COUNTER)
						       : ST(PASS_DATA);
	return ST(DROP_MALFORMED);
}

static void random_ext(struct spec *s)
{
	static const uint8_t walkable[] = { EXT_HOPOPTS, EXT_DEST,
					    EXT_DEST_LONG, EXT_ROUTING,
					    EXT_AH };
	int i, n = 1 + rng_below(MAX_EXT);

	for (i = 0; i < n; i++) {
		switch (rng_below(12)) {
		case 0:
			s->ext[i] = EXT_FRAG;
			break;
		case 1:
			s->ext[i] = EXT_FRAG_LATER;
			break;
		case 2:
			s->ext[i] = EXT_MOBILITY;
			break;
		default:
			s->ext[i] = walkable[rng_below(sizeof(walkable))];
			break;
		}
	}
}

static void random_spec(struct spec *s)
{
	static const int sizes[] = { 0, 148, 92, 64 };

	memset(s, 0, sizeof(*s));
	s->v6 = rng_below(2);
	s->vlans = rng_below(3);
	if (!s->v6)
		s->ip_opts = 4 * rng_below(11);
	if (!s->v6 && rng_below(20) == 0)
		s->frag_off = 1 + rng_below(0x3fff);
	else if (!s->v6 && rng_below(20) == 0)
		s->frag_off = 0x2000; /* a first fragment */
	if (s->v6 && rng_below(8) == 0)
		random_ext(s);
	s->not_local = rng_below(5) == 0;
	if (rng_below(5) == 0)
		s->dport = rng_below(2) ? 53 : 1 + rng_below(65535);
	if (rng_below(10) == 0)
		s->src = DENIED_SRC;
	if (s->v6 && rng_below(10) == 0)
		s->src64 = DENIED64;
	s->word = 1 + rng_below(4);
	if (rng_below(10) == 0)
		s->word = (uint32_t)rng();
	else if (rng_below(10) == 0)
		s->word |= (1 + rng_below(255)) << (8 * (1 + rng_below(3)));
	if (s->word >= 1 && s->word <= 3 && rng_below(10) < 7)
		s->wg_len = sizes[s->word];
	else if (s->word == 4 && rng_below(10) < 7)
		s->wg_len = 32 + rng_below(FULL_DATA - 32 + 1);
	else
		s->wg_len = rng_below(1500);
	s->bad_mac1 = rng_below(4) == 0;
	s->index = rng_below(2) ? KNOWN_INDEX : (uint32_t)rng();
	/* Half below the limit, half random (nearly all above it). */
	s->counter = rng_below(2) ? rng() % WGX_COUNTER_LIMIT : rng();
	if (rng_below(5) == 0)
		s->udp_len_delta = (int)rng_below(21) - 10;
	if (rng_below(10) == 0)
		s->ip_len_delta = (int)rng_below(21) - 10;
	if (rng_below(10) == 0)
		s->pad = 1 + rng_below(16);
	if (rng_below(10) == 0)
		s->ip_extra = 1 + rng_below(16);
	/* A (maybe) first fragment holds at least the 8-byte prefix. */
	if ((s->frag_off || s->ext[0]) && s->wg_len < 8)
		s->wg_len = 8 + rng_below(200);
	/* Keep the length fields from going below zero. */
	if (8 + s->wg_len + s->udp_len_delta < 0)
		s->udp_len_delta = 0;
	if (8 + s->wg_len + s->ip_extra + s->ip_len_delta < 0)
		s->ip_len_delta = 0;
}

static void test_random_specs(void)
{
	uint8_t frame[MAX_FRAME];
	struct wgx_xdp_counter prev[WGX_XDP_STAT_COUNT];
	unsigned long i, n = random_total - random_total * 4 / 10 -
			     random_total * 3 / 10;
	struct spec s;
	struct tally t;
	int len, v, stat, want;

	tally_start(&t);
	if (read_stats(prev))
		fail("stats: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		random_spec(&s);
		len = build(&s, frame);
		want = spec_stat(&s, s.index == KNOWN_INDEX);
		v = tally_run(&t, "random spec", frame, len);
		stat = last_stat(prev);
		if (v >= 0 && (stat != want || v != stat_verdict(want)))
			fail("random spec %lu: v6 %d vlans %d opts %d frag %#x "
			     "ext %d,%d,%d port %u nonlocal %d src %d/%d "
			     "word %#x len %d mac1 %s udp%+d ip%+d pad %d "
			     "extra %d: %s, want %s",
			     i, s.v6, s.vlans, s.ip_opts, s.frag_off, s.ext[0],
			     s.ext[1], s.ext[2], s.dport, s.not_local, s.src,
			     s.src64, s.word, s.wg_len,
			     s.bad_mac1 ? "bad" : "good", s.udp_len_delta,
			     s.ip_len_delta, s.pad, s.ip_extra,
			     stat >= 0 ? stat_names[stat] : "?",
			     stat_names[want]);
	}
	tally_check(&t, "random specs");
	group_end("random well-formed and near-miss messages");
}

/* ---- cost ---- */

/* The program's own time per frame over many runs (the kernel's clock
 * around the repeated runs, no syscall per frame). */
static double ns_per_frame(const struct spec *s)
{
	uint8_t frame[MAX_FRAME];
	struct bpf_test_run_opts opts = { .sz = sizeof(opts),
					  .data_in = frame,
					  .repeat = 200000 };

	opts.data_size_in = build(s, frame);
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -1;
	return opts.duration;
}

static void print_costs(void)
{
	static const struct {
		const char *what;
		struct spec s;
		uint16_t flags;
	} kinds[] = {
		{ "initiation, mac1 checked", { INIT }, WGX_XDP_MAC1 },
		{ "initiation, bad mac1 dropped",
		  { INIT, .bad_mac1 = true },
		  WGX_XDP_MAC1 },
		{ "initiation, mac1 check off", { INIT }, 0 },
		{ "response, mac1 checked", { RESP }, WGX_XDP_MAC1 },
		{ "1452-byte data, known index",
		  { DATA(FULL_DATA, KNOWN_INDEX) },
		  WGX_XDP_MAC1 },
		{ "data, unknown index",
		  { DATA(32, UNKNOWN_INDEX) },
		  WGX_XDP_MAC1 },
		{ "initiation, denied source",
		  { INIT, .src = DENIED_SRC },
		  WGX_XDP_MAC1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (set_config(LISTEN_PORT, kinds[i].flags))
			return;
		printf("# cost: %-30s %6.0f ns per frame\n", kinds[i].what,
		       ns_per_frame(&kinds[i].s));
	}
	set_config(LISTEN_PORT, WGX_XDP_MAC1);
}

/* ---- main ---- */

/* libbpf speaks only with -v; failures are reported here anyway. */
static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static void print_verifier_stats(void)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &info_len))
		return;
	printf("# %s: %u instructions processed by the verifier, "
	       "%u bytes translated, %u jited\n",
	       info.name, info.verified_insns, info.xlated_prog_len,
	       info.jited_prog_len);
}

int main(int argc, char **argv)
{
	size_t i;
	int err;

	for (i = 1; i < (size_t)argc; i++) {
		char *end;

		if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--frames") &&
			   i + 1 < (size_t)argc) {
			random_total = strtoul(argv[++i], &end, 10);
			if (*end || random_total < 10 ||
			    random_total > MAX_RANDOM_TOTAL) {
				fprintf(stderr, "bpf_test: --frames 10..%d\n",
					MAX_RANDOM_TOTAL);
				return 2;
			}
		} else if (!strcmp(argv[i], "--seed") && i + 1 < (size_t)argc) {
			rng_state = strtoull(argv[++i], &end, 0);
			if (*end || !rng_state) {
				fprintf(stderr, "bpf_test: --seed: a non-zero "
						"number\n");
				return 2;
			}
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet_print);
	seed = rng_state;

	skel = wgxdp__open_and_load();
	if (!skel) {
		err = -errno;
		if (geteuid() != 0 || err == -EPERM) {
			printf("SKIP bpf: couldn't load the XDP program "
			       "(needs root): %s\n",
			       strerror(-err));
			printf("0 passed, 0 failed, 1 skipped\n");
			return 0;
		}
		printf("FAIL bpf: couldn't load the XDP program: %s\n",
		       strerror(-err));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.wgx_xdp);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus > 0)
		percpu = calloc(ncpus, sizeof(*percpu));
	print_verifier_stats();
	if (!percpu || fill_maps()) {
		printf("FAIL bpf: couldn't fill the maps: %s\n",
		       strerror(errno));
		failed++;
		goto out;
	}

	for (i = 0; i < ARRAY_SIZE(tables); i++)
		run_table(tables[i].group, tables[i].f, tables[i].n);
	test_config();
	test_mac1_config();
	test_mac1_bits();
	test_deny_time();
	test_truncations();
	test_random_frames();
	test_random_mutations();
	test_random_specs();
	printf("# %lu random frames, seed %#llx\n", random_total,
	       (unsigned long long)seed);
	print_costs();
	/* Last: it moves the process into a new network namespace. */
	test_redirect();
out:
	wgxdp__destroy(skel);
	free(percpu);
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed,
		       skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
