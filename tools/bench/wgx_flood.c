// SPDX-License-Identifier: MIT
/*
 * wgx_flood: blasts WireGuard-shaped UDP datagrams at one address, for the
 * XDP tests (tests/netns/t_xdp.sh) and the flood benchmark
 * (tools/bench/flood). Run it inside a network namespace the caller made
 * (`ip netns exec NS build/bench/wgx_flood ...`); it refuses to run in
 * any namespace but one of /run/netns/ unless told otherwise.
 *
 *   wgx_flood [--kind KIND] [--count N] [--duration S] [--rate PPS]
 *             [--sources N] [--seed N] [--allow-any-netns] ADDR PORT
 *
 *   unknown-index  data messages (type 4), 32..1452 bytes, random receiver
 *                  index and content (the default)
 *   malformed      wrong sizes for types 1..4, non-zero reserved bytes,
 *                  unknown types
 *   initiation     148-byte handshake initiations, random body (so a
 *                  garbage mac1), from --sources (32) source ports
 *
 * At least one of --count (at most 100,000,000) and --duration (at most
 * 600 s) bounds the run; it ends at whichever comes first. Without --rate
 * it sends as fast as sendmmsg() lets it. Every socket is connect()ed to
 * ADDR:PORT, so nothing can go anywhere else. Prints one line:
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
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	MAX_COUNT = 100000000,
	MAX_SECONDS = 600,
	MAX_SOURCES = 256,
	BATCH = 64,
	POOL = 1024, /* pre-built datagrams, reused round-robin */
	MAX_PAYLOAD = 1452,
	MIN_DATA = 32, /* header + empty-payload tag */
	LEN_INITIATION = 148,
	LEN_RESPONSE = 92,
	LEN_COOKIE = 64,
	HELP = 1, /* parse_args: --help was printed */
};

enum kind {
	KIND_UNKNOWN_INDEX,
	KIND_MALFORMED,
	KIND_INITIATION,
};

struct opts {
	enum kind kind;
	long count;    /* 0: unbounded by count */
	double secs;   /* 0: unbounded by time */
	double rate;   /* datagrams per second, 0: as fast as possible */
	int sources;   /* sockets (source ports) */
	uint64_t seed; /* 0: from getrandom() */
	bool allow_any_netns;
	const char *addr;
	const char *port;
};

struct pool {
	uint8_t buf[POOL][MAX_PAYLOAD];
	size_t len[POOL];
};

static uint64_t rng_state;

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

static void pool_build(struct pool *pl, enum kind kind)
{
	for (unsigned int i = 0; i < POOL; i++) {
		uint8_t *p = pl->buf[i];

		fill_random(p, MAX_PAYLOAD);
		switch (kind) {
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
		}
	}
}

static int usage(FILE *f)
{
	fputs("Usage: wgx_flood [--kind unknown-index|malformed|initiation] "
	      "[--count N]\n"
	      "         [--duration S] [--rate PPS] [--sources N] [--seed N]\n"
	      "         [--allow-any-netns] ADDR PORT\n"
	      "At least one of --count (<= 100000000) and --duration "
	      "(<= 600 s).\n",
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
	else
		return -EINVAL;
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

/* One connected socket per source port. */
static int open_sockets(const struct opts *o, int *fds)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	int n = o->kind == KIND_INITIATION ? o->sources : 1;
	int err = getaddrinfo(o->addr, o->port, &hints, &ai);

	if (err) {
		fprintf(stderr, "wgx_flood: bad address %s port %s: %s\n",
			o->addr, o->port, gai_strerror(err));
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		int sz = 4 << 20;

		fds[i] = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    connect(fds[i], ai->ai_addr, ai->ai_addrlen)) {
			perror("wgx_flood: socket/connect");
			freeaddrinfo(ai);
			return -errno;
		}
		setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	freeaddrinfo(ai);
	return n;
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

/* Fill a batch of n datagrams from the pool, a fresh index in each. */
static void prepare(struct pool *pl, const struct opts *o, long seq,
		    struct mmsghdr *m, struct iovec *iov, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned int slot = (unsigned int)((seq + i) % POOL);
		uint8_t *p = pl->buf[slot];

		if (o->kind != KIND_MALFORMED)
			put_le32(p + 4, (uint32_t)rnd());
		iov[i] = (struct iovec){ .iov_base = p,
					 .iov_len = pl->len[slot] };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
						      .msg_iovlen = 1 } };
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
		for (int i = done; i < done + r; i++)
			t->bytes += (long)m[i].msg_hdr.msg_iov->iov_len;
		t->sent += r;
		done += r;
	}
	return 0;
}

static int run(const struct opts *o, struct pool *pl, const int *fds, int nfds,
	       struct totals *t)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	double start = mono_s(), end = start + o->secs;
	long seq = 0;
	int batch = BATCH;

	/* Paced runs send small batches so the rate holds at short scales. */
	if (o->rate && o->rate / 1000 < BATCH)
		batch = o->rate / 1000 < 1 ? 1 : (int)(o->rate / 1000);
	for (int f = 0;; f = (f + 1) % nfds) {
		int n = batch, err;

		if (o->count && seq + n > o->count)
			n = (int)(o->count - seq);
		if (n <= 0 || (o->secs && mono_s() >= end))
			break;
		if (o->rate)
			sleep_until(start + (double)seq / o->rate);
		prepare(pl, o, seq, m, iov, n);
		err = send_batch(fds[f], m, n, t);
		if (err)
			return err;
		seq += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct pool pl;
	struct totals t = { 0 };
	int fds[MAX_SOURCES];
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
	n = open_sockets(&o, fds);
	if (n < 0)
		return 1;
	pool_build(&pl, o.kind);
	t0 = mono_s();
	err = run(&o, &pl, fds, n, &t);
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
