// SPDX-License-Identifier: MIT
/*
 * Metrics benchmark: what one scrape costs the agent's loop on a device
 * of N peers. The snapshot runs in one go (the loop is held for it); the
 * text is then produced in 64 KiB pieces, as the HTTP server does, each
 * piece a separate hold of the loop. Reports the snapshot time, the
 * longest and total piece time, and the size of the text.
 *
 *   metrics [N]      default 100000
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agent/http.h"
#include "agent/metrics.h"
#include "agent/peer_config.h"
#include "core/crypto.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct wgx_metrics_source src = { .tun = "wg0",
					  .iface = "eth0",
					  .mode = "native" };
	struct wgx_device *dev = NULL;
	struct wgx_metrics *m = NULL;
	static char piece[WGX_HTTP_CHUNK];
	double t0, snap, worst = 0, total = 0;
	size_t bytes = 0, pieces = 0, got;

	if (n < 1 || wgx_crypto_init() < 0 || wgx_device_new(&dev))
		return 1;
	for (long i = 0; i < n; i++) {
		uint8_t key[32];
		struct wgx_peer *p;

		wgx_crypto_random(key, sizeof(key));
		if (wgx_peer_config_add(dev, key, NULL, &p))
			return 1;
		atomic_store(&p->rx_bytes, (uint64_t)i * 1000003);
		atomic_store(&p->tx_bytes, (uint64_t)i * 999983);
		p->last_handshake_sec = 1700000000 + (uint64_t)i;
	}
	src.dev = dev;
	t0 = now_ms();
	if (wgx_metrics_snapshot(&src, &m))
		return 1;
	snap = now_ms() - t0;
	do {
		double t = now_ms(), d;

		got = wgx_metrics_read(m, piece, sizeof(piece));
		d = now_ms() - t;
		total += d;
		worst = d > worst ? d : worst;
		bytes += got;
		pieces += got > 0;
	} while (got);
	printf("peers %ld: snapshot %.2f ms; text %.1f MiB in %zu pieces of "
	       "64 KiB, %.1f ms in all, longest piece %.3f ms\n",
	       n, snap, (double)bytes / (1 << 20), pieces, total, worst);
	wgx_metrics_free(m);
	wgx_device_free(dev);
	return 0;
}
