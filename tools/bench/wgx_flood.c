// SPDX-License-Identifier: MIT
/*
 * wgx_flood: blasts WireGuard-shaped UDP datagrams at one address, for the
 * XDP tests (tests/netns/t_xdp.sh) and the flood benchmark
 * (tools/bench/flood). Run it inside a network namespace the caller made
 * (`ip netns exec NS build/bench/wgx_flood ...`); it refuses to run in
 * any namespace but one of /run/netns/ unless told otherwise.
 *
 *   wgx_flood [--kind KIND] [--count N] [--duration S] [--rate PPS]
 *             [--sources N] [--seed N] [--pubkey KEY] [--index N]
 *             [--spoof PREFIX/LEN] [--allow-any-netns] ADDR PORT
 *
 *   unknown-index  data messages (type 4), 32..1452 bytes, random receiver
 *                  index and content (the default)
 *   malformed      wrong sizes for types 1..4, non-zero reserved bytes,
 *                  unknown types
 *   initiation     148-byte handshake initiations, random body (so a
 *                  garbage mac1), from --sources (32) source ports
 *   initiation-mac1  the same with a valid mac1 for --pubkey (the
 *                  responder's public key, base64): what only someone who
 *                  knows that key can send; each costs the responder a
 *                  Diffie-Hellman unless it answers with a cookie. 4096
 *                  distinct messages, sent round-robin
 *   initiation-mac2  initiation-mac1 from one source port until a cookie
 *                  reply comes back, then the same messages with a valid
 *                  mac2 for that cookie: a flooder that proves its address
 *                  (the responder should rate-limit it, then deny it in
 *                  XDP). Gives up when no cookie comes within 10 s
 *   bad-tag        data messages to the live receiver index --index N (as
 *                  tests/netns/wgx_rxidx prints it), random counter and
 *                  content: a decryption each unless the receiver drops
 *                  counters no session reaches (wgxdp: 2^40 and above)
 *   bad-tag-low    the same with counters below 2^32, as a live session
 *                  could carry: a decryption each, whatever the receiver
 *
 * --spoof PREFIX/LEN sends from forged source addresses, a random one of
 * PREFIX/LEN for each datagram (a /32 or /128 forges one address, e.g. a
 * peer's), through a raw socket; the source port is random too. Answers
 * go to the forged addresses, never to us.
 *
 * At least one of --count (at most 100,000,000) and --duration (at most
 * 600 s) bounds the run; it ends at whichever comes first. Without --rate
 * it sends as fast as sendmmsg() lets it. Every socket is connect()ed to
 * ADDR:PORT (the raw one of --spoof only ever sends there), so nothing
 * can go anywhere else. SIGTERM or SIGINT end the run early, report
 * included. Prints one line:
 *   "sent N datagrams, B bytes in T s: R pkt/s, M Mbit/s (E errors)"
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/key.h"
#include "wgx_wire.h"

enum {
	MAX_COUNT = 100000000,
	MAX_SECONDS = 600,
	MAX_SOURCES = 256,
	BATCH = 64,
	POOL = 4096, /* pre-built datagrams, reused round-robin */
	MAX_PAYLOAD = 1452,
	MIN_DATA = 32, /* header + empty-payload tag */
	LEN_INITIATION = 148,
	LEN_RESPONSE = 92,
	LEN_COOKIE = 64,
	MAC_LEN = 16,
	HELP = 1,     /* parse_args: --help was printed */
	HDR_MAX = 48, /* IPv6 + UDP headers of a spoofed datagram */
};

enum kind {
	KIND_UNKNOWN_INDEX,
	KIND_MALFORMED,
	KIND_INITIATION,
	KIND_INITIATION_MAC1,
	KIND_INITIATION_MAC2,
	KIND_BAD_TAG,
	KIND_BAD_TAG_LOW,
};

/* Forged sources: family and the prefix to draw them from. */
struct spoof {
	int family; /* 0: no spoofing */
	uint8_t prefix[16];
	unsigned int len; /* prefix length in bits */
};

