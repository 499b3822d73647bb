// SPDX-License-Identifier: MIT
/*
 * Fixture tests of the XDP classifier (bpf/wgxdp.bpf.c), run through
 * BPF_PROG_TEST_RUN: each fixture is {name, frame, verdict, stat id}; the
 * frame is built from a short description so the table reads as what it
 * tests. Every run also checks that exactly its stat moved, by one packet
 * and the frame's length in bytes. Then every truncation of every fixture
 * and 100,000 random frames (fixed seed) must come back PASS, DROP or
 * REDIRECT, counted once.
 *
 * Needs root to load the program; without it prints SKIP. The XSK
 * redirect group opens an AF_XDP socket on the loopback device of a
 * private network namespace; it sends nothing.
 *
 * Usage: bpf_test [BUILD_DIR] [-v]. Prints PASS/FAIL per group and
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

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "wgx_bpf.h"
#include "wgx_wire.h"
#include "wgxdp.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	LISTEN_PORT = 51820,
	KNOWN_INDEX = 0x0badc0de,
	UNKNOWN_INDEX = 0x12345678,
	MAX_FRAME = 2048,
	MIN_FRAME = 14,	  /* ETH_HLEN: the smallest frame test_run takes */
	FULL_DATA = 1452, /* a data message carrying a 1420-byte packet */
	RANDOM_FRAMES = 40000,
	RANDOM_MUTATIONS = 30000,
	RANDOM_SPECS = 30000,
};

enum ext_hdr {
	EXT_NONE = 0,
	EXT_HOPOPTS, /* IPv6 hop-by-hop options header before UDP */
	EXT_FRAG,    /* IPv6 fragment header before UDP */
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
	uint8_t ext;	   /* enum ext_hdr */
	uint8_t proto;	   /* non-zero: L4 protocol instead of UDP */
	bool not_local;	   /* to another host's address */
	uint8_t src;	   /* which source address */
	uint16_t dport;	   /* non-zero: instead of the listen port */
	uint32_t word;	   /* first WireGuard word, little-endian */
	int wg_len;	   /* UDP payload bytes */
	uint32_t index;	   /* receiver index at offset 4 */
	int udp_len_delta; /* added to the UDP length field */
	int ip_len_delta;  /* added to the IP length field */
	int ip_extra;	   /* IP payload bytes after the UDP datagram */
	int pad;	   /* frame bytes after the IP packet */
	int cut;	   /* bytes cut off the end */
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

static const uint8_t local4[4] = { 192, 0, 2, 1 };
static const uint8_t other4[4] = { 192, 0, 2, 99 };
static const uint8_t local6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t other6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x99 };

static struct wgxdp *skel;
static int prog_fd;
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
	case ST(DROP_HANDSHAKE_BUDGET):
		return XDP_DROP;
	case ST(ABORTED):
		return XDP_ABORTED;
	default:
		return XDP_PASS;
	}
}

/* ---- frames ---- */

static uint64_t rng_state = 0x7767786470ULL; /* fixed: runs repeat */

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
		addr[15] = 10 + s->src;
	} else {
		memcpy(addr, base4, 4);
		addr[3] = 10 + s->src;
	}
}

