// SPDX-License-Identifier: MIT
/*
 * UDP segmentation offload from an application, for the offload tests:
 *
 *   udp_gso send ADDR PORT SIZE COUNT [ROUNDS]
 *       ROUNDS (1) sendmsg calls, each of COUNT datagrams of SIZE bytes
 *       with UDP_SEGMENT, so the kernel hands the route's device one
 *       super-packet (a USO TUN gets it whole and must cut it).
 *   udp_gso recv PORT TOTAL TIMEOUT_MS
 *       receives until TOTAL datagrams came or TIMEOUT_MS of silence;
 *       checks each datagram's pattern; prints "received N bad B".
 *
 * Datagram k of a round carries bytes (k * 31 + i) & 0xff and its own
 * index in its first two bytes, so a cut at the wrong place shows.
 * Exit status: 0 when all TOTAL arrived intact.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	MAX_BUF = 65536
};

static void fill(uint8_t *p, size_t size, unsigned int k)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)(k * 31 + i);
	p[0] = (uint8_t)(k >> 8);
	if (size > 1)
		p[1] = (uint8_t)k;
}

static int parse_addr(const char *a, const char *port,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

static int do_send(char **argv, int argc)
{
	static uint8_t buf[MAX_BUF];
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t size = (size_t)atoi(argv[4]);
	unsigned int count = (unsigned int)atoi(argv[5]);
	int rounds = argc > 6 ? atoi(argv[6]) : 1;
	int fam = parse_addr(argv[2], argv[3], &ss, &sl), fd;
	int seg = (int)size;

	if (fam < 0 || !size || !count || size * count > sizeof(buf)) {
		fprintf(stderr, "udp_gso: bad arguments\n");
		return 2;
	}
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) < 0) {
		perror("udp_gso: socket");
		return 1;
	}
	for (unsigned int k = 0; k < count; k++)
		fill(buf + k * size, size, k);
	for (int r = 0; r < rounds; r++) {
		if (send(fd, buf, size * count, 0) < 0) {
			perror("udp_gso: send");
			return 1;
		}
		/* Let the receiver keep up: this checks content, not speed. */
		usleep(5000);
	}
	close(fd);
	return 0;
}

static int do_recv(char **argv)
{
	static uint8_t buf[MAX_BUF], want[MAX_BUF];
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons((uint16_t)atoi(argv[2])) };
	long total = atol(argv[3]), got = 0, bad = 0;
	int timeout = atoi(argv[4]), fd, zero = 0;
	struct pollfd pfd;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) <
		    0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udp_gso: bind");
		return 1;
	}
	/* Tell the test we listen. */
	printf("listening\n");
	fflush(stdout);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (got < total && poll(&pfd, 1, timeout) == 1) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		unsigned int k;

		if (n < 2)
			continue;
		k = (unsigned int)(buf[0] << 8 | buf[1]);
		fill(want, (size_t)n, k);
		if (memcmp(buf, want, (size_t)n))
			bad++;
		got++;
	}
	printf("received %ld bad %ld\n", got, bad);
	return got == total && !bad ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "send"))
		return do_send(argv, argc);
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return do_recv(argv);
	fprintf(stderr, "usage: udp_gso send ADDR PORT SIZE COUNT [ROUNDS]\n"
			"       udp_gso recv PORT TOTAL TIMEOUT_MS\n");
	return 2;
}
