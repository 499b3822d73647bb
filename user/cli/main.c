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
#include "cli/cli_tunnel.h"
#include "core/crypto.h"

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
	  " IFACE --config FILE [--mode M] [--tx T] [--name TUN] "
	  "[--foreground]",
	  "start a tunnel on IFACE", -1, NULL, wgx_cli_attach },
	{ "detach", " IFACE", "stop the tunnel on IFACE", -1, NULL,
	  wgx_cli_detach },
	{ "show", " [TUN] [--json]", "show tunnels, peers and counters", -1,
	  NULL, wgx_cli_show },
	{ "reload", " IFACE", "re-read the config and apply the difference", -1,
	  NULL, wgx_cli_reload },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	char left[32];

	fputs("Usage: wgxdp <command> [arguments]\n\nCommands:\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		snprintf(left, sizeof(left), "%s%s", commands[i].name,
			 commands[i].args);
		fprintf(f, "  %-13s %s\n", left, commands[i].help);
	}
	fprintf(f, "  %-13s %s\n", "help", "print this help");
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
