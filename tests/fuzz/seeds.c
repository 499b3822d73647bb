// SPDX-License-Identifier: MIT
/*
 * Writes the starting corpus of every harness under DIR/<harness>/: the
 * messages of shared/vectors (handshake.json, the wireguard-go capture),
 * a cookie reply made for the vectors' initiation, config files like the
 * unit tests', and super-packets and segment runs built like the GSO unit
 * test's fixtures. Usage: seeds DIR (vectors from $WGX_VECTORS).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#include "core/cookie.h"
#include "core/crypto.h"
#include "datapath/gso.h"

static const char *outdir;
static int failed;

static void put(const char *harness, const char *name, const void *data,
		size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, harness);
	if (mkdir(path, 0755) && errno != EEXIST)
		failed = 1;
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, harness, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len)
		failed = 1;
	if (f)
		fclose(f);
}

static void put_vec(const char *harness, const char *name, const char *file,
		    const char *path)
{
	uint8_t buf[4096];
	size_t n = fuzz_vec(file, path, buf, sizeof(buf));

	put(harness, name, buf, n);
}

static void handshakes(void)
{
	uint8_t init[148], pub[32];
	struct wgx_cookie_checker checker;
	struct wgx_msg_cookie_reply reply;
	struct wgx_cookie_src src = { .addr = { 10, 0, 0, 1 },
				      .addr_len = 4,
				      .port = 4242 };

	put_vec("initiation", "psk", "handshake", "cases.1.initiation");
	put_vec("initiation", "no-psk", "handshake", "cases.0.initiation");
	put_vec("initiation", "wireguard-go", "wireguard-go-initiation",
		"initiation");
	put_vec("response", "psk", "handshake", "cases.1.response");
	put_vec("response", "no-psk", "handshake", "cases.0.response");
	put_vec("data", "ping", "handshake", "cases.1.transport.0.message");
	put_vec("data", "keepalive", "handshake",
		"cases.1.transport.1.message");
	put_vec("data", "other-key", "handshake",
		"cases.0.transport.0.message");
	/* A reply the harness's maker takes, and what the checker sees. */
	fuzz_vec("handshake", "inputs.responder_static_public", pub, 32);
	fuzz_vec("handshake", "cases.1.initiation", init, 148);
	wgx_cookie_checker_init(&checker);
	wgx_cookie_checker_set_public_key(&checker, pub);
	if (wgx_cookie_create_reply(&checker, &reply, init, sizeof(init), &src,
				    FUZZ_NOW))
		failed = 1;
	put("cookie", "reply", &reply, sizeof(reply));
	put_vec("cookie", "initiation", "handshake", "cases.1.initiation");
	put_vec("cookie", "response", "handshake", "cases.1.response");
}

static void configs(void)
{
	static const char *const texts[] = {
		"[Interface]\nPrivateKey = "
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
		"ListenPort = 51820\nFwMark = 0x1234\nAddress = 10.0.0.1/24, "
		"fd00::1/64\nDNS = 1.1.1.1, example.com\nMTU = 1420\n"
		"Table = 1234\nPostUp = echo a=b # kept\nSaveConfig = true\n"
		"[Peer]\nPublicKey = "
		"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		"PresharedKey = sj6aZnhZErgCLNi2EVZyh0N5/5y+orjBTogfxjjDSqU=\n"
		"AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
		"Endpoint = vpn.example:51820\nPersistentKeepalive = 25\n"
		"[Peer]\nPublicKey = "
		"Q9FjT3mzuL8AJnzV03DDX7vPqSbxhiHkzqZbNgNDvHw=\n"
		"Endpoint = [2001:db8::1]:4500\nAllowedIPs = 0.0.0.0/0, ::/0\n",
		"[INTERFACE] # c\r\nprivatekey=yAnz5TF+lXXJte14tji3zlMNq+hd2rYU"
		"IgJBgB3fBmk=\r\n  Listen Port\t=\t 5 1 8 2 0\n[ peer ]\n"
		"PUBLICKEY = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		"Allowed IPs = 10.0.0.0 / 8 ,fd00::/8\n"
		"ENDPOINT = [ fd00::1 ] : 51820\n",
		"[Interface]\nPrivateKey: "
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
		"PrivateKey yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
		"[Peer] PresharedKey = sj6aZnhZErgCLNi2EVZyh0N5/5y+orjBTogfxjjD"
		"SqU=\nAllowedIPs = 10.0.0.0/33,+1.2.3.4\nEndpoint = "
		"[::1]51820\n",
		"[Peer]\nPublicKey = "
		"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		"[Peer]\nPublicKey = "
		"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		"AllowedIPs = 10.1.2.3/8\n[Interface]\nMTU = 1279\n"
		"Address = fd00::1/64\nTable = off\nFwMark = off\n",
	};
	char name[16];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(name, sizeof(name), "conf%zu", i);
		put("config", name, texts[i], strlen(texts[i]));
	}
}

