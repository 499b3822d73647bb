// SPDX-License-Identifier: MIT
/*
 * Metrics and their HTTP server, without a network namespace: the
 * exposition of a real device read whole or in the smallest pieces gives
 * the same text, peers carry their names, merged expositions keep one
 * HELP per family; the server on loopback answers GET, HEAD and every
 * error status, streams a large body, and drops a client that says
 * nothing once its deadline passes.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/http.h"
#include "agent/metrics.h"
#include "agent/peer_config.h"
#include "cli/cli_metrics.h"
#include "core/crypto.h"
#include "core/key.h"

/* ---- the exposition --------------------------------------------------- */

static char *read_all(struct wgx_metrics *m, size_t piece, size_t *len)
{
	size_t cap = 1 << 20, off = 0, n;
	char *buf = malloc(cap), *chunk = malloc(piece);

	*len = 0;
	if (!buf || !chunk) {
		free(buf);
		free(chunk);
		return NULL;
	}
	while ((n = wgx_metrics_read(m, chunk, piece))) {
		if (off + n + 1 > cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger) {
				free(buf);
				free(chunk);
				return NULL;
			}
			buf = bigger;
		}
		memcpy(buf + off, chunk, n);
		off += n;
	}
	free(chunk);
	buf[off] = '\0';
	*len = off;
	return buf;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_exposition(void)
{
	struct wgx_device *dev = NULL;
	struct wgx_peer_names names = { 0 };
	struct wgx_metrics_source src = {
		.tun = "wg9", .iface = "eth9", .mode = "socket", .names = &names
	};
	uint8_t keys[3][WGX_KEY_LEN];
	char b64[WGX_KEY_BASE64_LEN + 1], text[512], line[256];
	struct wgx_metrics *m1 = NULL, *m2 = NULL;
	char *whole = NULL, *pieces = NULL;
	size_t len1 = 0, len2 = 0;

	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	for (int i = 0; i < 3; i++) {
		struct wgx_peer *p = NULL;

		wgx_crypto_random(keys[i], WGX_KEY_LEN);
		CHECK(wgx_peer_config_add(dev, keys[i], NULL, &p) == 0);
		if (!p)
			goto out;
		atomic_store(&p->rx_bytes, 1000 * (i + 1));
		atomic_store(&p->tx_packets, 7);
		p->handshakes = (uint64_t)i;
		p->last_handshake_sec = 1700000000;
	}
	wgx_key_to_base64(b64, keys[1]);
	snprintf(text, sizeof(text),
		 "[Interface]\n[Peer]\n# Name = alice\nPublicKey = %s\n", b64);
	CHECK(wgx_peer_names_from_text(&names, text, strlen(text)) == 0);
	src.dev = dev;
	CHECK(wgx_metrics_snapshot(&src, &m1) == 0);
	CHECK(wgx_metrics_snapshot(&src, &m2) == 0);
	if (!m1 || !m2)
		goto out;
	whole = read_all(m1, 1 << 20, &len1);
	pieces = read_all(m2, WGX_METRICS_LINE_MAX, &len2);
	CHECK(whole && pieces && len1 == len2 && !strcmp(whole, pieces));
	if (!whole)
		goto out;
	CHECK(len1 > 0 && whole[len1 - 1] == '\n');
	CHECK(count(whole, "# HELP wgxdp_peer_receive_bytes_total ") == 1);
	CHECK(count(whole, "\nwgxdp_peer_receive_bytes_total{") == 3);
	CHECK(count(whole, "name=\"alice\"") == 6); /* one per peer family */
	snprintf(line, sizeof(line),
		 "wgxdp_peer_receive_bytes_total{interface=\"wg9\","
		 "public_key=\"%s\",name=\"alice\"} 2000\n",
		 b64);
	CHECK(strstr(whole, line) != NULL);
	CHECK(strstr(whole, "wgxdp_peers{interface=\"wg9\"} 3\n") != NULL);
	CHECK(strstr(whole, "wgxdp_sessions{interface=\"wg9\"} 0\n") != NULL);
	CHECK(strstr(whole,
		     "wgxdp_dropped_packets_total{interface=\"wg9\","
		     "layer=\"datapath\",reason=\"replay\"} 0\n") != NULL);
	CHECK(strstr(whole, "# TYPE wgxdp_peer_latest_handshake_seconds "
			    "gauge\n") != NULL);
	/* No XDP program, no workers: those families are left out. */
	CHECK(strstr(whole, "wgxdp_xdp_packets_total") == NULL);
	CHECK(strstr(whole, "wgxdp_worker_") == NULL);
	/* Nothing after the end. */
	CHECK(wgx_metrics_read(m1, pieces, WGX_METRICS_LINE_MAX) == 0);
out:
	free(whole);
	free(pieces);
	wgx_metrics_free(m1);
	wgx_metrics_free(m2);
	wgx_peer_names_free(&names);
	wgx_device_free(dev);
}

