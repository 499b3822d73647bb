// SPDX-License-Identifier: MIT
/*
 * The wgxdp command line: a table of subcommands, each a thin call into
 * its module. Every error, usage errors included, exits with status 1 (as
 * wg(8) does) after a message on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_check.h"
#include "cli/cli_keys.h"
#include "cli/cli_metrics.h"
#include "cli/cli_peer.h"
#include "cli/cli_tunnel.h"
#include "cli/cli_up.h"
#include "core/crypto.h"
#include "util/version.h"

struct command {
	const char *name;
	const char *args; /* for the usage line */
	const char *help;
	int nargs; /* -1: the command parses its own arguments */
	int (*run)(char **args);
	int (*run_argv)(int argc, char **argv);
};

static int run_genkey(char **args)
{
	(void)args;
	return wgx_cli_keys_genkey(stdout, stderr);
}

static int run_genpsk(char **args)
{
	(void)args;
	return wgx_cli_keys_genpsk(stdout, stderr);
}

static int run_pubkey(char **args)
{
	(void)args;
	return wgx_cli_keys_pubkey(stdin, stdout, stderr);
}

static int run_check(char **args)
{
	return wgx_cli_check_file(args[0], NULL, stdout, stderr);
}

static const struct command commands[] = {
	{ "genkey", "", "print a new private key (base64), like wg genkey", 0,
	  run_genkey },
	{ "genpsk", "", "print a new preshared key, like wg genpsk", 0,
	  run_genpsk },
	{ "pubkey", "", "read a private key on stdin, print its public key", 0,
	  run_pubkey },
	{ "check", " FILE",
	  "validate a wg/wg-quick config file; changes nothing", 1, run_check },
	{ "attach",
	  " IFACE --config FILE [--mode auto|native|skb|socket] [--name TUN] "
	  "[--workers N] [--tx auto|socket|xsk] [--metrics ADDR:PORT] "
	  "[--foreground] [--force]",
	  "start a tunnel on IFACE", -1, NULL, wgx_cli_attach },
	{ "detach", " IFACE", "stop the tunnel on IFACE", -1, NULL,
	  wgx_cli_detach },
	{ "show", " [TUN] [--json]", "show tunnels, peers and counters", -1,
	  NULL, wgx_cli_show },
	{ "reload", " IFACE", "re-read the config and apply the difference", -1,
	  NULL, wgx_cli_reload },
	{ "peer",
	  " add NAME --config FILE [--ip ADDR] [--endpoint HOST:PORT] "
	  "[--dns IP] [--allowed-ips PREFIX] [--out DIR] [--qr]",
	  "add a client: keys, address, config file, live", -1, NULL,
	  wgx_cli_peer },
	{ "peer", " list --config FILE", "list the peers of a config file", -1,
	  NULL, wgx_cli_peer },
	{ "peer", " remove NAME --config FILE", "remove a client, live", -1,
	  NULL, wgx_cli_peer },
	{ "metrics", " [TUN]", "print the Prometheus metrics of the tunnels",
	  -1, NULL, wgx_cli_metrics },
	{ "up", " IFNAME [--underlay IFACE|auto]",
	  "like wireguard-go IFNAME: a TUN for wg(8) to configure", -1, NULL,
	  wgx_cli_up },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

enum {
	HELP_WIDTH = 80,
	HELP_COLUMN = 26, /* where the descriptions start */
};

/*
 * Print words from *s up to width columns (at least one word); advance *s
 * past them and the spaces after. Returns the columns printed.
 */
static int print_words(FILE *f, const char **s, int width)
{
	const char *p = *s, *end = p;
	int cols;

	while (*end) {
		const char *next = end + strspn(end, " ");

		next += strcspn(next, " ");
		if (next - p > width && end != p)
			break;
		end = next;
	}
	cols = (int)(end - p);
	fwrite(p, 1, (size_t)cols, f);
	*s = end + strspn(end, " ");
	return cols;
}

/*
 * "  NAME ARGS   help", wrapped at HELP_WIDTH: arguments that do not fit
 * continue on indented lines; the help goes on a line of its own, at
 * HELP_COLUMN, when the arguments reach past it. Nothing is ever cut.
 */
static void usage_entry(FILE *f, const char *name, const char *args,
			const char *help)
{
	int indent = 2 + (int)strlen(name) + 1;
	int col;

	fprintf(f, "  %s", name);
	col = 2 + (int)strlen(name);
	while (*args == ' ')
		args++;
	while (*args) {
		if (col > indent - 1) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', f);
			col++;
		}
		col += print_words(f, &args, HELP_WIDTH - col);
	}
	if (col > HELP_COLUMN - 2) {
		fputc('\n', f);
		col = 0;
	}
	fprintf(f, "%*s", HELP_COLUMN - col, "");
	while (*help) {
		print_words(f, &help, HELP_WIDTH - HELP_COLUMN);
		if (*help)
			fprintf(f, "\n%*s", HELP_COLUMN, "");
	}
	fputc('\n', f);
}

static void usage(FILE *f)
{
	fputs("Usage: wgxdp <command> [arguments]\n\nCommands:\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		usage_entry(f, commands[i].name, commands[i].args,
			    commands[i].help);
	usage_entry(f, "help", "", "print this help");
	usage_entry(f, "--version", "", "print the version");
}

static int usage_error(const struct command *c, const char *fmt,
		       const char *what)
{
	fputs("wgxdp: ", stderr);
	fprintf(stderr, fmt, what);
	if (c)
		fprintf(stderr, "\nUsage: wgxdp %s%s\n", c->name, c->args);
	else
		fputs("\nRun 'wgxdp help' for the list of commands.\n", stderr);
	return 1;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c;
	int i;

	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		if (argc > 2)
			return usage_error(NULL, "too many arguments to %s",
					   argv[1]);
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		if (argc > 2)
			return usage_error(NULL, "too many arguments to %s",
					   argv[1]);
		printf("wgxdp %s\n", wgx_version());
		return 0;
	}
	c = find_command(argv[1]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	if (c->nargs < 0) {
		if (wgx_crypto_init() < 0) {
			fprintf(stderr,
				"wgxdp: couldn't initialise libsodium\n");
			return 1;
		}
		return c->run_argv(argc - 1, argv + 1);
	}
	for (i = 2; i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			return usage_error(c, "unknown option '%s'", argv[i]);
	if (argc - 2 < c->nargs)
		return usage_error(c, "%s: missing argument", c->name);
	if (argc - 2 > c->nargs)
		return usage_error(c, "%s: too many arguments", c->name);
	if (wgx_crypto_init() < 0) {
		fprintf(stderr, "wgxdp: couldn't initialise libsodium\n");
		return 1;
	}
	return c->run(argv + 2);
}