struct opts {
	enum kind kind;
	long count;    /* 0: unbounded by count */
	double secs;   /* 0: unbounded by time */
	double rate;   /* datagrams per second, 0: as fast as possible */
	int sources;   /* sockets (source ports) */
	uint64_t seed; /* 0: from getrandom() */
	bool allow_any_netns;
	bool has_pubkey;
	uint8_t pubkey[32]; /* the responder's, for mac1 */
	uint32_t index;	    /* bad-tag: the receiver index */
	bool has_index;
	struct spoof spoof;
	const char *addr;
	const char *port;
};

struct pool {
	uint8_t buf[POOL][MAX_PAYLOAD];
	size_t len[POOL];
	uint32_t sum[POOL]; /* one's complement sum of the payload */
};

/* The destination, resolved once. */
struct dest {
	struct sockaddr_storage sa;
	socklen_t len;
};

static uint64_t rng_state;
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* xorshift64*: fast and good enough for garbage payloads. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* A length in lo..hi that is not bad. */
static size_t len_except(uint32_t lo, uint32_t hi, size_t bad)
{
	size_t len;

	do
		len = rnd_range(lo, hi);
	while (len == bad);
	return len;
}

/*
 * Malformed variant i: every one fails the XDP program's header check
 * (type word with zero reserved bytes, exact handshake sizes, data at
 * least 32 bytes).
 */
static size_t make_malformed(uint8_t *p, unsigned int i)
{
	static const uint8_t unknown[] = { 0, 5, 6, 0x7f, 0x80, 0xff };
	size_t len;

	switch (i % 7) {
	case 0: /* data shorter than header + tag */
		len = rnd_range(0, MIN_DATA - 1);
		if (len >= 4)
			put_le32(p, 4);
		return len;
	case 1:
		len = len_except(MIN_DATA, MAX_PAYLOAD, LEN_INITIATION);
		put_le32(p, 1);
		return len;
	case 2:
		len = len_except(MIN_DATA, MAX_PAYLOAD, LEN_RESPONSE);
		put_le32(p, 2);
		return len;
	case 3:
		len = len_except(MIN_DATA, MAX_PAYLOAD, LEN_COOKIE);
		put_le32(p, 3);
		return len;
	case 4: /* data with a reserved byte set */
		put_le32(p, 4 | (rnd_range(1, 255) << (8 * rnd_range(1, 3))));
		return rnd_range(MIN_DATA, MAX_PAYLOAD);
	case 5: /* initiation of the right size, reserved byte set */
		put_le32(p, 1 | (rnd_range(1, 255) << (8 * rnd_range(1, 3))));
		return LEN_INITIATION;
	default:
		put_le32(p, unknown[rnd() % sizeof(unknown)]);
		return rnd_range(MIN_DATA, MAX_PAYLOAD);
	}
}

/* The 16-bit one's complement sum of len bytes (RFC 1071), unfolded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An initiation with a random body and a valid mac1 for the responder
 * whose mac1 key is given (cookie.c: MAC(HASH("mac1----" || pub), msg up
 * to mac1)); mac2 zero, as a sender without a cookie sends it. */
static void make_initiation_mac1(uint8_t *p, const uint8_t mac1_key[32])
{
	size_t cover = LEN_INITIATION - 2 * MAC_LEN;

	put_le32(p, 1);
	wgx_crypto_mac(p + cover, mac1_key, 32, p, cover);
	memset(p + cover + MAC_LEN, 0, MAC_LEN);
}