static void test_merge(void)
{
	const char *texts[] = {
		"# HELP a x\n# TYPE a gauge\na{interface=\"1\"} 1\n"
		"# HELP b y\n# TYPE b gauge\nb{interface=\"1\"} 2\n",
		"# HELP a x\n# TYPE a gauge\na{interface=\"2\"} 3\n"
		"# HELP c z\n# TYPE c gauge\nc{interface=\"2\"} 4\n"
		"# HELP b y\n# TYPE b gauge\nb{interface=\"2\"} 5\n",
	};
	const char *bad[] = { "a 1\n" };
	char *out = NULL;
	size_t len = 0;

	CHECK(wgx_cli_metrics_merge(texts, 2, &out, &len) == 0);
	CHECK(out && !strcmp(out, "# HELP a x\n# TYPE a gauge\n"
				  "a{interface=\"1\"} 1\na{interface=\"2\"} 3\n"
				  "# HELP b y\n# TYPE b gauge\n"
				  "b{interface=\"1\"} 2\nb{interface=\"2\"} 5\n"
				  "# HELP c z\n# TYPE c gauge\n"
				  "c{interface=\"2\"} 4\n"));
	CHECK(out && len == strlen(out));
	free(out);
	out = NULL;
	CHECK(wgx_cli_metrics_merge(texts, 0, &out, &len) == 0 && len == 0);
	free(out);
	CHECK(wgx_cli_metrics_merge(bad, 1, &out, &len) == -EPROTO);
}

/* ---- the HTTP server -------------------------------------------------- */

/* A body of n bytes "0123456789012...", produced in pieces. */
struct digits {
	size_t left, at;
};

static size_t digits_read(void *state, char *buf, size_t len)
{
	struct digits *d = state;
	size_t n = d->left < len ? d->left : len;

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('0' + (d->at++ % 10));
	d->left -= n;
	return n;
}

static size_t body_size;
static int body_frees;

static void digits_free(void *state)
{
	body_frees++;
	free(state);
}

static int digits_route(void *ctx, struct wgx_http_body *body)
{
	struct digits *d = calloc(1, sizeof(*d));

	(void)ctx;
	if (!d)
		return -ENOMEM;
	d->left = body_size;
	*body = (struct wgx_http_body){ d, digits_read, digits_free };
	// cppcheck-suppress memleak ; the server frees it through the body
	return 0;
}

static const struct wgx_http_route routes[] = {
	{ "/metrics", "text/plain", digits_route },
	{ NULL, NULL, NULL },
};

static int64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Send req to the server and serve until the server closes: the whole
 * answer, malloc'd. The client side is non-blocking: one thread does both.
 */
