// SPDX-License-Identifier: MIT
/*
 * wgx_udp: bad and replayed WireGuard input for the netns tests. It sends
 * UDP payloads to the one address it is given (the tests give addresses
 * inside their own namespaces) and records payloads from the wire with an
 * AF_PACKET socket so they can be replayed. Every run is bounded: at most
 * MAX_COUNT payloads per command, SEND_SECONDS of sending (then SIGALRM
 * ends it), a capture at most TIMEOUT_S <= MAX_SECONDS.
 *
 *   wgx_udp random ADDR PORT N COUNT   COUNT payloads of N random bytes
 *                                       (N = 0: random lengths 0..1472)
 *   wgx_udp hex ADDR PORT HEX          one payload given in hex
 *   wgx_udp data-unknown ADDR PORT COUNT
 *                                       type 4 messages, 32..1452 bytes,
 *                                       random receiver index and content
 *   wgx_udp hs-random ADDR PORT COUNT  handshake messages of the right
 *                                       sizes (types 1, 2, 3 in turn),
 *                                       zero reserved bytes, random body
 *   wgx_udp file ADDR PORT PATH        each recorded payload once
 *   wgx_udp truncate ADDR PORT PATH    every proper prefix (0..len-1 bytes)
 *                                       of each recorded payload
 *   wgx_udp mangle ADDR PORT PATH      each recorded payload with reserved
 *                                       byte 1, 2, 3 non-zero, one byte
 *                                       short and one byte long
 *   wgx_udp flip ADDR PORT PATH        each recorded payload with its last
 *                                       byte (inside the tag) flipped
 *   wgx_udp capture IFACE PORT COUNT PATH TIMEOUT_S [DIR [KIND]]
 *       record the UDP payloads of COUNT packets to (DIR "to"), from
 *       ("from") or either ("any", the default) PORT seen on IFACE; KIND
 *       is any (default), handshake (types 1-3), init, resp, cookie, data
 *       (type 4 longer than a keepalive) or keepalive. Prints "capturing"
 *       once the socket is bound, "captured N" at the end; exits 0 only
 *       when COUNT payloads were recorded before TIMEOUT_S.
 *
 * Recordings are text: one payload per line, in hex. The send commands
 * print "sent N" (the number of datagrams the kernel accepted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "wgx_wire.h"

enum {
	MAX_COUNT = 100000,
	MAX_PAYLOAD = 65507,
	MAX_RANDOM_LEN = 1472, /* fits a 1500-byte underlay unfragmented */
	MAX_RECORDS = 10000,
	MAX_SECONDS = 600,
	SEND_SECONDS = 120,
	/* Pacing: a short pause every burst keeps receive buffers unfilled. */
	BURST = 16,
	BURST_PAUSE_US = 1000,
	DATA_MAX_LEN = 1452,
};

struct record {
	uint8_t *data;
	size_t len;
};

struct sender {
	int fd;
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} to;
	socklen_t to_len;
	unsigned long sent;
};

static void usage(void)
{
	fputs("usage: wgx_udp random ADDR PORT N COUNT\n"
	      "       wgx_udp hex ADDR PORT HEX\n"
	      "       wgx_udp data-unknown ADDR PORT COUNT\n"
	      "       wgx_udp hs-random ADDR PORT COUNT\n"
	      "       wgx_udp file|truncate|mangle|flip ADDR PORT PATH\n"
	      "       wgx_udp capture IFACE PORT COUNT PATH TIMEOUT_S "
	      "[to|from|any [KIND]]\n",
	      stderr);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "wgx_udp: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A decimal argument in [lo, hi], or exit with the usage. */
static unsigned long number(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "wgx_udp: '%s' is not a number in %lu..%lu\n",
			s, lo, hi);
		exit(2);
	}
	return v;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode hex into a new buffer; false on odd length or a bad digit. */
