// SPDX-License-Identifier: MIT
/*
 * wgx_rxidx: prints the receiver index of the first WireGuard data message
 * (type 4, longer than a keepalive) sent to UDP PORT that crosses IFACE,
 * in either direction, as a decimal number in host order (what `bpftool
 * map dump` shows for the sessions map's index_le on a little-endian
 * host). For tests/netns/t_xdp.sh: "the index the peer is sending with".
 * Reads nothing but headers; exits 1 when none arrives within TIMEOUT_S.
 *
 *   wgx_rxidx IFACE PORT TIMEOUT_S
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	MAX_TIMEOUT_S = 60,
	KEEPALIVE_LEN = 32,
};

/* The UDP payload of an Ethernet frame, or NULL; *len its length. */
static const uint8_t *udp_payload(const uint8_t *f, size_t n, uint16_t port,
				  size_t *len)
{
	const uint8_t *ip = f + ETH_HLEN, *udp;
	uint16_t proto;

	if (n < ETH_HLEN + 40 + 8)
		return NULL;
	proto = (uint16_t)(f[12] << 8 | f[13]);
	if (proto == ETH_P_IP && (ip[0] >> 4) == 4 && ip[9] == IPPROTO_UDP &&
	    !(ip[6] & 0x3f) && !ip[7])
		udp = ip + (ip[0] & 15) * 4;
	else if (proto == ETH_P_IPV6 && (ip[0] >> 4) == 6 &&
		 ip[6] == IPPROTO_UDP)
		udp = ip + 40;
	else
		return NULL;
	if (udp + 8 > f + n || (uint16_t)(udp[2] << 8 | udp[3]) != port)
		return NULL;
	*len = (size_t)(f + n - (udp + 8));
	return udp + 8;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	uint8_t frame[2048];
	double deadline;
	long port, secs;
	int fd;

	if (argc != 4) {
		fputs("Usage: wgx_rxidx IFACE PORT TIMEOUT_S\n", stderr);
		return 2;
	}
	port = strtol(argv[2], NULL, 10);
	secs = strtol(argv[3], NULL, 10);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex || port <= 0 || port > 65535 || secs <= 0 ||
	    secs > MAX_TIMEOUT_S) {
		fputs("wgx_rxidx: bad interface, port or timeout\n", stderr);
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("wgx_rxidx: packet socket");
		return 1;
	}
	deadline = mono_s() + (double)secs;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = deadline - mono_s();
		const uint8_t *p;
		size_t len;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			break;
		n = recv(fd, frame, sizeof(frame), 0);
		if (n < 0)
			continue;
		p = udp_payload(frame, (size_t)n, (uint16_t)port, &len);
		if (!p || len <= KEEPALIVE_LEN || p[0] != 4 || p[1] || p[2] ||
		    p[3])
			continue;
		printf("%u\n", (unsigned int)p[4] | (unsigned int)p[5] << 8 |
				       (unsigned int)p[6] << 16 |
				       (unsigned int)p[7] << 24);
		close(fd);
		return 0;
	}
	fprintf(stderr,
		"wgx_rxidx: no data message to port %ld on %s "
		"within %ld s\n",
		port, argv[1], secs);
	close(fd);
	return 1;
}
