// SPDX-License-Identifier: MIT
/*
 * The TUN coalescer: the input as a run of packets, each a 2-byte
 * big-endian length and that many bytes, merged as the receive path does
 * (start with the first, append while they continue it, finish). Each
 * packet sits in a buffer of its own exact size, so any read past it is
 * caught; a merge must describe exactly the segments it took.
 */
#include "fuzz.h"

#include "datapath/gso.h"

enum {
	MAX_PKTS = 64
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt[MAX_PKTS];
	size_t len[MAX_PKTS], n = 0, off = 0, total, used = 1;
	struct wgx_vnet_hdr vh;
	struct wgx_gro g;

	while (n < MAX_PKTS && off + 2 <= size) {
		size_t l = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (l > size - off)
			l = size - off;
		pkt[n] = malloc(l ? l : 1);
		FUZZ_ASSERT(pkt[n]);
		memcpy(pkt[n], data + off, l);
		len[n++] = l;
		off += l;
	}
	if (n && wgx_gro_start(&g, pkt[0], len[0])) {
		total = len[0];
		while (used < n &&
		       wgx_gro_append(&g, pkt[used], len[used], MAX_PKTS)) {
			total += len[used] - g.hdr_len;
			used++;
		}
		FUZZ_ASSERT(g.count == used && g.total == total);
		FUZZ_ASSERT(total <= WGX_GSO_MAX_LEN);
		wgx_gro_finish(&g, &vh);
		FUZZ_ASSERT(used == 1 ? vh.gso_type == WGX_VNET_GSO_NONE
				      : vh.gso_type != WGX_VNET_GSO_NONE &&
						vh.gso_size == g.mss);
	}
	for (size_t i = 0; i < n; i++)
		free(pkt[i]);
	return 0;
}
