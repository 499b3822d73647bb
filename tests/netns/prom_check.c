// SPDX-License-Identifier: MIT
/*
 * A strict parser of the Prometheus text exposition format (0.0.4), for
 * the metrics tests: it rejects whatever the format does not allow and
 * what a careful exporter should never write.
 *
 *   - every line ends in '\n'; no blank lines; comments are only
 *     "# HELP name text" and "# TYPE name type", each at most once per
 *     family and before the family's first sample;
 *   - names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 *     [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"; a label appears
 *     once per sample; label values are quoted, with only \\, \" and \n
 *     as escapes; HELP text has only \\ and \n;
 *   - every sample belongs to a family whose TYPE came first, and a
 *     family's lines are contiguous; a counter's samples are named
 *     NAME_total with a TYPE for NAME_total, and are >= 0;
 *   - values are floats (or +Inf, -Inf, NaN), an optional timestamp an
 *     integer; no two samples have the same name and labels.
 *
 * Usage: prom_check [FILE]   (stdin by default)
 * Prints each sample as "name{k="v",...} value" with labels sorted, then
 * exits 0; on the first error prints "line N: what" and exits 1.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAX_LINE = 1 << 16,
	MAX_LABELS = 32,
	MAX_FAMILIES = 4096,
};

struct family {
	char name[256];
	bool help, type, samples, closed;
	char kind[16];
};

static struct family fam[MAX_FAMILIES];
static size_t nfam;
static struct family *current;
static unsigned long lineno;

/* Canonical sample keys, to find duplicates. */
static char **seen;
static size_t nseen, capseen;

static void die(const char *what, const char *detail)
{
	printf("line %lu: %s%s%s\n", lineno, what, detail ? ": " : "",
	       detail ? detail : "");
	exit(1);
}

static bool name_start(int c, bool metric)
{
	return isalpha(c) || c == '_' || (metric && c == ':');
}

static bool name_char(int c, bool metric)
{
	return isalnum(c) || c == '_' || (metric && c == ':');
}

/* A name at *p (advanced past it) into out. */
static void read_name(const char **p, char *out, size_t size, bool metric)
{
	size_t n = 0;

	if (!name_start((unsigned char)**p, metric))
		die(metric ? "bad metric name" : "bad label name", *p);
	while (name_char((unsigned char)**p, metric)) {
		if (n + 1 >= size)
			die("name too long", NULL);
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
}

static struct family *find(const char *name)
{
	for (size_t i = 0; i < nfam; i++)
		if (!strcmp(fam[i].name, name))
			return &fam[i];
	return NULL;
}

/* The family a HELP, TYPE or sample line is about; opens a new one. */
static struct family *enter(const char *name)
{
	struct family *f = find(name);

	if (f && f != current && f->closed)
		die("family's lines are not contiguous", name);
	if (!f) {
		if (nfam == MAX_FAMILIES)
			die("too many families", NULL);
		f = &fam[nfam++];
		snprintf(f->name, sizeof(f->name), "%s", name);
	}
	if (current && current != f)
		current->closed = true;
	current = f;
	return f;
}

static void comment(const char *p)
{
	char name[256];
	struct family *f;

	if (!strncmp(p, "# HELP ", 7)) {
		p += 7;
		read_name(&p, name, sizeof(name), true);
		if (*p != ' ')
			die("HELP needs a text after the name", NULL);
		for (p++; *p; p++)
			if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
				die("bad escape in HELP", p);
			else if (*p == '\\')
				p++;
		f = enter(name);
		if (f->help)
			die("second HELP for", name);
		if (f->samples)
			die("HELP after the family's samples", name);
		f->help = true;
		return;
	}
	if (!strncmp(p, "# TYPE ", 7)) {
		p += 7;
		read_name(&p, name, sizeof(name), true);
		if (*p != ' ')
			die("TYPE needs a type after the name", NULL);
		p++;
		if (strcmp(p, "counter") && strcmp(p, "gauge") &&
		    strcmp(p, "histogram") && strcmp(p, "summary") &&
		    strcmp(p, "untyped"))
			die("unknown type", p);
		f = enter(name);
		if (f->type)
			die("second TYPE for", name);
		if (f->samples)
			die("TYPE after the family's samples", name);
		if (!strcmp(p, "counter") &&
		    (strlen(name) < 6 ||
		     strcmp(name + strlen(name) - 6, "_total")))
			die("a counter's name must end in _total", name);
		f->type = true;
		snprintf(f->kind, sizeof(f->kind), "%s", p);
		return;
	}
	die("a comment other than HELP or TYPE", p);
}

static bool parse_value(const char *s, double *v)
{
	char *end;

	if (!strcmp(s, "+Inf") || !strcmp(s, "-Inf") || !strcmp(s, "NaN")) {
		*v = !strcmp(s, "NaN") ? NAN
				       : (s[0] == '+' ? INFINITY : -INFINITY);
		return true;
	}
	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtod(s, &end);
	/* strtod also takes "inf", "nan" and hex: the format does not. */
	if (*end || errno == ERANGE || strpbrk(s, "xXiInN"))
		return false;
	return true;
}

struct label {
	char name[128];
	char value[1024]; /* as written, escapes kept */
};

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name,
		      ((const struct label *)b)->name);
}