static char *exchange(struct wgx_http_server *s, const char *req, size_t *len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t cap = 1 << 16, off = 0;
	char *buf = malloc(cap);
	int64_t deadline = ms() + 5000;

	if (fd < 0 || !buf ||
	    connect(fd, &s->addr.sa, wgx_sockaddr_len(&s->addr)) < 0 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (ms() < deadline) {
		ssize_t n;
		struct pollfd p = { .fd = s->fd, .events = POLLIN };

		poll(&p, 1, 10);
		wgx_http_server_serve(s);
		if (off + 4096 > cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger)
				break;
			buf = bigger;
		}
		n = read(fd, buf + off, cap - off - 1);
		if (n == 0)
			break;
		if (n > 0)
			off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*len = off;
	return buf;
}

static bool starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

static void test_http(void)
{
	struct wgx_http_server s;
	union wgx_sockaddr a;
	char *r, big[10000];
	size_t len;

	CHECK(wgx_http_parse_addr("127.0.0.1:0", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr("127.0.0.1:1", &a) == 0);
	a.in4.sin_port = 0; /* let the kernel pick, for the test */
	CHECK(wgx_http_server_open(&s, &a, routes, NULL) == 0);
	if (s.fd < 0)
		return;
	body_size = 100;
	r = exchange(&s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 200 OK\r\n"));
	CHECK(r && strstr(r, "\r\nContent-Type: text/plain\r\n"));
	CHECK(r && strstr(r, "\r\n\r\n0123456789") &&
	      strlen(strstr(r, "\r\n\r\n") + 4) == 100);
	free(r);
	/* Bigger than many chunks: streamed whole, in order. */
	body_size = 5 * WGX_HTTP_CHUNK + 17;
	r = exchange(&s, "GET /metrics?x HTTP/1.0\n\n", &len);
	CHECK(r && strstr(r, "\r\n\r\n") &&
	      strlen(strstr(r, "\r\n\r\n") + 4) == body_size);
	CHECK(r && strstr(r, "\r\n\r\n")[4 + body_size - 1] ==
			   (char)('0' + (body_size - 1) % 10));
	free(r);
	r = exchange(&s, "HEAD /metrics HTTP/1.1\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 200 OK\r\n") && !strstr(r, "\r\n\r\n")[4]);
	free(r);
	r = exchange(&s, "GET /other HTTP/1.1\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 404 "));
	free(r);
	r = exchange(&s, "POST /metrics HTTP/1.1\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 405 ") && strstr(r, "Allow: GET, HEAD"));
	free(r);
	r = exchange(&s, "GET /metrics HTTP/3\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 505 "));
	free(r);
	r = exchange(&s, "GET /metrics\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 400 "));
	free(r);
	r = exchange(&s, "GET metrics HTTP/1.1\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 400 "));
	free(r);
	r = exchange(&s, "GET /metrics HTTP/1.1\r\nbad header\r\n\r\n", &len);
	CHECK(starts(r, "HTTP/1.1 400 "));
	free(r);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	r = exchange(&s, big, &len);
	CHECK(starts(r, "HTTP/1.1 431 "));
	free(r);
	/* A client that never finishes its request is dropped in time. */
	s.request_ms = 100;
	r = exchange(&s, "GET /metrics HTTP/1.1\r\n", &len);
	CHECK(r && len == 0);
	free(r);
	CHECK(s.open == 0);
	CHECK(body_frees == 3); /* every body given back */
	wgx_http_server_close(&s);
	CHECK(s.fd == -1);
	wgx_http_server_close(&s); /* harmless twice */
}

static void test_http_addr(void)
{
	union wgx_sockaddr a;

	CHECK(wgx_http_parse_addr("[::1]:9586", &a) == 0 &&
	      a.sa.sa_family == AF_INET6 && ntohs(a.in6.sin6_port) == 9586);
	CHECK(wgx_http_parse_addr("0.0.0.0:65535", &a) == 0);
	CHECK(wgx_http_parse_addr("127.0.0.1", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr("127.0.0.1:65536", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr("127.0.0.1:-1", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr("127.0.0.1:", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr("localhost:80", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr("::1:80", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr("[::1]80", &a) == -EINVAL);
	CHECK(wgx_http_parse_addr(":80", &a) == -EINVAL);
}

static const struct wgx_test metrics_tests[] = {
	{ "metrics: exposition whole or in pieces, names", test_exposition },
	{ "metrics: merging expositions", test_merge },
	{ "http: GET, HEAD, streaming, every error, deadlines", test_http },
	{ "http: --metrics addresses", test_http_addr },
};
WGX_SUITE(metrics_tests)