static void pool_build(struct pool *pl, const struct opts *o)
{
	uint8_t mac1_key[32];

	if (o->kind == KIND_INITIATION_MAC1 || o->kind == KIND_INITIATION_MAC2)
		wgx_crypto_hash(mac1_key, "mac1----", 8, o->pubkey, 32);
	for (unsigned int i = 0; i < POOL; i++) {
		uint8_t *p = pl->buf[i];

		fill_random(p, MAX_PAYLOAD);
		switch (o->kind) {
		case KIND_UNKNOWN_INDEX:
			put_le32(p, 4);
			pl->len[i] = rnd_range(MIN_DATA, MAX_PAYLOAD);
			break;
		case KIND_MALFORMED:
			pl->len[i] = make_malformed(p, i);
			break;
		case KIND_INITIATION:
			put_le32(p, 1);
			pl->len[i] = LEN_INITIATION;
			break;
		case KIND_INITIATION_MAC1:
		case KIND_INITIATION_MAC2:
			make_initiation_mac1(p, mac1_key);
			pl->len[i] = LEN_INITIATION;
			break;
		case KIND_BAD_TAG:
		case KIND_BAD_TAG_LOW:
			put_le32(p, 4);
			put_le32(p + 4, o->index);
			/* refresh() rewrites the low half of the counter. */
			if (o->kind == KIND_BAD_TAG_LOW)
				put_le32(p + 12, 0);
			pl->len[i] = rnd_range(MIN_DATA, MAX_PAYLOAD);
			break;
		}
		pl->sum[i] = csum_add(0, p, pl->len[i]);
	}
}

static int usage(FILE *f)
{
	fputs("Usage: wgx_flood [--kind unknown-index|malformed|initiation|"
	      "initiation-mac1|bad-tag|bad-tag-low]\n"
	      "         [--count N] [--duration S] [--rate PPS] [--sources N]\n"
	      "         [--seed N] [--pubkey KEY] [--index N] "
	      "[--spoof PREFIX/LEN]\n"
	      "         [--allow-any-netns] ADDR PORT\n"
	      "At least one of --count (<= 100000000) and --duration "
	      "(<= 600 s).\n"
	      "initiation-mac1 needs --pubkey (base64), bad-tag and "
	      "bad-tag-low --index.\n",
	      f);
	return f == stdout ? 0 : 2;
}

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "wgx_flood: bad %s '%s'\n", what, arg);
	return 2;
}

static int parse_kind(const char *s, enum kind *k)
{
	if (!strcmp(s, "unknown-index"))
		*k = KIND_UNKNOWN_INDEX;
	else if (!strcmp(s, "malformed"))
		*k = KIND_MALFORMED;
	else if (!strcmp(s, "initiation"))
		*k = KIND_INITIATION;
	else if (!strcmp(s, "initiation-mac1"))
		*k = KIND_INITIATION_MAC1;
	else if (!strcmp(s, "initiation-mac2"))
		*k = KIND_INITIATION_MAC2;
	else if (!strcmp(s, "bad-tag"))
		*k = KIND_BAD_TAG;
	else if (!strcmp(s, "bad-tag-low"))
		*k = KIND_BAD_TAG_LOW;
	else
		return -EINVAL;
	return 0;
}

