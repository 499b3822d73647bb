// SPDX-License-Identifier: MIT
/*
 * peer add, list and remove. Every check (arguments, the file, names,
 * addresses) runs before anything is written; the client's file is
 * written before the server's, and removed again if the server's cannot
 * be, so a failure leaves both as they were.
 */
#include "cli/cli_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/addr_pool.h"
#include "agent/config.h"
#include "agent/config_edit.h"
#include "agent/control.h"
#include "agent/instance.h"
#include "agent/netlink.h"
#include "cli/qr.h"
#include "core/crypto.h"
#include "core/key.h"
#include "util/atomic_file.h"

enum {
	DEFAULT_KEEPALIVE = 25,
	LOCK_WAIT_MS = 10000,
	MAX_LIST = 16, /* entries of --dns, --allowed-ips */
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("wgxdp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* ---- text in secret memory -------------------------------------------- */

/*
 * A growing buffer in sodium memory: every copy it ever made is wiped when
 * it moves (sodium_free wipes), and so is the last one.
 */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static int sbuf_reserve(struct sbuf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->err)
		return b->err;
	if (b->len + more + 1 <= b->cap)
		return 0;
	while (cap < b->len + more + 1)
		cap *= 2;
	p = sodium_malloc(cap);
	if (!p)
		return b->err = -ENOMEM;
	if (b->len)
		memcpy(p, b->p, b->len);
	sodium_free(b->p);
	b->p = p;
	b->cap = cap;
	b->p[b->len] = '\0';
	return 0;
}

static void sbuf_add(struct sbuf *b, const void *data, size_t n)
{
	if (sbuf_reserve(b, n))
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sbuf_str(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Several strings, then a newline: "Key = ", value. */
static void sbuf_line(struct sbuf *b, const char *key, const char *value)
{
	sbuf_str(b, key);
	sbuf_str(b, " = ");
	sbuf_str(b, value);
	sbuf_str(b, "\n");
}

static void sbuf_free(struct sbuf *b)
{
	sodium_free(b->p);
	memset(b, 0, sizeof(*b));
}

static int read_file(const char *path, struct sbuf *b)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (st.st_size > WGX_CONFIG_MAX_FILE)
		err = -EFBIG;
	else
		err = sbuf_reserve(b, (size_t)st.st_size);
	while (!err) {
		ssize_t n = read(fd, b->p + b->len, b->cap - 1 - b->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err = -errno;
		else if (!n)
			break;
		else
			b->len += (size_t)n;
		if (!err && b->len + 1 == b->cap)
			err = b->len >= WGX_CONFIG_MAX_FILE
				      ? -EFBIG
				      : sbuf_reserve(b, 4096);
	}
	close(fd);
	if (!err)
		b->p[b->len] = '\0';
	return err;
}

/* ---- the server's file ------------------------------------------------ */

struct server {
	char path[PATH_MAX];
	char dir[PATH_MAX];
	int lock_fd;
	struct sbuf text;
	struct wgx_config *cfg;
	struct wgx_config_section *sec;
	size_t nsec;
};

static void server_free(struct server *s)
{
	wgx_config_free(s->cfg);
	free(s->sec);
	sbuf_free(&s->text);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
}

/*
 * Commands on one file wait for each other: a lock on its directory (the
 * file itself is replaced by rename, so a lock on it would not hold).
 */
static int lock_dir(struct server *s)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	s->lock_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->lock_fd < 0)
		return fail("can't open %s: %s", s->dir, strerror(errno));
	for (int waited = 0; flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0;
	     waited += 20) {
		if (errno != EWOULDBLOCK)
			return fail("can't lock %s: %s", s->dir,
				    strerror(errno));
		if (waited >= LOCK_WAIT_MS)
			return fail("another wgxdp peer command holds %s "
				    "for more than %d s; try again",
				    s->dir, LOCK_WAIT_MS / 1000);
		nanosleep(&pause, NULL);
	}
	return 0;
}

static void print_messages(const struct wgx_config_errors *errs, bool warnings)
{
	for (size_t i = 0; i < errs->n; i++)
		if (warnings || !errs->msgs[i].warning)
			fprintf(stderr, "%s\n", errs->msgs[i].text);
}

/* Parse text as the parser would read the file; messages on stderr. */
static struct wgx_config *parse_text(const char *name, const struct sbuf *t,
				     unsigned int flags, bool quiet)
{
	struct wgx_config_opts opts = { .flags =
						flags | WGX_CONFIG_NO_RESOLVE };
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;

	wgx_config_parse_buf(name, t->p ? t->p : "", t->len, &opts, &cfg,
			     &errs);
	if (!quiet || !cfg)
		print_messages(&errs, !quiet);
	wgx_config_errors_free(&errs);
	return cfg;
}

/* Resolve, lock (when editing), read, parse and scan the server's file. */
static int server_open(struct server *s, const char *file, bool edit)
{
	unsigned int flags = edit ? WGX_CONFIG_NEED_PRIVATE_KEY : 0;
	char *slash;
	int err;

	memset(s, 0, sizeof(*s));
	s->lock_fd = -1;
	if (!realpath(file, s->path))
		return fail("can't read config %s: %s", file, strerror(errno));
	snprintf(s->dir, sizeof(s->dir), "%s", s->path);
	slash = strrchr(s->dir, '/');
	slash[slash == s->dir ? 1 : 0] = '\0';
	if (edit && lock_dir(s))
		return 1;
	err = read_file(s->path, &s->text);
	if (err)
		return fail("can't read config %s: %s", s->path,
			    strerror(-err));
	s->cfg = parse_text(s->path, &s->text, flags, true);
	if (!s->cfg)
		return fail("%s is not a valid config; nothing was changed "
			    "(wgxdp check %s lists every problem)",
			    s->path, s->path);
	if (wgx_config_edit_scan(s->text.p, s->text.len, &s->sec, &s->nsec))
		return fail("out of memory");
	return 0;
}

/* The peer of cfg whose [Peer] header is at the section's line. */
static const struct wgx_config_peer *section_peer(
	const struct server *s, const struct wgx_config_section *sec)
{
	for (size_t i = 0; i < s->cfg->n_peers; i++)
		if (s->cfg->peers[i].line == sec->line)
			return &s->cfg->peers[i];
	return NULL;
}

/* How a peer of cfg is called in messages: its name, else its key. */
static void peer_label(const struct server *s, long idx, char *out, size_t size)
{
	const struct wgx_config_peer *p = &s->cfg->peers[idx];
	char key[WGX_KEY_BASE64_LEN + 1];

	for (size_t i = 0; i < s->nsec; i++) {
		if (s->sec[i].line == p->line && s->sec[i].name[0]) {
			snprintf(out, size, "peer %s (line %u)", s->sec[i].name,
				 p->line);
			return;
		}
	}
	wgx_key_to_base64(key, p->public_key);
	snprintf(out, size, "peer %s (line %u)", key, p->line);
}

/* ---- the running instance --------------------------------------------- */

struct live {
	bool found;
	struct wgx_instance_info info;
	uint16_t listen_port;
};

/* The value of "key=" in a control answer of key=value lines. */
static bool answer_value(const char *text, const char *key, char *out,
			 size_t size)
{
	size_t klen = strlen(key);

	for (const char *l = text; l && *l;) {
		size_t n = strcspn(l, "\n");

		if (n > klen && !strncmp(l, key, klen) && l[klen] == '=') {
			n -= klen + 1;
			if (n >= size)
				return false;
			memcpy(out, l + klen + 1, n);
			out[n] = '\0';
			return true;
		}
		l += n + (l[n] ? 1 : 0);
	}
	return false;
}

/*
 * The instance in this network namespace whose config is path, asked
 * through every control socket ("config" answers path= and listen_port=).
 */
static void find_live(const char *path, struct live *live)
{
	struct wgx_instance_info *list = NULL;
	size_t n = 0;
	int err;

	memset(live, 0, sizeof(*live));
	err = wgx_instance_list(&list, &n);
	if (err && err != -ENOENT)
		fprintf(stderr,
			"wgxdp: warning: can't look for a running instance "
			"(%s); apply the change with 'wgxdp reload'\n",
			strerror(-err));
	for (size_t i = 0; i < n && !live->found; i++) {
		struct wgx_control_response resp = { 0 };
		char got[PATH_MAX], port[8];

		if (!wgx_control_call(list[i].sock_path, "config", 0, &resp) &&
		    answer_value(resp.payload, "path", got, sizeof(got)) &&
		    !strcmp(got, path)) {
			live->found = true;
			live->info = list[i];
			if (answer_value(resp.payload, "listen_port", port,
					 sizeof(port)))
				live->listen_port = (uint16_t)atoi(port);
		}
		wgx_control_response_free(&resp);
	}
	free(list);
}

/* Tell the instance to re-read its file: 0, or 1 after a message. */
static int apply_live(const struct live *live, const char *path,
		      const char *what)
{
	struct wgx_control_response resp = { 0 };
	int err;

	if (!live->found) {
		fprintf(stderr,
			"wgxdp: no running instance uses %s: the change takes "
			"effect at its next attach\n",
			path);
		return 0;
	}
	err = wgx_control_call(live->info.sock_path, "reload", 0, &resp);
	wgx_control_response_free(&resp);
	if (err)
		return fail("%s %s, but the running instance %s did not "
			    "apply it: %s; fix that, then run 'wgxdp reload "
			    "%s'",
			    path, what, live->info.tun,
			    resp.error[0] ? resp.error : strerror(-err),
			    live->info.tun);
	fprintf(stderr, "wgxdp: applied to the running instance %s\n",
		live->info.tun);
	return 0;
}

/* ---- arguments -------------------------------------------------------- */

static int parse_host(const char *s, struct wgx_config_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, s, &p->addr.v4) == 1) {
		p->family = AF_INET;
		p->cidr = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &p->addr.v6) == 1) {
		p->family = AF_INET6;
		p->cidr = 128;
		return 0;
	}
	return -EINVAL;
}