static void read_labels(const char **pp, struct label *l, size_t *n)
{
	const char *p = *pp;

	*n = 0;
	p++; /* '{' */
	while (*p != '}') {
		size_t k = 0;

		if (*n == MAX_LABELS)
			die("too many labels", NULL);
		read_name(&p, l[*n].name, sizeof(l[*n].name), false);
		if (!strncmp(l[*n].name, "__", 2))
			die("label names starting with __ are reserved",
			    l[*n].name);
		for (size_t i = 0; i < *n; i++)
			if (!strcmp(l[i].name, l[*n].name))
				die("label given twice", l[*n].name);
		if (p[0] != '=' || p[1] != '"')
			die("expected =\" after a label name", p);
		p += 2;
		while (*p != '"') {
			if (!*p)
				die("unterminated label value", NULL);
			if (*p == '\\' && !strchr("\\\"n", p[1]))
				die("bad escape in a label value", p);
			if (k + 3 >= sizeof(l[*n].value))
				die("label value too long", NULL);
			if (*p == '\\')
				l[*n].value[k++] = *p++;
			l[*n].value[k++] = *p++;
		}
		l[*n].value[k] = '\0';
		p++;
		(*n)++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			die("expected , or } after a label", p);
	}
	*pp = p + 1;
}

static void remember(const char *key)
{
	for (size_t i = 0; i < nseen; i++)
		if (!strcmp(seen[i], key))
			die("duplicate sample", key);
	if (nseen == capseen) {
		capseen = capseen ? capseen * 2 : 256;
		seen = realloc(seen, capseen * sizeof(*seen));
		if (!seen)
			die("out of memory", NULL);
	}
	seen[nseen] = strdup(key);
	if (!seen[nseen++])
		die("out of memory", NULL);
}

static void sample(const char *p)
{
	static char key[1 << 15];
	struct label l[MAX_LABELS];
	char name[256], value[64];
	struct family *f;
	size_t n = 0, k;
	double v;

	read_name(&p, name, sizeof(name), true);
	if (*p == '{')
		read_labels(&p, l, &n);
	if (*p != ' ')
		die("expected a space before the value", p);
	p++;
	k = strcspn(p, " ");
	if (k >= sizeof(value))
		die("value too long", NULL);
	memcpy(value, p, k);
	value[k] = '\0';
	if (!parse_value(value, &v))
		die("bad value", value);
	p += k;
	if (*p == ' ') {
		char *end;

		p++;
		if (!*p || (strtoll(p, &end, 10), *end))
			die("bad timestamp", p);
	}
	f = enter(name);
	if (!f->type)
		die("sample without a TYPE before it", name);
	if (!strcmp(f->kind, "counter") && (isnan(v) || v < 0))
		die("a counter must be >= 0", name);
	f->samples = true;
	qsort(l, n, sizeof(l[0]), cmp_label);
	k = (size_t)snprintf(key, sizeof(key), "%s{", name);
	for (size_t i = 0; i < n && k < sizeof(key); i++)
		k += (size_t)snprintf(key + k, sizeof(key) - k, "%s%s=\"%s\"",
				      i ? "," : "", l[i].name, l[i].value);
	if (k + 2 >= sizeof(key))
		die("sample too long", NULL);
	strcpy(key + k, "}");
	remember(key);
	printf("%s %s\n", key, value);
}

int main(int argc, char **argv)
{
	static char line[MAX_LINE];
	FILE *in = stdin;
	size_t n;

	if (argc > 2) {
		fprintf(stderr, "usage: prom_check [FILE]\n");
		return 2;
	}
	if (argc == 2 && !(in = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		n = strlen(line);
		if (!n || line[n - 1] != '\n')
			die(n == sizeof(line) - 1 ? "line too long"
						  : "last line lacks '\\n'",
			    NULL);
		line[n - 1] = '\0';
		if (!line[0])
			die("blank line", NULL);
		if (line[0] == '#')
			comment(line);
		else
			sample(line);
	}
	if (!lineno)
		die("empty exposition", NULL);
	return 0;
}