/* PREFIX/LEN, IPv4 or IPv6; the length may be left out (one address). */
static int parse_spoof(const char *s, struct spoof *sp)
{
	char buf[64], *slash, *end;
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(sp, 0, sizeof(*sp));
	if (inet_pton(AF_INET, buf, sp->prefix) == 1)
		sp->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, sp->prefix) == 1)
		sp->family = AF_INET6;
	else
		return -EINVAL;
	sp->len = sp->family == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len > sp->len)
			return -EINVAL;
		sp->len = (unsigned int)len;
	}
	return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "sources", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "allow-any-netns", no_argument, NULL, 'I' },
		{ "pubkey", required_argument, NULL, 'P' },
		{ "index", required_argument, NULL, 'x' },
		{ "spoof", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	*o = (struct opts){ .kind = KIND_UNKNOWN_INDEX, .sources = 32 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (parse_kind(optarg, &o->kind))
				return bad("kind", optarg);
			break;
		case 'c':
			if (parse_num(optarg, 1, MAX_COUNT, &v))
				return bad("count", optarg);
			o->count = (long)v;
			break;
		case 'd':
			if (parse_num(optarg, 0.001, MAX_SECONDS, &o->secs))
				return bad("duration", optarg);
			break;
		case 'r':
			if (parse_num(optarg, 1, 1e9, &o->rate))
				return bad("rate", optarg);
			break;
		case 's':
			if (parse_num(optarg, 1, MAX_SOURCES, &v))
				return bad("sources", optarg);
			o->sources = (int)v;
			break;
		case 'S':
			if (parse_num(optarg, 1, 1.8e19, &v))
				return bad("seed", optarg);
			o->seed = (uint64_t)v;
			break;
		case 'I':
			o->allow_any_netns = true;
			break;
		case 'P':
			if (!wgx_key_from_base64(o->pubkey, optarg))
				return bad("public key", optarg);
			o->has_pubkey = true;
			break;
		case 'x':
			if (parse_num(optarg, 0, 4294967295.0, &v))
				return bad("index", optarg);
			o->index = (uint32_t)v;
			o->has_index = true;
			break;
		case 'F':
			if (parse_spoof(optarg, &o->spoof))
				return bad("spoof prefix", optarg);
			break;
		case 'h':
			usage(stdout);
			return HELP;
		default:
			return usage(stderr);
		}
	}
	if (argc - optind != 2)
		return usage(stderr);
	if (!o->count && !o->secs) {
		fputs("wgx_flood: give --count or --duration\n", stderr);
		return 2;
	}
	if ((o->kind == KIND_INITIATION_MAC1 ||
	     o->kind == KIND_INITIATION_MAC2) &&
	    !o->has_pubkey) {
		fputs("wgx_flood: initiation-mac1 and -mac2 need --pubkey\n",
		      stderr);
		return 2;
	}
	if (o->kind == KIND_INITIATION_MAC2 && o->spoof.family) {
		fputs("wgx_flood: initiation-mac2 cannot --spoof: the cookie "
		      "comes back to the real source\n",
		      stderr);
		return 2;
	}
	if ((o->kind == KIND_BAD_TAG || o->kind == KIND_BAD_TAG_LOW) &&
	    !o->has_index) {
		fputs("wgx_flood: bad-tag and bad-tag-low need --index\n",
		      stderr);
		return 2;
	}
	o->addr = argv[optind];
	o->port = argv[optind + 1];
	return 0;
}

/*
 * Only inside a named namespace (one of /run/netns/, which `ip netns add`
 * makes): a flood belongs in a test's namespace, never on a real network.
 */
static int check_netns(bool allow)
{
	struct stat self, st;
	struct dirent *de;
	bool named = false;
	char path[300];
	DIR *d;

	if (allow)
		return 0;
	if (stat("/proc/self/ns/net", &self))
		return -errno;
	d = opendir("/run/netns");
	while (d && !named && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		named = de->d_name[0] != '.' && !stat(path, &st) &&
			st.st_ino == self.st_ino && st.st_dev == self.st_dev;
	}
	if (d)
		closedir(d);
	if (named)
		return 0;
	fputs("wgx_flood: refusing to run outside a named network namespace "
	      "(use ip netns exec NS, or --allow-any-netns)\n",
	      stderr);
	return -EPERM;
}

static int resolve(const struct opts *o, struct dest *d)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	int err = getaddrinfo(o->addr, o->port, &hints, &ai);

	if (err) {
		fprintf(stderr, "wgx_flood: bad address %s port %s: %s\n",
			o->addr, o->port, gai_strerror(err));
		return -EINVAL;
	}
	memcpy(&d->sa, ai->ai_addr, ai->ai_addrlen);
	d->len = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (o->spoof.family && o->spoof.family != d->sa.ss_family) {
		fputs("wgx_flood: --spoof and ADDR are not the same family\n",
		      stderr);
		return -EINVAL;
	}
	return 0;
}

/* Handshake kinds come from many source ports, as a real flooder's;
 * but a cookie is only good for the one it was sent to. */
static bool many_sources(enum kind k)
{
	return k == KIND_INITIATION || k == KIND_INITIATION_MAC1;
}

/* One connected socket per source port; or one raw socket to forge
 * sources. */