/* Ethernet, VLAN tags, IP and UDP headers; returns the header length. */
static int build_headers(const struct spec *s, uint8_t *f, int udp_total,
			 int ip_payload)
{
	static const uint16_t tags[3] = { 0x88a8, 0x8100, 0x8100 };
	int n = 0, i, ihl_bytes, ext = s->ext != EXT_NONE ? 8 : 0;
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	uint8_t *ip;

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
		ip[6] = s->ext == EXT_HOPOPTS ? 0
			: s->ext == EXT_FRAG  ? 44
					      : proto;
		ip[7] = 64;
		source_addr(s, ip + 8);
		memcpy(ip + 24, s->not_local ? other6 : local6, 16);
		n += 40;
		if (ext) {
			memset(f + n, 0, 8);
			f[n] = proto;
			if (s->ext == EXT_HOPOPTS) {
				f[n + 2] = 1; /* PadN over the other 4 */
				f[n + 3] = 4;
			} else {
				put16(f + n + 2, 1); /* more fragments */
			}
			n += 8;
		}
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

static int set_config(uint16_t port, uint16_t flags, uint32_t rate,
		      uint32_t burst)
{
	struct wgx_xdp_config cfg = { .listen_port = port,
				      .flags = flags,
				      .hs_rate = rate,
				      .hs_burst = burst };
	__u32 zero = 0;

	return bpf_map_update_elem(bpf_map__fd(skel->maps.wgx_config), &zero,
				   &cfg, BPF_ANY);
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
	if (set_config(LISTEN_PORT, 0, 1, 5) || add_local(4, local4) ||
	    add_local(6, local6) || add_session(KNOWN_INDEX))
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
};

static const struct fixture ipv6_fixtures[] = {
	FX("initiation", PASS, PASS_HANDSHAKE, .v6 = true, INIT),
	FX("response", PASS, PASS_HANDSHAKE, .v6 = true, RESP),
	FX("cookie reply", PASS, PASS_HANDSHAKE, .v6 = true, COOKIE),
	FX("known data", PASS, PASS_DATA, .v6 = true, DATA(32, KNOWN_INDEX)),
	FX("unknown index", DROP, DROP_UNKNOWN_INDEX, .v6 = true,
	   DATA(32, UNKNOWN_INDEX)),
	FX("1452-byte data message (1500-byte packet)", PASS, PASS_DATA,
	   .v6 = true, DATA(FULL_DATA, KNOWN_INDEX)),
	FX("initiation 149", DROP, DROP_MALFORMED, .v6 = true,
	   WG(WGX_MSG_INITIATION, 149)),
	FX("hop-by-hop header before udp", PASS, PASS_OTHER, .v6 = true,
	   .ext = EXT_HOPOPTS, INIT),
	FX("fragment header", PASS, PASS_FRAGMENT, .v6 = true, .ext = EXT_FRAG,
	   INIT),
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

static const struct fixture fragment_fixtures[] = {
	FX("MF set", PASS, PASS_FRAGMENT, .frag_off = 0x2000,
	   DATA(64, KNOWN_INDEX)),
	FX("offset 185", PASS, PASS_FRAGMENT, .frag_off = 185,
	   DATA(64, KNOWN_INDEX)),
	FX("MF and offset", PASS, PASS_FRAGMENT, .frag_off = 0x2001, INIT),
	FX("largest offset", PASS, PASS_FRAGMENT, .frag_off = 0x1fff, INIT),
	FX("MF set on a malformed message", PASS, PASS_FRAGMENT,
	   .frag_off = 0x2000, WG(7, 3)),
	FX("MF set, unknown index", PASS, PASS_FRAGMENT, .frag_off = 0x2000,
	   DATA(64, UNKNOWN_INDEX)),
	FX("tcp fragment", PASS, PASS_FRAGMENT, .frag_off = 0x2000,
	   .proto = IPPROTO_TCP, INIT),
	FX("fragment to another host", PASS, PASS_FRAGMENT, .frag_off = 8,
	   .not_local = true, INIT),
	FX("DF set is not a fragment", PASS, PASS_HANDSHAKE, .frag_off = 0x4000,
	   INIT),
	FX("reserved flag is not a fragment", DROP, DROP_UNKNOWN_INDEX,
	   .frag_off = 0x8000, DATA(32, UNKNOWN_INDEX)),
	FX("ipv6 fragment header", PASS, PASS_FRAGMENT, .v6 = true,
	   .ext = EXT_FRAG, DATA(32, KNOWN_INDEX)),
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
	TABLE("udp length", udp_fixtures),
	TABLE("wireguard types and sizes", wg_fixtures),
	TABLE("reserved bytes", reserved_fixtures),
	TABLE("sessions", session_fixtures),
	TABLE("not local", not_local_fixtures),
};

/* ---- groups that change the maps ---- */

static void test_config(void)
{
	uint8_t frame[MAX_FRAME];
	int len = build(&(struct spec){ INIT }, frame);

	if (set_config(0, 0, 1, 5))
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
	if (set_config(0x0201, 0, 1, 5))
		fail("config: %s", strerror(errno));
	len = build(&(struct spec){ .ihl = 4, INIT }, frame);
	expect("ihl 4 never parsed as udp", frame, len, XDP_PASS,
	       ST(PASS_OTHER));
	if (set_config(LISTEN_PORT + 1, 0, 1, 5))
		fail("config: %s", strerror(errno));
	len = build(&(struct spec){ DATA(32, UNKNOWN_INDEX) }, frame);
	expect("another listen port passes ours", frame, len, XDP_PASS,
	       ST(PASS_OTHER));
	len = build(&(struct spec){ .dport = LISTEN_PORT + 1,
				    DATA(32, UNKNOWN_INDEX) },
		    frame);
	expect("another listen port drops its unknown index", frame, len,
	       XDP_DROP, ST(DROP_UNKNOWN_INDEX));
	if (set_config(LISTEN_PORT, 0, 1, 5))
		fail("config: %s", strerror(errno));
	group_end("config");
}

static void expect_initiation(const char *name, bool v6, uint8_t src,
			      int verdict, int stat)
{
	struct spec s = { .v6 = v6, .src = src, INIT };
	uint8_t frame[MAX_FRAME];
	int len = build(&s, frame);

	expect(name, frame, len, verdict, stat);
}

/* Credit left in the bucket of IPv4 source src; -1 when there is none. */
static long long bucket_tokens(uint8_t src)
{
	struct spec s = { .src = src };
	struct wgx_addr_key key = { .family = 4 };
	struct wgx_hs_budget b;

	source_addr(&s, key.addr);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.wgx_hs_budget), &key,
				&b))
		return -1;
	return (long long)b.tokens_ns;
}