/* What wg(8) writes to a UAPI socket, and some of what it never does. */
static void uapi_requests(void)
{
	static const char *const texts[] = {
		"get=1\n\n",
		"set=1\nprivate_key=e84b5a6d2717c1003a13b431570353dbaca9146cf1"
		"50c5f8575680feba52027a\nlisten_port=51820\nfwmark=0\n"
		"replace_peers=true\npublic_key=b85996fecc9c7f1fc6d2572a76eda"
		"11d59bcd20be8e543b15ce4bd85a8e75a33\npreshared_key=188515093e"
		"952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
		"replace_allowed_ips=true\nallowed_ip=192.168.4.4/32\n"
		"allowed_ip=fd00::/64\nallowed_ip=-10.0.0.0/8\n"
		"endpoint=[fe80::1%1]:51820\npersistent_keepalive_interval=25"
		"\nprotocol_version=1\n\nget=1\n\n",
		"set=1\npublic_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e5"
		"43b15ce4bd85a8e75a33\nremove=true\n\n",
		"set=1\npublic_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e5"
		"43b15ce4bd85a8e75a33\nupdate_only=true\nendpoint=1.2.3.4:5"
		"\n\n",
		"set=1\npublic_key=zz\nlisten_port=1\nbogus\n\nget=1\n\n",
		"set=1\nprivate_key=E84B5A6D2717C1003A13B431570353DBACA9146CF1"
		"50C5F8575680FEBA52027A\n",
	};
	char name[16];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(name, sizeof(name), "req%zu", i);
		put("uapi", name, texts[i], strlen(texts[i]));
	}
}

/* ---- packets ---------------------------------------------------------- */

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* IPv4 or IPv6, then TCP or UDP with payload bytes; full checksums. */
static size_t packet(uint8_t *p, bool v6, bool tcp, size_t payload,
		     uint32_t seq, uint16_t id)
{
	size_t ip = v6 ? 40 : 20, l4 = tcp ? 20 : 8, len = ip + l4 + payload;
	uint8_t ph[40];
	size_t alen = v6 ? 16 : 4, n;

	memset(p, 0, len);
	if (v6) {
		p[0] = 0x60;
		wr16(p + 4, (uint16_t)(len - 40));
		p[6] = tcp ? 6 : 17;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		wr16(p + 2, (uint16_t)len);
		wr16(p + 4, id);
		wr16(p + 6, 0x4000);
		p[8] = 64;
		p[9] = tcp ? 6 : 17;
		p[12] = 10;
		p[15] = 1;
		p[16] = 10;
		p[19] = 2;
		wr16(p + 10, (uint16_t)~sum16(p, 20, 0));
	}
	wr16(p + ip, 40000);
	wr16(p + ip + 2, 5201);
	if (tcp) {
		wr16(p + ip + 4, (uint16_t)(seq >> 16));
		wr16(p + ip + 6, (uint16_t)seq);
		wr16(p + ip + 8, 0x1234);
		p[ip + 12] = 0x50;
		p[ip + 13] = 0x10; /* ACK */
		wr16(p + ip + 14, 512);
	} else {
		wr16(p + ip + 4, (uint16_t)(l4 + payload));
	}
	for (size_t i = 0; i < payload; i++)
		p[ip + l4 + i] = (uint8_t)(i * 7);
	memcpy(ph, p + (v6 ? 8 : 12), 2 * alen);
	n = 2 * alen;
	ph[n++] = 0;
	ph[n++] = tcp ? 6 : 17;
	ph[n++] = (uint8_t)((l4 + payload) >> 8);
	ph[n++] = (uint8_t)(l4 + payload);
	wr16(p + ip + (tcp ? 16 : 6),
	     (uint16_t)~sum16(p + ip, l4 + payload, sum16(ph, n, 0)));
	return len;
}

static void gso_seed(const char *name, bool v6, bool tcp, size_t payload,
		     uint16_t mss)
{
	static uint8_t buf[WGX_VNET_HDR_LEN + 70000];
	struct wgx_vnet_hdr vh = { 0 };
	size_t ip = v6 ? 40 : 20, len;

	len = packet(buf + WGX_VNET_HDR_LEN, v6, tcp, payload, 1000, 7);
	vh.flags = WGX_VNET_F_NEEDS_CSUM;
	vh.gso_type = !mss  ? WGX_VNET_GSO_NONE
		      : tcp ? (v6 ? WGX_VNET_GSO_TCPV6 : WGX_VNET_GSO_TCPV4)
			    : WGX_VNET_GSO_UDP_L4;
	vh.gso_size = mss;
	vh.hdr_len = (uint16_t)(ip + (tcp ? 20 : 8));
	vh.csum_start = (uint16_t)ip;
	vh.csum_offset = tcp ? 16 : 6;
	memcpy(buf, &vh, sizeof(vh));
	put("gso", name, buf, WGX_VNET_HDR_LEN + len);
}

/* A run of segments that merge: 2-byte lengths, then each packet. */
static void gro_seed(const char *name, bool v6, size_t segs, size_t mss)
{
	static uint8_t buf[64 * 1600];
	size_t o = 0;

	for (size_t i = 0; i < segs; i++) {
		size_t pay = i + 1 == segs ? mss / 2 : mss;
		size_t len =
			packet(buf + o + 2, v6, true, pay,
			       1000 + (uint32_t)(i * mss), (uint16_t)(7 + i));

		wr16(buf + o, (uint16_t)len);
		o += 2 + len;
	}
	put("gro", name, buf, o);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	if (wgx_crypto_init())
		return 1;
	handshakes();
	configs();
	uapi_requests();
	gso_seed("tcp4", false, true, 4000, 1400);
	gso_seed("tcp6", true, true, 9000, 1380);
	gso_seed("udp4", false, false, 3000, 1200);
	gso_seed("plain-csum", false, true, 100, 0);
	gro_seed("tcp4", false, 4, 1400);
	gro_seed("tcp6", true, 3, 1360);
	if (failed)
		fprintf(stderr, "seeds: could not write every seed\n");
	return failed;
}