static bool unhex(const char *s, size_t n, struct record *r)
{
	if (n % 2 || n / 2 > MAX_PAYLOAD)
		return false;
	r->len = n / 2;
	r->data = malloc(r->len + 1);
	if (!r->data)
		die("malloc");
	for (size_t i = 0; i < r->len; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(r->data);
			return false;
		}
		r->data[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ---- sending ---------------------------------------------------------- */

static void sender_open(struct sender *s, const char *addr, const char *port)
{
	uint16_t p = (uint16_t)number(port, 1, 65535);

	memset(s, 0, sizeof(*s));
	if (inet_pton(AF_INET, addr, &s->to.in4.sin_addr) == 1) {
		s->to.in4.sin_family = AF_INET;
		s->to.in4.sin_port = htons(p);
		s->to_len = sizeof(s->to.in4);
	} else if (inet_pton(AF_INET6, addr, &s->to.in6.sin6_addr) == 1) {
		s->to.in6.sin6_family = AF_INET6;
		s->to.in6.sin6_port = htons(p);
		s->to_len = sizeof(s->to.in6);
	} else {
		fprintf(stderr, "wgx_udp: '%s' is not an IP address\n", addr);
		exit(2);
	}
	s->fd = socket(s->to.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		die("socket");
}

static void pause_us(long us)
{
	struct timespec ts = { .tv_sec = us / 1000000,
			       .tv_nsec = (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Send one payload; a full send buffer is waited out, not counted. */
static void send_one(struct sender *s, const void *buf, size_t len)
{
	for (int tries = 0; tries < 100; tries++) {
		if (sendto(s->fd, buf, len, 0, &s->to.sa, s->to_len) >= 0) {
			s->sent++;
			if (s->sent % BURST == 0)
				pause_us(BURST_PAUSE_US);
			return;
		}
		if (errno != ENOBUFS && errno != EAGAIN)
			break;
		pause_us(BURST_PAUSE_US);
	}
	/* ICMP errors from earlier datagrams surface here: report, go on. */
	fprintf(stderr, "wgx_udp: sendto: %s\n", strerror(errno));
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void send_random(struct sender *s, size_t n, unsigned long count)
{
	static uint8_t buf[MAX_PAYLOAD];

	for (unsigned long i = 0; i < count; i++) {
		size_t len =
			n ? n : wgx_crypto_random_below(MAX_RANDOM_LEN + 1);

		wgx_crypto_random(buf, len);
		send_one(s, buf, len);
	}
}

static void send_data_unknown(struct sender *s, unsigned long count)
{
	uint8_t buf[DATA_MAX_LEN];

	for (unsigned long i = 0; i < count; i++) {
		size_t len = WGX_MSG_DATA_MIN_LEN +
			     wgx_crypto_random_below(DATA_MAX_LEN -
						     WGX_MSG_DATA_MIN_LEN + 1);

		wgx_crypto_random(buf, len);
		/* Header: type 4, zero reserved; the index stays random. */
		put_le32(buf, WGX_MSG_DATA);
		send_one(s, buf, len);
	}
}

static void send_hs_random(struct sender *s, unsigned long count)
{
	static const size_t sizes[] = { WGX_MSG_INITIATION_LEN,
					WGX_MSG_RESPONSE_LEN,
					WGX_MSG_COOKIE_REPLY_LEN };
	uint8_t buf[WGX_MSG_INITIATION_LEN];

	for (unsigned long i = 0; i < count; i++) {
		size_t len = sizes[i % 3];

		wgx_crypto_random(buf, len);
		put_le32(buf, (uint32_t)(i % 3 + 1));
		send_one(s, buf, len);
	}
}

/* ---- recordings ------------------------------------------------------- */

static size_t load(const char *path, struct record *recs)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t got;

	if (!f)
		die(path);
	while ((got = getline(&line, &cap, f)) >= 0) {
		while (got && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (!got || line[0] == '#')
			continue;
		if (n == MAX_RECORDS) {
			fprintf(stderr, "wgx_udp: %s: over %d records\n", path,
				MAX_RECORDS);
			exit(2);
		}
		if (!unhex(line, (size_t)got, &recs[n])) {
			fprintf(stderr, "wgx_udp: %s: bad hex line\n", path);
			exit(2);
		}
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

static void send_mangled(struct sender *s, const struct record *r)
{
	static uint8_t buf[MAX_PAYLOAD + 1];

	memcpy(buf, r->data, r->len);
	for (size_t i = 1; i < 4 && i < r->len; i++) {
		uint8_t keep = buf[i];

		buf[i] = (uint8_t)(1 + wgx_crypto_random_below(255));
		send_one(s, buf, r->len);
		buf[i] = keep;
	}
	if (r->len)
		send_one(s, buf, r->len - 1);
	if (r->len < MAX_PAYLOAD) {
		wgx_crypto_random(buf + r->len, 1);
		send_one(s, buf, r->len + 1);
	}
}

static void send_file(struct sender *s, const char *mode, const char *path)
{
	static struct record recs[MAX_RECORDS];
	size_t n = load(path, recs);

	for (size_t i = 0; i < n; i++) {
		struct record *r = &recs[i];

		if (!strcmp(mode, "file")) {
			send_one(s, r->data, r->len);
		} else if (!strcmp(mode, "truncate")) {
			for (size_t len = 0; len < r->len; len++)
				send_one(s, r->data, len);
		} else if (!strcmp(mode, "mangle")) {
			send_mangled(s, r);
		} else if (r->len) { /* flip */
			r->data[r->len - 1] ^= 0x01;
			send_one(s, r->data, r->len);
		}
		free(r->data);
	}
}

static int send_main(int argc, char **argv)
{
	const char *cmd = argv[1];
	struct sender s;

	if (argc < 5)
		usage();
	if (strcmp(cmd, "random") && strcmp(cmd, "hex") &&
	    strcmp(cmd, "data-unknown") && strcmp(cmd, "hs-random") &&
	    strcmp(cmd, "file") && strcmp(cmd, "truncate") &&
	    strcmp(cmd, "mangle") && strcmp(cmd, "flip"))
		usage();
	sender_open(&s, argv[2], argv[3]);
	if (!strcmp(cmd, "random")) {
		if (argc != 6)
			usage();
		send_random(&s, number(argv[4], 0, MAX_PAYLOAD),
			    number(argv[5], 1, MAX_COUNT));
	} else if (!strcmp(cmd, "hex")) {
		struct record r;

		if (argc != 5 || !unhex(argv[4], strlen(argv[4]), &r))
			usage();
		send_one(&s, r.data, r.len);
		free(r.data);
	} else if (argc != 5) {
		usage();
	} else if (!strcmp(cmd, "data-unknown")) {
		send_data_unknown(&s, number(argv[4], 1, MAX_COUNT));
	} else if (!strcmp(cmd, "hs-random")) {
		send_hs_random(&s, number(argv[4], 1, MAX_COUNT));
	} else {
		send_file(&s, cmd, argv[4]);
	}
	close(s.fd);
	printf("sent %lu\n", s.sent);
	return 0;
}

/* ---- capture ---------------------------------------------------------- */

enum dir {
	DIR_ANY,
	DIR_TO,
	DIR_FROM
};

struct capture {
	uint16_t port;
	enum dir dir;
	const char *kind;
	unsigned long want, got;
	FILE *out;
};

static bool kind_matches(const char *kind, const uint8_t *p, size_t len)
{
	if (!strcmp(kind, "any"))
		return true;
	if (len < 4)
		return false;
	if (!strcmp(kind, "handshake"))
		return p[0] >= WGX_MSG_INITIATION &&
		       p[0] <= WGX_MSG_COOKIE_REPLY;
	if (!strcmp(kind, "init"))
		return p[0] == WGX_MSG_INITIATION;
	if (!strcmp(kind, "resp"))
		return p[0] == WGX_MSG_RESPONSE;
	if (!strcmp(kind, "cookie"))
		return p[0] == WGX_MSG_COOKIE_REPLY;
	if (!strcmp(kind, "data"))
		return p[0] == WGX_MSG_DATA && len > WGX_MSG_DATA_MIN_LEN;
	if (!strcmp(kind, "keepalive"))
		return p[0] == WGX_MSG_DATA && len == WGX_MSG_DATA_MIN_LEN;
	return false;
}

static bool kind_known(const char *kind)
{
	static const char *const kinds[] = { "any",	 "handshake", "init",
					     "resp",	 "cookie",    "data",
					     "keepalive" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

/* Empty payloads are not recorded: a recording has one per line. */
static void record(struct capture *c, const uint8_t *p, size_t len)
{
	if (!len || c->got >= c->want || !kind_matches(c->kind, p, len))
		return;
	for (size_t i = 0; i < len; i++)
		fprintf(c->out, "%02x", p[i]);
	fputc('\n', c->out);
	c->got++;
}

/*
 * One frame from the socket: the virtio-net header the kernel prepends,
 * the link header (Ethernet on a veth, none on a TUN), then the IP
 * packet; IPv6 only without extension headers. A UDP GSO frame (several
 * datagrams in one) is split by its segment size, as the receiving socket
 * would see it.
 */
static void frame(struct capture *c, const uint8_t *buf, size_t len,
		  const struct sockaddr_ll *from)
{
	const struct virtio_net_hdr *vh = (const void *)buf;
	size_t link = from->sll_hatype == ARPHRD_NONE ? 0 : ETH_HLEN;
	uint16_t proto = ntohs(from->sll_protocol), sport, dport;
	const uint8_t *ip = buf + sizeof(*vh) + link, *udp;
	size_t iplen, hl, plen, seg, ulen;

	/* Loopback shows each packet twice: keep the copy going in. */
	if (from->sll_hatype == ARPHRD_LOOPBACK &&
	    from->sll_pkttype == PACKET_OUTGOING)
		return;
	if (len < sizeof(*vh) + link)
		return;
	iplen = len - sizeof(*vh) - link;
	if (proto == ETH_P_IP && iplen >= 20 && ip[0] >> 4 == 4 &&
	    ip[9] == IPPROTO_UDP) {
		hl = (size_t)(ip[0] & 0x0f) * 4;
	} else if (proto == ETH_P_IPV6 && iplen >= 40 && ip[0] >> 4 == 6 &&
		   ip[6] == IPPROTO_UDP) {
		hl = 40;
	} else {
		return;
	}
	if (iplen < hl + 8)
		return;
	udp = ip + hl;
	sport = (uint16_t)(udp[0] << 8 | udp[1]);
	dport = (uint16_t)(udp[2] << 8 | udp[3]);
	if (!((c->dir != DIR_FROM && dport == c->port) ||
	      (c->dir != DIR_TO && sport == c->port)))
		return;
	plen = iplen - hl - 8;
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE && vh->gso_size) {
		seg = vh->gso_size;
		for (size_t off = 0; off < plen; off += seg)
			record(c, udp + 8 + off,
			       plen - off < seg ? plen - off : seg);
		return;
	}
	ulen = (size_t)(udp[4] << 8 | udp[5]);
	/* The UDP length, not what padding may follow it. */
	if (ulen >= 8 && ulen - 8 < plen)
		plen = ulen - 8;
	record(c, udp + 8, plen);
}

static int capture_open(const char *iface)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, fd;

	ll.sll_ifindex = (int)if_nametoindex(iface);
	if (!ll.sll_ifindex)
		die(iface);
	/* Protocol 0: nothing queues before the bind picks the interface. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket(AF_PACKET)");
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0)
		die("PACKET_VNET_HDR");
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		die("bind");
	return fd;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int capture_main(int argc, char **argv)
{
	static uint8_t buf[sizeof(struct virtio_net_hdr) + 65536];
	struct capture c = { .dir = DIR_ANY, .kind = "any" };
	const char *path;
	uint64_t deadline;
	int fd;

	if (argc < 7 || argc > 9)
		usage();
	c.port = (uint16_t)number(argv[3], 1, 65535);
	c.want = number(argv[4], 1, MAX_RECORDS);
	path = argv[5];
	deadline = now_ms() + 1000 * number(argv[6], 1, MAX_SECONDS);
	if (argc > 7 && !strcmp(argv[7], "to"))
		c.dir = DIR_TO;
	else if (argc > 7 && !strcmp(argv[7], "from"))
		c.dir = DIR_FROM;
	else if (argc > 7 && strcmp(argv[7], "any"))
		usage();
	if (argc > 8)
		c.kind = argv[8];
	if (!kind_known(c.kind))
		usage();
	c.out = fopen(path, "w");
	if (!c.out)
		die(path);
	fd = capture_open(argv[2]);
	printf("capturing on %s\n", argv[2]);
	fflush(stdout);
	while (c.got < c.want) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		uint64_t now = now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (now >= deadline)
			break;
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n > 0)
			frame(&c, buf, (size_t)n, &from);
	}
	close(fd);
	if (fclose(c.out))
		die(path);
	printf("captured %lu\n", c.got);
	return c.got == c.want ? 0 : 3;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (wgx_crypto_init() < 0) {
		fputs("wgx_udp: couldn't initialise libsodium\n", stderr);
		return 1;
	}
	if (!strcmp(argv[1], "capture"))
		return capture_main(argc, argv);
	/* Bounded in time whatever the arguments: SIGALRM ends the run. */
	alarm(SEND_SECONDS);
	return send_main(argc, argv);
}