static void test_budget(void)
{
	struct spec resp = { .src = 1, RESP };
	uint8_t frame[MAX_FRAME];
	char name[80];
	int i, len;

	/* 1 per second, burst 5: the test's runs are microseconds apart. */
	if (set_config(LISTEN_PORT, WGX_XDP_UNDER_LOAD, 1, 5))
		fail("config: %s", strerror(errno));
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "source 1 initiation %d of 5",
			 i + 1);
		expect_initiation(name, false, 1, XDP_PASS, ST(PASS_HANDSHAKE));
	}
	expect_initiation("source 1 initiation 6: over budget", false, 1,
			  XDP_DROP, ST(DROP_HANDSHAKE_BUDGET));
	expect_initiation("source 1 initiation 7: over budget", false, 1,
			  XDP_DROP, ST(DROP_HANDSHAKE_BUDGET));
	if (bucket_tokens(1) < 0 || bucket_tokens(1) >= 1000000000)
		fail("source 1: bucket holds %lld ns, want under one token",
		     bucket_tokens(1));
	len = build(&resp, frame);
	expect("source 1 response is not budgeted", frame, len, XDP_PASS,
	       ST(PASS_HANDSHAKE));
	expect_initiation("source 2 still passes", false, 2, XDP_PASS,
			  ST(PASS_HANDSHAKE));
	for (i = 0; i < 5; i++)
		expect_initiation("ipv6 source 1 within budget", true, 1,
				  XDP_PASS, ST(PASS_HANDSHAKE));
	expect_initiation("ipv6 source 1 over budget", true, 1, XDP_DROP,
			  ST(DROP_HANDSHAKE_BUDGET));

	/* Not under load: no budget at all. */
	if (set_config(LISTEN_PORT, 0, 1, 5))
		fail("config: %s", strerror(errno));
	expect_initiation("source 1 passes when not under load", false, 1,
			  XDP_PASS, ST(PASS_HANDSHAKE));

	/* 100 per second, burst 1: one passes, then one per 10 ms. */
	if (set_config(LISTEN_PORT, WGX_XDP_UNDER_LOAD, 100, 1))
		fail("config: %s", strerror(errno));
	expect_initiation("rate 100: first", false, 3, XDP_PASS,
			  ST(PASS_HANDSHAKE));
	expect_initiation("rate 100: second at once", false, 3, XDP_DROP,
			  ST(DROP_HANDSHAKE_BUDGET));
	usleep(30 * 1000);
	expect_initiation("rate 100: after 30 ms, refilled", false, 3, XDP_PASS,
			  ST(PASS_HANDSHAKE));
	expect_initiation("rate 100: and empty again", false, 3, XDP_DROP,
			  ST(DROP_HANDSHAKE_BUDGET));

	/* Rate 0 never refills; burst 0 allows nothing. */
	if (set_config(LISTEN_PORT, WGX_XDP_UNDER_LOAD, 0, 2))
		fail("config: %s", strerror(errno));
	expect_initiation("rate 0: first", false, 4, XDP_PASS,
			  ST(PASS_HANDSHAKE));
	expect_initiation("rate 0: second", false, 4, XDP_PASS,
			  ST(PASS_HANDSHAKE));
	usleep(20 * 1000);
	expect_initiation("rate 0: third, no refill", false, 4, XDP_DROP,
			  ST(DROP_HANDSHAKE_BUDGET));
	/* 20 ms is far from a whole token: read the bucket itself. */
	if (bucket_tokens(4) != 0)
		fail("rate 0: the bucket refilled to %lld ns",
		     (long long)bucket_tokens(4));
	if (set_config(LISTEN_PORT, WGX_XDP_UNDER_LOAD, 10, 0))
		fail("config: %s", strerror(errno));
	expect_initiation("burst 0: nothing passes", false, 5, XDP_DROP,
			  ST(DROP_HANDSHAKE_BUDGET));

	if (set_config(LISTEN_PORT, 0, 1, 5))
		fail("config: %s", strerror(errno));
	group_end("handshake budget under load");
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
	       stat == ST(DROP_HANDSHAKE_BUDGET);
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
	int i, len;

	tally_start(&t);
	for (i = 0; i < RANDOM_FRAMES; i++) {
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
	int i, m, len, n, pos;

	tally_start(&t);
	for (i = 0; i < RANDOM_MUTATIONS; i++) {
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

/* What the classifier must say about a frame built from s; an oracle
 * from the description, not from the bytes. */
static int spec_stat(const struct spec *s, bool known)
{
	int hdr = s->v6 ? 40 : 20 + s->ip_opts;
	int udp = 8 + s->wg_len;
	int tot = hdr + udp + s->ip_extra + s->ip_len_delta;
	int frame_ip = hdr + udp + s->ip_extra + s->pad;
	int ulen = udp + s->udp_len_delta, mlen = ulen - 8;
	uint32_t w = s->word;

	if (s->frag_off & 0x3fff)
		return ST(PASS_FRAGMENT);
	if (s->dport && s->dport != LISTEN_PORT)
		return ST(PASS_OTHER);
	if (s->not_local)
		return ST(PASS_NOT_LOCAL);
	if (tot > frame_ip || ulen < 8 || hdr + ulen > tot || mlen < 32)
		return ST(DROP_MALFORMED);
	if ((w == 1 && mlen == 148) || (w == 2 && mlen == 92) ||
	    (w == 3 && mlen == 64))
		return ST(PASS_HANDSHAKE);
	if (w == 4)
		return known ? ST(PASS_DATA) : ST(DROP_UNKNOWN_INDEX);
	return ST(DROP_MALFORMED);
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
	s->not_local = rng_below(5) == 0;
	if (rng_below(5) == 0)
		s->dport = rng_below(2) ? 53 : 1 + rng_below(65535);
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
	s->index = rng_below(2) ? KNOWN_INDEX : (uint32_t)rng();
	if (rng_below(5) == 0)
		s->udp_len_delta = (int)rng_below(21) - 10;
	if (rng_below(10) == 0)
		s->ip_len_delta = (int)rng_below(21) - 10;
	if (rng_below(10) == 0)
		s->pad = 1 + rng_below(16);
	if (rng_below(10) == 0)
		s->ip_extra = 1 + rng_below(16);
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
	struct spec s;
	struct tally t;
	int i, len, v, stat, want;

	tally_start(&t);
	if (read_stats(prev))
		fail("stats: %s", strerror(errno));
	for (i = 0; i < RANDOM_SPECS; i++) {
		random_spec(&s);
		len = build(&s, frame);
		want = spec_stat(&s, s.index == KNOWN_INDEX);
		v = tally_run(&t, "random spec", frame, len);
		stat = last_stat(prev);
		if (v >= 0 && (stat != want || v != stat_verdict(want)))
			fail("random spec %d: v6 %d vlans %d opts %d frag %#x "
			     "port %u nonlocal %d word %#x len %d udp%+d "
			     "ip%+d pad %d extra %d: %s, want %s",
			     i, s.v6, s.vlans, s.ip_opts, s.frag_off, s.dport,
			     s.not_local, s.word, s.wg_len, s.udp_len_delta,
			     s.ip_len_delta, s.pad, s.ip_extra,
			     stat >= 0 ? stat_names[stat] : "?",
			     stat_names[want]);
	}
	tally_check(&t, "random specs");
	group_end("random well-formed and near-miss messages");
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

	for (i = 1; i < (size_t)argc; i++)
		if (!strcmp(argv[i], "-v"))
			verbose = true;
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(quiet_print);

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
	test_budget();
	test_truncations();
	test_random_frames();
	test_random_mutations();
	test_random_specs();
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
