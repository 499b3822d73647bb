// SPDX-License-Identifier: MIT
/*
 * Many peers for the scale test and benchmark, fast (wg genkey would take
 * minutes for 100,000):
 *
 *   wgx_confgen N BASE4 BASE6 > peers.conf
 *
 * prints N [Peer] sections with random public keys (points nobody holds
 * the private key of: they only need to parse and never answer) and
 * AllowedIPs BASE4+1+i/32 and BASE6 ... +1+i/128, counting from the
 * address after BASE4/BASE6, so a wg-quick Address covering the range
 * needs no route per peer. Example: wgx_confgen 100000 10.64.0.0 fd00:64::
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/key.h"

int main(int argc, char **argv)
{
	struct in_addr v4;
	struct in6_addr v6;
	unsigned long n;
	uint32_t base4;

	if (argc != 4 || inet_pton(AF_INET, argv[2], &v4) != 1 ||
	    inet_pton(AF_INET6, argv[3], &v6) != 1) {
		fprintf(stderr, "usage: wgx_confgen N BASE4 BASE6\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	if (n == 0 || n > 16000000) {
		fprintf(stderr, "wgx_confgen: N must be 1..16000000\n");
		return 2;
	}
	if (wgx_crypto_init() < 0)
		return 1;
	base4 = ntohl(v4.s_addr);
	for (unsigned long i = 0; i < n; i++) {
		char key[WGX_KEY_BASE64_LEN + 1], a4[INET_ADDRSTRLEN],
			a6[INET6_ADDRSTRLEN];
		uint8_t pub[WGX_KEY_LEN];
		struct in_addr p4 = { htonl(base4 + 1 + (uint32_t)i) };
		struct in6_addr p6 = v6;
		uint32_t low = (uint32_t)(i + 1);

		wgx_crypto_random(pub, sizeof(pub));
		wgx_key_to_base64(key, pub);
		for (int b = 0; b < 4; b++)
			p6.s6_addr[15 - b] = (uint8_t)(low >> (8 * b));
		inet_ntop(AF_INET, &p4, a4, sizeof(a4));
		inet_ntop(AF_INET6, &p6, a6, sizeof(a6));
		printf("\n[Peer]\nPublicKey = %s\nAllowedIPs = %s/32, %s/128\n",
		       key, a4, a6);
	}
	return ferror(stdout) ? 1 : 0;
}