static int open_sockets(const struct opts *o, const struct dest *d, int *fds)
{
	int n = many_sources(o->kind) ? o->sources : 1;
	int sz = 4 << 20;

	if (o->spoof.family) {
		/* IPPROTO_RAW: we write the IP header (IP_HDRINCL). */
		fds[0] = socket(d->sa.ss_family, SOCK_RAW | SOCK_CLOEXEC,
				IPPROTO_RAW);
		if (fds[0] < 0) {
			perror("wgx_flood: raw socket (--spoof needs root)");
			return -errno;
		}
		setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		fds[i] = socket(d->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    connect(fds[i], (const struct sockaddr *)&d->sa, d->len)) {
			perror("wgx_flood: socket/connect");
			return -errno;
		}
		setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	return n;
}

/* A random address of the spoofed prefix. */
static void spoof_addr(const struct spoof *sp, uint8_t *addr)
{
	unsigned int bytes = sp->family == AF_INET ? 4 : 16;

	for (unsigned int i = 0; i < bytes; i++) {
		unsigned int keep = sp->len > 8 * i ? sp->len - 8 * i : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);

		addr[i] = (uint8_t)((sp->prefix[i] & mask) |
				    ((uint8_t)rnd() & (uint8_t)~mask));
	}
}

/*
 * IP and UDP headers from a forged source for payload slot of the pool;
 * returns their length. IPv4: the kernel fills in the IP checksum and id
 * (IP_HDRINCL), and a zero UDP checksum means none. IPv6 needs the UDP
 * checksum: the payload's sum is in the pool.
 */
static size_t spoof_header(uint8_t *h, const struct opts *o,
			   const struct dest *d, const struct pool *pl,
			   unsigned int slot)
{
	size_t len = pl->len[slot], ulen = sizeof(struct udphdr) + len;
	uint16_t sport = (uint16_t)rnd_range(1024, 65535);
	struct udphdr *udp;
	uint32_t sum;

	if (o->spoof.family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&d->sa;
		struct iphdr *ip = (void *)h;

		memset(ip, 0, sizeof(*ip));
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons((uint16_t)(sizeof(*ip) + ulen));
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		spoof_addr(&o->spoof, (uint8_t *)&ip->saddr);
		ip->daddr = in->sin_addr.s_addr;
		udp = (void *)(ip + 1);
		udp->source = htons(sport);
		udp->dest = in->sin_port;
		udp->len = htons((uint16_t)ulen);
		udp->check = 0;
		return sizeof(*ip) + sizeof(*udp);
	}
	const struct sockaddr_in6 *in6 = (const void *)&d->sa;
	struct ip6_hdr *ip6 = (void *)h;

	memset(ip6, 0, sizeof(*ip6));
	ip6->ip6_flow = htonl(6u << 28);
	ip6->ip6_plen = htons((uint16_t)ulen);
	ip6->ip6_nxt = IPPROTO_UDP;
	ip6->ip6_hlim = 64;
	spoof_addr(&o->spoof, ip6->ip6_src.s6_addr);
	ip6->ip6_dst = in6->sin6_addr;
	udp = (void *)(ip6 + 1);
	udp->source = htons(sport);
	udp->dest = in6->sin6_port;
	udp->len = htons((uint16_t)ulen);
	udp->check = 0;
	/* pseudo-header, UDP header, payload (RFC 8200 section 8.1) */
	sum = csum_add(pl->sum[slot], ip6->ip6_src.s6_addr, 32);
	sum += (uint32_t)ulen + IPPROTO_UDP;
	sum = csum_add(sum, (const uint8_t *)udp, sizeof(*udp));
	udp->check = htons(csum_fold(sum));
	if (!udp->check)
		udp->check = 0xffff;
	return sizeof(*ip6) + sizeof(*udp);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t,
			       .tv_nsec =
				       (long)((t - (double)(time_t)t) * 1e9) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

struct totals {
	long sent;
	long bytes;
	long errors;
};

/* Where a batch goes and what it is made of. */
struct batch {
	struct mmsghdr m[BATCH];
	struct iovec iov[2 * BATCH];
	uint8_t hdr[BATCH][HDR_MAX];
	struct sockaddr_storage raw_dest; /* spoofing: the port zeroed */
	socklen_t raw_len;
};

/* A fresh field in each datagram: the receiver index for unknown-index
 * floods, the counter for bad tags. Messages with a mac1 stay as made. */
static void refresh(const struct opts *o, struct pool *pl, unsigned int slot)
{
	uint8_t *p = pl->buf[slot];
	size_t off;

	switch (o->kind) {
	case KIND_UNKNOWN_INDEX:
	case KIND_INITIATION:
		off = 4;
		break;
	case KIND_BAD_TAG:
	case KIND_BAD_TAG_LOW:
		off = 8;
		break;
	default:
		return;
	}
	/* The payload's unfolded sum holds the old 16-bit words: swap them
	 * for the new ones (the field is at an even offset). */
	pl->sum[slot] -= csum_add(0, p + off, 4);
	put_le32(p + off, (uint32_t)rnd());
	pl->sum[slot] += csum_add(0, p + off, 4);
}

/* Fill a batch of n datagrams from the pool. */
static void prepare(struct pool *pl, const struct opts *o, const struct dest *d,
		    long seq, struct batch *b, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned int slot = (unsigned int)((seq + i) % POOL);
		struct msghdr *mh = &b->m[i].msg_hdr;
		int k = 0;

		refresh(o, pl, slot);
		memset(mh, 0, sizeof(*mh));
		if (o->spoof.family) {
			b->iov[2 * i].iov_base = b->hdr[i];
			b->iov[2 * i].iov_len =
				spoof_header(b->hdr[i], o, d, pl, slot);
			mh->msg_name = &b->raw_dest;
			mh->msg_namelen = b->raw_len;
			k = 1;
		}
		b->iov[2 * i + k].iov_base = pl->buf[slot];
		b->iov[2 * i + k].iov_len = pl->len[slot];
		mh->msg_iov = &b->iov[2 * i];
		mh->msg_iovlen = (size_t)k + 1;
	}
}