/* "ADDR" or "ADDR/CIDR"; host bits are cleared when mask. */
static int parse_prefix(const char *s, struct wgx_config_prefix *p, bool mask)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	char *end;
	long cidr;

	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (parse_host(host, p))
		return -EINVAL;
	if (slash) {
		if (!slash[1] || slash[1] == '-' || slash[1] == '+')
			return -EINVAL;
		cidr = strtol(slash + 1, &end, 10);
		if (*end || cidr < 0 || cidr > p->cidr)
			return -EINVAL;
		p->cidr = (uint8_t)cidr;
	}
	for (unsigned int bit = p->cidr; mask && bit < 128; bit++)
		p->addr.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

/* Split a comma list in place into at most MAX_LIST trimmed entries. */
static int split_list(char *s, char **v, size_t *n)
{
	char *tok;

	*n = 0;
	while ((tok = strsep(&s, ","))) {
		while (*tok == ' ')
			tok++;
		for (size_t l = strlen(tok); l && tok[l - 1] == ' '; l--)
			tok[l - 1] = '\0';
		if (!*tok || *n == MAX_LIST)
			return -EINVAL;
		v[(*n)++] = tok;
	}
	return 0;
}

/* A host name: letters, digits, '-' and '.', as DNS has them. */
static bool hostname_ok(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

struct add_args {
	const char *name, *config, *out;
	char *ip, *endpoint, *dns, *allowed;
	long keepalive;
	bool qr;
};

static int usage_add(FILE *f)
{
	fputs("Usage: wgxdp peer add NAME --config FILE [--ip ADDR[,ADDR]]\n"
	      "       [--endpoint HOST[:PORT]] [--dns IP[,IP...]]\n"
	      "       [--allowed-ips PREFIX[,...]] [--keepalive SECONDS] "
	      "[--out DIR] [--qr]\n"
	      "  --ip           the peer's address(es) (default: the next "
	      "free one in each of\n"
	      "                 FILE's Address subnets)\n"
	      "  --endpoint     where clients reach this server (default: "
	      "the running\n"
	      "                 instance's underlay address; PORT: "
	      "ListenPort)\n"
	      "  --dns          DNS servers and search domains for the "
	      "client's config\n"
	      "  --allowed-ips  what the client routes into the tunnel "
	      "(default: FILE's\n"
	      "                 subnets)\n"
	      "  --keepalive    the client's PersistentKeepalive (default "
	      "25; 0: off)\n"
	      "  --out          where NAME.conf goes (default: beside FILE)\n"
	      "  --qr           also print the client config as a QR code\n",
	      f);
	return f == stdout ? 0 : 1;
}

static int parse_add(int argc, char **argv, struct add_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "ip", required_argument, NULL, 'i' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "dns", required_argument, NULL, 'd' },
		{ "allowed-ips", required_argument, NULL, 'a' },
		{ "keepalive", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "qr", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(a, 0, sizeof(*a));
	a->keepalive = DEFAULT_KEEPALIVE;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:i:e:d:a:k:o:qh", longopts,
				NULL)) != -1) {
		if (c != 'q' && c != 'h' && c != '?' && !*optarg)
			return fail("peer add: %s needs a value",
				    argv[optind - 1]);
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'i':
			a->ip = optarg;
			break;
		case 'e':
			a->endpoint = optarg;
			break;
		case 'd':
			a->dns = optarg;
			break;
		case 'a':
			a->allowed = optarg;
			break;
		case 'k':
			a->keepalive = strtol(optarg, &end, 10);
			if (!*optarg || *end || a->keepalive < 0 ||
			    a->keepalive > 65535)
				return fail("peer add: --keepalive takes "
					    "seconds from 0 to 65535, not "
					    "'%s'",
					    optarg);
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'q':
			a->qr = true;
			break;
		case 'h':
			return -1;
		default:
			return fail("peer add: bad option '%s'",
				    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return fail("peer add: missing NAME");
	a->name = argv[optind++];
	if (optind < argc)
		return fail("peer add: unexpected argument '%s'", argv[optind]);
	if (!a->config)
		return fail("peer add: --config FILE is required");
	return 0;
}

/* ---- peer add --------------------------------------------------------- */

/* What a new peer gets. */
struct newpeer {
	struct wgx_config_prefix addr[2]; /* one per family at most */
	size_t naddr;
	struct wgx_config_prefix allowed[MAX_LIST];
	size_t nallowed;
	char *dns[MAX_LIST];
	size_t ndns;
	char endpoint[300];
};

/* The peer's own addresses: --ip, else the next free of each subnet. */
static int pick_addresses(const struct server *s, char *ip, struct newpeer *np)
{
	bool have[2] = { false, false };
	char *v[MAX_LIST], text[INET6_ADDRSTRLEN + 8], who[128];
	size_t n = 0;

	if (ip && split_list(ip, v, &n))
		return fail("peer add: --ip takes one or two addresses, "
			    "comma-separated");
	for (size_t i = 0; i < n; i++) {
		struct wgx_config_prefix *p = &np->addr[np->naddr];
		int fam, err;
		long owner;

		if (parse_prefix(v[i], p, false) ||
		    (p->cidr != 32 && p->cidr != 128))
			return fail("peer add: --ip %s is not an IPv4 or IPv6 "
				    "address",
				    v[i]);
		fam = p->family == AF_INET6;
		if (have[fam])
			return fail("peer add: --ip gives two IPv%c addresses; "
				    "give at most one of each family",
				    fam ? '6' : '4');
		have[fam] = true;
		err = wgx_addr_pool_check(s->cfg, p, &owner);
		if (err == -ERANGE)
			return fail("peer add: %s is in none of %s's Address "
				    "subnets",
				    v[i], s->path);
		if (err == -EADDRNOTAVAIL)
			return fail("peer add: %s is the network, broadcast or "
				    "anycast address of its subnet",
				    v[i]);
		if (err == -EEXIST && owner < 0)
			return fail("peer add: %s is the interface's own "
				    "address",
				    v[i]);
		if (err == -EEXIST) {
			peer_label(s, owner, who, sizeof(who));
			return fail("peer add: %s is already used by %s in %s",
				    v[i], who, s->path);
		}
		np->naddr++;
	}
	for (int fam = 0; fam < 2; fam++) {
		int family = fam ? AF_INET6 : AF_INET;
		const struct wgx_config_prefix *sub =
			wgx_addr_pool_subnet(s->cfg, family);
		int err;

		if (have[fam] || !sub)
			continue;
		err = wgx_addr_pool_next(s->cfg, sub, &np->addr[np->naddr]);
		if (err == -ENOSPC) {
			wgx_config_prefix_format(sub, text, sizeof(text));
			return fail("peer add: no free IPv%c address is left "
				    "in %s's Address %s; remove a peer, widen "
				    "the subnet, or give --ip",
				    fam ? '6' : '4', s->path, text);
		}
		if (err)
			return fail("out of memory");
		np->naddr++;
	}
	if (!np->naddr)
		return fail("peer add: %s has no Address to take the peer's "
			    "address from; add one (e.g. Address = "
			    "10.0.0.1/24) or give --ip",
			    s->path);
	return 0;
}

/* The client's AllowedIPs: --allowed-ips, else the server's subnets. */
static int pick_allowed(const struct server *s, char *allowed,
			struct newpeer *np)
{
	char *v[MAX_LIST];
	size_t n = 0;

	if (allowed) {
		if (split_list(allowed, v, &n))
			return fail("peer add: --allowed-ips takes 1 to %d "
				    "comma-separated prefixes",
				    MAX_LIST);
		for (size_t i = 0; i < n; i++)
			if (parse_prefix(v[i], &np->allowed[i], true))
				return fail("peer add: --allowed-ips: %s is "
					    "not a prefix like 10.0.0.0/24 or "
					    "::/0",
					    v[i]);
		np->nallowed = n;
		return 0;
	}
	for (size_t i = 0; i < s->cfg->n_addresses && i < MAX_LIST; i++) {
		struct wgx_config_prefix p = s->cfg->addresses[i];
		char text[INET6_ADDRSTRLEN + 8];
		bool dup = false;

		wgx_config_prefix_format(&p, text, sizeof(text));
		parse_prefix(text, &p, true);
		for (size_t j = 0; j < np->nallowed; j++)
			dup = dup || !memcmp(&np->allowed[j], &p, sizeof(p));
		if (!dup)
			np->allowed[np->nallowed++] = p;
	}
	if (!np->nallowed) /* only --ip outside any subnet gets here */
		return fail("peer add: give --allowed-ips: %s has no Address "
			    "to route",
			    s->path);
	return 0;
}

static int pick_dns(char *dns, struct newpeer *np)
{
	struct wgx_config_prefix p;

	if (!dns)
		return 0;
	if (split_list(dns, np->dns, &np->ndns))
		return fail("peer add: --dns takes 1 to %d comma-separated "
			    "entries",
			    MAX_LIST);
	for (size_t i = 0; i < np->ndns; i++)
		if (parse_host(np->dns[i], &p) && !hostname_ok(np->dns[i]))
			return fail("peer add: --dns: %s is neither an IP "
				    "address nor a search domain",
				    np->dns[i]);
	return 0;
}

/* The first global address of the underlay, as an endpoint host. */
static int underlay_address(const char *iface, char *out, size_t size)
{
	struct wgx_nl_addr addrs[32];
	struct wgx_nl nl = { 0 };
	int ifindex = wgx_nl_link_index(iface), n;

	if (ifindex <= 0 || wgx_nl_open(&nl))
		return -ENODEV;
	n = wgx_nl_addr_list(&nl, ifindex, AF_UNSPEC, addrs, 32);
	wgx_nl_close(&nl);
	for (int fam = 0; fam < 2; fam++) {
		for (int i = 0; i < n && i < 32; i++) {
			char ip[INET6_ADDRSTRLEN];

			if (addrs[i].family != (fam ? AF_INET6 : AF_INET) ||
			    addrs[i].scope != 0)
				continue;
			inet_ntop(addrs[i].family, addrs[i].addr, ip,
				  sizeof(ip));
			snprintf(out, size, fam ? "[%s]" : "%s", ip);
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

static int pick_endpoint(const struct server *s, const struct live *live,
			 const char *arg, struct newpeer *np)
{
	char host[280] = "";
	unsigned long port = 0;
	const char *colon = NULL;
	char *end;

	if (arg) {
		struct wgx_config_prefix p;
		size_t n;

		if (arg[0] == '[') {
			const char *close = strchr(arg, ']');

			if (!close || (close[1] && close[1] != ':'))
				return fail("peer add: --endpoint %s: write an "
					    "IPv6 endpoint as [ADDR]:PORT",
					    arg);
			colon = close[1] ? close + 1 : NULL;
			n = (size_t)(close - arg) - 1;
			if (n >= INET6_ADDRSTRLEN)
				return fail("peer add: --endpoint %s: bad "
					    "IPv6 address",
					    arg);
			memcpy(host, arg + 1, n);
			host[n] = '\0';
			if (inet_pton(AF_INET6, host, &p.addr.v6) != 1)
				return fail("peer add: --endpoint %s: bad "
					    "IPv6 address",
					    arg);
			snprintf(host, sizeof(host), "%.*s", (int)n + 2, arg);
		} else {
			colon = strrchr(arg, ':');
			n = colon ? (size_t)(colon - arg) : strlen(arg);
			if (n >= sizeof(host) - 2)
				return fail("peer add: --endpoint: the host "
					    "name is too long");
			memcpy(host, arg, n);
			host[n] = '\0';
			if (strchr(host, ':'))
				return fail("peer add: --endpoint %s: write an "
					    "IPv6 endpoint as [ADDR]:PORT",
					    arg);
			if (parse_host(host, &p) && !hostname_ok(host))
				return fail("peer add: --endpoint %s: '%s' is "
					    "not a host name or address",
					    arg, host);
		}
		if (colon) {
			port = strtoul(colon + 1, &end, 10);
			if (!colon[1] || *end || !port || port > 65535 ||
			    colon[1] == '-' || colon[1] == '+')
				return fail("peer add: --endpoint %s: the port "
					    "must be 1 to 65535",
					    arg);
		}
	} else if (!live->found ||
		   underlay_address(live->info.iface, host, sizeof(host))) {
		return fail("peer add: give --endpoint HOST[:PORT], the "
			    "address clients reach this server at (no "
			    "running instance of %s to take it from)",
			    s->path);
	}
	if (!port && live->found && live->listen_port)
		port = live->listen_port;
	if (!port && s->cfg->listen_port)
		port = s->cfg->listen_port;
	if (!port)
		return fail("peer add: %s has no ListenPort (a random port): "
			    "give --endpoint HOST:PORT",
			    s->path);
	snprintf(np->endpoint, sizeof(np->endpoint), "%s:%lu", host, port);
	if (!arg)
		fprintf(stderr,
			"wgxdp: endpoint %s (%s's address); give --endpoint "
			"if clients reach this server elsewhere (NAT)\n",
			np->endpoint, live->info.iface);
	return 0;
}

/* The key material of a new peer, in sodium memory. */
struct peer_keys {
	uint8_t priv[WGX_KEY_LEN], pub[WGX_KEY_LEN], psk[WGX_KEY_LEN];
	char priv_b64[WGX_KEY_BASE64_LEN + 1], pub_b64[WGX_KEY_BASE64_LEN + 1];
	char psk_b64[WGX_KEY_BASE64_LEN + 1];
	char server_b64[WGX_KEY_BASE64_LEN + 1];
};

static void prefix_list(struct sbuf *b, const struct wgx_config_prefix *p,
			size_t n)
{
	char text[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < n; i++) {
		wgx_config_prefix_format(&p[i], text, sizeof(text));
		if (i)
			sbuf_str(b, ", ");
		sbuf_str(b, text);
	}
}

static void client_text(struct sbuf *b, const struct peer_keys *k,
			const struct newpeer *np, long keepalive)
{
	char num[16];

	sbuf_str(b, "[Interface]\n");
	sbuf_line(b, "PrivateKey", k->priv_b64);
	sbuf_str(b, "Address = ");
	prefix_list(b, np->addr, np->naddr);
	sbuf_str(b, "\n");
	for (size_t i = 0; i < np->ndns; i++) {
		sbuf_str(b, i ? ", " : "DNS = ");
		sbuf_str(b, np->dns[i]);
	}
	sbuf_str(b, np->ndns ? "\n" : "");
	sbuf_str(b, "\n[Peer]\n");
	sbuf_line(b, "PublicKey", k->server_b64);
	sbuf_line(b, "PresharedKey", k->psk_b64);
	sbuf_str(b, "AllowedIPs = ");
	prefix_list(b, np->allowed, np->nallowed);
	sbuf_str(b, "\n");
	sbuf_line(b, "Endpoint", np->endpoint);
	if (keepalive) {
		snprintf(num, sizeof(num), "%ld", keepalive);
		sbuf_line(b, "PersistentKeepalive", num);
	}
}

static void server_text(struct sbuf *b, const struct server *s,
			const struct peer_keys *k, const struct newpeer *np,
			const char *name)
{
	char sep[3];

	wgx_config_edit_separator(s->text.p, s->text.len, sep);
	sbuf_add(b, s->text.p, s->text.len);
	sbuf_str(b, sep);
	sbuf_str(b, "[Peer]\n");
	sbuf_line(b, "# Name", name);
	sbuf_line(b, "PublicKey", k->pub_b64);
	sbuf_line(b, "PresharedKey", k->psk_b64);
	sbuf_str(b, "AllowedIPs = ");
	prefix_list(b, np->addr, np->naddr);
	sbuf_str(b, "\n");
}

static void make_keys(struct peer_keys *k, const struct wgx_config *cfg)
{
	wgx_crypto_dh_generate(k->priv, k->pub);
	wgx_crypto_random(k->psk, sizeof(k->psk));
	wgx_key_to_base64(k->priv_b64, k->priv);
	wgx_key_to_base64(k->pub_b64, k->pub);
	wgx_key_to_base64(k->psk_b64, k->psk);
	wgx_key_to_base64(k->server_b64, cfg->public_key);
}

/* Check a text we are about to write: the parser must take it. */
static int verify(const char *what, const struct sbuf *t, unsigned int flags,
		  size_t want_peers, const uint8_t *last_key)
{
	struct wgx_config *cfg = parse_text(what, t, flags, true);
	bool ok = cfg && cfg->n_peers == want_peers &&
		  (!last_key || !memcmp(cfg->peers[want_peers - 1].public_key,
					last_key, WGX_KEY_LEN));

	wgx_config_free(cfg);
	if (!ok)
		return fail("internal error: the %s we made does not read "
			    "back as it should; nothing was changed",
			    what);
	return 0;
}

/* WGXDP_TEST_FAIL_RENAME=1: a test's fault between write and rename. */
static int test_knob(bool *fail_rename)
{
	const char *knob = getenv("WGXDP_TEST_FAIL_RENAME");
	const char *allow = getenv("WGXDP_TEST_TIMERS");

	*fail_rename = knob && !strcmp(knob, "1");
	if (*fail_rename && !(allow && !strcmp(allow, "1")))
		return fail("WGXDP_TEST_FAIL_RENAME is a test knob: refused "
			    "without WGXDP_TEST_TIMERS=1");
	return 0;
}

static int write_files(const struct server *s, const char *client_path,
		       const struct sbuf *client, const struct sbuf *server,
		       bool fail_rename)
{
	struct wgx_atomic_opts o = { 0 };
	int err;

	err = wgx_atomic_file_create(client_path, client->p, client->len, 0600,
				     &o);
	if (err == -EEXIST)
		return fail("peer add: %s exists already; remove it or give "
			    "--out DIR; nothing was changed",
			    client_path);
	if (err)
		return fail("peer add: couldn't write %s (%s: %s); nothing "
			    "was changed",
			    client_path, wgx_atomic_step_name(o.failed),
			    strerror(-err));
	o.fail_before_rename = fail_rename;
	err = wgx_atomic_file_replace(s->path, server->p, server->len, &o);
	if (err) {
		unlink(client_path);
		return fail("peer add: couldn't update %s (%s: %s); it is "
			    "unchanged, and nothing was added",
			    s->path, wgx_atomic_step_name(o.failed),
			    strerror(-err));
	}
	return 0;
}

/* DIR/NAME.conf, DIR from --out or FILE's directory. */
static int client_file(const struct server *s, const char *out,
		       const char *name, char *path, size_t size)
{
	char dir[PATH_MAX];
	struct stat st;
	int n;

	if (out && !realpath(out, dir))
		return fail("peer: --out %s: %s", out, strerror(errno));
	if (out && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return fail("peer: --out %s is not a directory", out);
	n = snprintf(path, size, "%s/%s.conf", out ? dir : s->dir, name);
	if (n < 0 || (size_t)n >= size)
		return fail("peer: the client file's path is too long");
	if (!strcmp(path, s->path))
		return fail("peer: %s would be %s itself; pick another name "
			    "or --out",
			    path, s->path);
	return 0;
}

static int peer_add(int argc, char **argv)
{
	struct server s = { .lock_fd = -1 };
	struct sbuf client = { 0 }, server = { 0 };
	struct peer_keys *k = NULL;
	const struct wgx_config_section *dup;
	struct newpeer np = { 0 };
	struct live live;
	struct add_args a;
	char client_path[PATH_MAX];
	const char *why;
	bool fail_rename;
	int rc;

	rc = parse_add(argc, argv, &a);
	if (rc)
		return rc < 0 ? usage_add(stdout) : 1;
	if (wgx_config_edit_name_check(a.name, &why))
		return fail("peer add: bad name '%s': %s", a.name, why);
	if (test_knob(&fail_rename))
		return 1;
	rc = server_open(&s, a.config, true);
	if (!rc)
		rc = client_file(&s, a.out, a.name, client_path,
				 sizeof(client_path));
	if (rc)
		goto out;
	dup = wgx_config_edit_find(s.sec, s.nsec, a.name);
	if (dup) {
		rc = fail("peer add: %s already has a peer named %s (line "
			  "%u); pick another name",
			  s.path, dup->name, dup->line);
		goto out;
	}
	find_live(s.path, &live);
	rc = pick_addresses(&s, a.ip, &np);
	if (!rc)
		rc = pick_allowed(&s, a.allowed, &np);
	if (!rc)
		rc = pick_dns(a.dns, &np);
	if (!rc)
		rc = pick_endpoint(&s, &live, a.endpoint, &np);
	if (rc)
		goto out;
	k = sodium_malloc(sizeof(*k));
	if (!k) {
		rc = fail("out of memory");
		goto out;
	}
	make_keys(k, s.cfg);
	client_text(&client, k, &np, a.keepalive);
	server_text(&server, &s, k, &np, a.name);
	if (client.err || server.err) {
		rc = fail("out of memory");
		goto out;
	}
	rc = verify("client config", &client, WGX_CONFIG_NEED_PRIVATE_KEY, 1,
		    s.cfg->public_key);
	if (!rc)
		rc = verify("server config", &server,
			    WGX_CONFIG_NEED_PRIVATE_KEY, s.cfg->n_peers + 1,
			    k->pub);
	if (!rc)
		rc = write_files(&s, client_path, &client, &server,
				 fail_rename);
	if (rc)
		goto out;
	fprintf(stderr, "wgxdp: added peer %s (%s) to %s\n", a.name, k->pub_b64,
		s.path);
	printf("%s\n", client_path);
	fflush(stdout);
	if (a.qr && wgx_cli_qr_print(stdout, client.p))
		rc = fail("peer add: couldn't print the QR code; the client "
			  "config is in %s",
			  client_path);
	rc |= apply_live(&live, s.path, "has the new peer");
out:
	sodium_free(k);
	sbuf_free(&client);
	sbuf_free(&server);
	server_free(&s);
	return rc ? 1 : 0;
}

/* ---- peer list -------------------------------------------------------- */

static int one_file_arg(int argc, char **argv, const char *cmd, bool want_name,
			const char **name, const char **config,
			const char **out)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*name = *config = *out = NULL;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:o:h", longopts, NULL)) != -1) {
		if (c == 'c' && *optarg)
			*config = optarg;
		else if (c == 'o' && want_name && *optarg)
			*out = optarg;
		else if (c == 'h')
			return -1;
		else
			return fail("peer %s: bad option '%s'", cmd,
				    argv[optind - 1]);
	}
	if (want_name && optind >= argc)
		return fail("peer %s: missing NAME", cmd);
	if (want_name)
		*name = argv[optind++];
	if (optind < argc)
		return fail("peer %s: unexpected argument '%s'", cmd,
			    argv[optind]);
	if (!*config)
		return fail("peer %s: --config FILE is required", cmd);
	return 0;
}

static int peer_list(int argc, char **argv)
{
	const char *name, *config, *out;
	struct server s;
	int width = 4, rc;

	rc = one_file_arg(argc, argv, "list", false, &name, &config, &out);
	if (rc) {
		if (rc < 0)
			printf("Usage: wgxdp peer list --config FILE\n");
		return rc < 0 ? 0 : 1;
	}
	rc = server_open(&s, config, false);
	if (rc)
		goto out;
	for (size_t i = 0; i < s.nsec; i++) {
		if ((int)strlen(s.sec[i].name) > width)
			width = (int)strlen(s.sec[i].name);
		if (s.sec[i].bad_name)
			fprintf(stderr,
				"wgxdp: warning: %s:%u: the peer's Name is not "
				"a valid name; it is ignored\n",
				s.path, s.sec[i].line);
	}
	printf("%-*s  %-44s  %s\n", width, "NAME", "PUBLIC KEY", "ALLOWED IPS");
	for (size_t i = 0; i < s.nsec; i++) {
		const struct wgx_config_peer *p = section_peer(&s, &s.sec[i]);
		char key[WGX_KEY_BASE64_LEN + 1];
		struct sbuf aips = { 0 };

		if (!p)
			continue;
		wgx_key_to_base64(key, p->public_key);
		prefix_list(&aips, p->allowed_ips, p->n_allowed_ips);
		printf("%-*s  %s  %s\n", width,
		       s.sec[i].name[0] ? s.sec[i].name : "-", key,
		       aips.p ? aips.p : "(none)");
		sbuf_free(&aips);
	}
	if (fflush(stdout) == EOF)
		rc = fail("peer list: %s", strerror(errno));
out:
	server_free(&s);
	return rc ? 1 : 0;
}

/* ---- peer remove ------------------------------------------------------ */

/*
 * The client file we wrote for this peer: removed only when its private
 * key is the peer's, so a file of the same name made by hand is kept.
 */
static void remove_client_file(const char *path, const uint8_t *peer_pub)
{
	struct sbuf text = { 0 };
	struct wgx_config *cfg;
	uint8_t pub[WGX_KEY_LEN];

	if (access(path, F_OK))
		return;
	if (read_file(path, &text)) {
		sbuf_free(&text);
		return;
	}
	cfg = parse_text(path, &text, WGX_CONFIG_NEED_PRIVATE_KEY, true);
	sbuf_free(&text);
	if (!cfg)
		return;
	wgx_crypto_dh_public(pub, cfg->private_key);
	wgx_config_free(cfg);
	if (memcmp(pub, peer_pub, WGX_KEY_LEN)) {
		fprintf(stderr,
			"wgxdp: %s is not this peer's config; it is kept\n",
			path);
		return;
	}
	if (unlink(path) < 0)
		fprintf(stderr, "wgxdp: warning: couldn't remove %s: %s\n",
			path, strerror(errno));
	else
		fprintf(stderr, "wgxdp: removed %s\n", path);
}

static int peer_remove(int argc, char **argv)
{
	const struct wgx_config_section *sec;
	const struct wgx_config_peer *p;
	const char *name, *config, *out, *why;
	struct server s = { .lock_fd = -1 };
	struct sbuf text = { 0 };
	struct wgx_atomic_opts o = { 0 };
	uint8_t pub[WGX_KEY_LEN];
	char client_path[PATH_MAX];
	struct live live;
	bool fail_rename;
	int rc, err;

	rc = one_file_arg(argc, argv, "remove", true, &name, &config, &out);
	if (rc) {
		if (rc < 0)
			printf("Usage: wgxdp peer remove NAME --config FILE "
			       "[--out DIR]\n");
		return rc < 0 ? 0 : 1;
	}
	if (wgx_config_edit_name_check(name, &why))
		return fail("peer remove: bad name '%s': %s", name, why);
	if (test_knob(&fail_rename))
		return 1;
	rc = server_open(&s, config, true);
	if (!rc)
		rc = client_file(&s, out, name, client_path,
				 sizeof(client_path));
	if (rc)
		goto out;
	sec = wgx_config_edit_find(s.sec, s.nsec, name);
	p = sec ? section_peer(&s, sec) : NULL;
	if (!p) {
		rc = fail("peer remove: %s has no peer named %s ('wgxdp peer "
			  "list --config %s' shows the names)",
			  s.path, name, s.path);
		goto out;
	}
	memcpy(pub, p->public_key, sizeof(pub));
	sbuf_add(&text, s.text.p, sec->start);
	sbuf_add(&text, s.text.p + sec->end, s.text.len - sec->end);
	rc = text.err ? fail("out of memory")
		      : verify("server config", &text, 0, s.cfg->n_peers - 1,
			       NULL);
	if (rc)
		goto out;
	o.fail_before_rename = fail_rename;
	err = wgx_atomic_file_replace(s.path, text.p, text.len, &o);
	if (err) {
		rc = fail("peer remove: couldn't update %s (%s: %s); it is "
			  "unchanged",
			  s.path, wgx_atomic_step_name(o.failed),
			  strerror(-err));
		goto out;
	}
	fprintf(stderr, "wgxdp: removed peer %s from %s\n", name, s.path);
	remove_client_file(client_path, pub);
	find_live(s.path, &live);
	rc = apply_live(&live, s.path, "no longer has the peer");
out:
	sbuf_free(&text);
	server_free(&s);
	return rc ? 1 : 0;
}

/* ---- dispatch --------------------------------------------------------- */

static int usage(FILE *f)
{
	fputs("Usage: wgxdp peer add NAME --config FILE [options] (see "
	      "'wgxdp peer add --help')\n"
	      "       wgxdp peer list --config FILE\n"
	      "       wgxdp peer remove NAME --config FILE [--out DIR]\n",
	      f);
	return f == stdout ? 0 : 1;
}

int wgx_cli_peer(int argc, char **argv)
{
	if (argc < 2)
		return fail("peer: missing add, list or remove") |
		       usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "add"))
		return peer_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return peer_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return peer_remove(argc - 1, argv + 1);
	fail("peer: unknown subcommand '%s'", argv[1]);
	return usage(stderr);
}
