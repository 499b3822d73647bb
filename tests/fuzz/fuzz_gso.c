// SPDX-License-Identifier: MIT
/*
 * The super-packet splitter: the first 10 bytes as the virtio header a TUN
 * hands out, the rest as the packet. A plan that is accepted is written
 * out segment by segment; the segments must add up to the packet (every
 * one carries the headers, the payload is cut, never duplicated or lost)
 * and each fits the largest IP packet.
 */
#include "fuzz.h"

#include "datapath/gso.h"

static uint8_t out[WGX_GSO_MAX_LEN + 64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgx_vnet_hdr vh;
	struct wgx_gso g;
	size_t payload = 0;
	uint8_t *pkt;
	int n;

	if (size < WGX_VNET_HDR_LEN || size > WGX_VNET_HDR_LEN + 70000)
		return 0;
	memcpy(&vh, data, WGX_VNET_HDR_LEN);
	/* An exact copy: ASan sees any read past the packet. */
	pkt = malloc(size - WGX_VNET_HDR_LEN + 1);
	FUZZ_ASSERT(pkt);
	memcpy(pkt, data + WGX_VNET_HDR_LEN, size - WGX_VNET_HDR_LEN);
	n = wgx_gso_prepare(&g, &vh, pkt, size - WGX_VNET_HDR_LEN);
	if (n < 0) {
		free(pkt);
		return 0;
	}
	FUZZ_ASSERT((unsigned int)n == g.nsegs && n >= 1);
	for (unsigned int i = 0; i < g.nsegs; i++) {
		size_t len = wgx_gso_seg_len(&g, i);

		FUZZ_ASSERT(len <= sizeof(out));
		FUZZ_ASSERT(g.nsegs == 1 || len > g.hdr_len);
		wgx_gso_write(&g, i, out);
		payload += g.nsegs == 1 ? len : len - g.hdr_len;
	}
	FUZZ_ASSERT(g.nsegs == 1 ? payload == g.len
				 : payload + g.hdr_len == g.len);
	free(pkt);
	return 0;
}