/* Send one batch; datagrams the kernel refused are counted as errors. */
static int send_batch(int fd, struct mmsghdr *m, int n, struct totals *t)
{
	int done = 0;

	while (done < n) {
		int r = sendmmsg(fd, m + done, (unsigned int)(n - done), 0);

		if (r < 0) {
			/* ICMP errors surface on connected sockets; buffer
			 * pressure too: count the datagram and go on. */
			if (errno == ECONNREFUSED || errno == ENOBUFS ||
			    errno == EAGAIN || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH) {
				t->errors++;
				done++;
				continue;
			}
			perror("wgx_flood: sendmmsg");
			return -errno;
		}
		for (int i = done; i < done + r; i++) {
			const struct msghdr *mh = &m[i].msg_hdr;

			/* the payload: the last piece */
			t->bytes +=
				(long)mh->msg_iov[mh->msg_iovlen - 1].iov_len;
		}
		t->sent += r;
		done += r;
	}
	return 0;
}

static int run(const struct opts *o, struct pool *pl, const struct dest *d,
	       const int *fds, int nfds, struct totals *t)
{
	static struct batch b;
	double start = mono_s(), end = start + o->secs;
	long seq = 0;
	int batch = BATCH;

	/* Paced runs send small batches so the rate holds at short scales. */
	if (o->rate && o->rate / 1000 < BATCH)
		batch = o->rate / 1000 < 1 ? 1 : (int)(o->rate / 1000);
	/* A raw IPv6 socket reads a non-zero port as the protocol. */
	b.raw_dest = d->sa;
	b.raw_len = d->len;
	if (d->sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&b.raw_dest)->sin6_port = 0;
	else
		((struct sockaddr_in *)&b.raw_dest)->sin_port = 0;
	for (int f = 0;; f = (f + 1) % nfds) {
		int n = batch, err;

		if (o->count && seq + n > o->count)
			n = (int)(o->count - seq);
		if (n <= 0 || (o->secs && mono_s() >= end) || stopping)
			break;
		if (o->rate)
			sleep_until(start + (double)seq / o->rate);
		prepare(pl, o, d, seq, &b, n);
		err = send_batch(fds[f], b.m, n, t);
		if (err)
			return err;
		seq += n;
	}
	return 0;
}

/*
 * A cookie reply answering pool message i: the cookie, sealed under
 * HASH("cookie--" || responder public key) with that message's mac1 as
 * associated data (cookie.c). Then every message gets the mac2 for it.
 */
static bool use_cookie_reply(const struct opts *o, struct pool *pl,
			     const struct wgx_msg_cookie_reply *r)
{
	size_t mac1_at = LEN_INITIATION - 2 * MAC_LEN;
	uint8_t key[32], cookie[MAC_LEN];
	bool ok = false;

	wgx_crypto_hash(key, "cookie--", 8, o->pubkey, 32);
	for (unsigned int i = 0; i < POOL && !ok; i++) {
		uint8_t *p = pl->buf[i];

		if (memcmp(p + 4, &r->receiver_index, 4))
			continue;
		ok = wgx_crypto_xaead_open(cookie, r->encrypted_cookie,
					   sizeof(r->encrypted_cookie),
					   p + mac1_at, MAC_LEN, r->nonce, key);
	}
	if (!ok)
		return false;
	for (unsigned int i = 0; i < POOL; i++)
		wgx_crypto_mac(pl->buf[i] + mac1_at + MAC_LEN, cookie, MAC_LEN,
			       pl->buf[i], mac1_at + MAC_LEN);
	return true;
}

/* Send the pool slowly until a cookie reply comes back; true once every
 * message carries a valid mac2. */
static bool get_cookie(const struct opts *o, struct pool *pl, int fd,
		       struct totals *t)
{
	struct wgx_msg_cookie_reply r;
	double end = mono_s() + 10;

	for (unsigned int i = 0; mono_s() < end && !stopping; i++) {
		unsigned int slot = i % POOL;
		struct timespec pause = { 0, 1000000 }; /* 1 ms */

		if (send(fd, pl->buf[slot], pl->len[slot], MSG_DONTWAIT) > 0)
			t->sent++;
		while (recv(fd, &r, sizeof(r), MSG_DONTWAIT) == sizeof(r))
			if (r.header.type == WGX_MSG_COOKIE_REPLY &&
			    use_cookie_reply(o, pl, &r))
				return true;
		nanosleep(&pause, NULL);
	}
	fputs("wgx_flood: no cookie reply within 10 s\n", stderr);
	return false;
}

int main(int argc, char **argv)
{
	static struct pool pl;
	struct totals t = { 0 };
	int fds[MAX_SOURCES];
	struct dest d;
	struct opts o;
	double t0, secs;
	int n, err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err == HELP ? 0 : err;
	if (check_netns(o.allow_any_netns))
		return 1;
	if (o.seed)
		rng_state = o.seed;
	else if (getrandom(&rng_state, sizeof(rng_state), 0) < 0)
		rng_state = (uint64_t)time(NULL);
	rng_state |= 1; /* xorshift never leaves 0 */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	if (wgx_crypto_init() || resolve(&o, &d))
		return 1;
	n = open_sockets(&o, &d, fds);
	if (n < 0)
		return 1;
	pool_build(&pl, &o);
	if (o.kind == KIND_INITIATION_MAC2) {
		if (!get_cookie(&o, &pl, fds[0], &t))
			return 1;
		printf("cookie after %ld datagrams\n", t.sent);
		t.sent = 0;
	}
	t0 = mono_s();
	err = run(&o, &pl, &d, fds, n, &t);
	secs = mono_s() - t0;
	if (secs <= 0)
		secs = 1e-9;
	printf("sent %ld datagrams, %ld bytes in %.3f s: %.0f pkt/s, "
	       "%.1f Mbit/s (%ld errors)\n",
	       t.sent, t.bytes, secs, (double)t.sent / secs,
	       (double)t.bytes * 8 / secs / 1e6, t.errors);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return err ? 1 : 0;
}
