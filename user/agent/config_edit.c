// SPDX-License-Identifier: MIT
/*
 * Two passes over the text: the first finds the headers and where each
 * section's lead begins (tracked as the lines go by, in O(1) memory); the
 * second reads each section's own lines for its name and public key.
 */
#include "agent/config_edit.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum line_kind {
	LINE_BLANK,
	LINE_COMMENT,
	LINE_HEADER,
	LINE_OTHER,
};

struct line {
	const char *p; /* its first byte */
	size_t len;    /* without the newline */
};

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The line at *off (advanced past it); false at the end of the text. */
static bool next_line(const char *buf, size_t len, size_t *off, struct line *l)
{
	const char *nl;

	if (*off >= len)
		return false;
	l->p = buf + *off;
	nl = memchr(l->p, '\n', len - *off);
	l->len = nl ? (size_t)(nl - l->p) : len - *off;
	*off += l->len + (nl ? 1 : 0);
	return true;
}

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && is_space(*s))
		s++;
	return s;
}

/*
 * The text of l before any '#' with every whitespace character removed,
 * as the parser reads wg's keys and section headers; cut to fit out.
 */
static void squeeze(const struct line *l, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < l->len && l->p[i] != '#'; i++)
		if (!is_space(l->p[i]) && n + 1 < size)
			out[n++] = l->p[i];
	out[n] = '\0';
}

static enum line_kind classify(const struct line *l, bool *peer)
{
	const char *s = skip_space(l->p, l->p + l->len);
	char head[16];

	if (s == l->p + l->len)
		return LINE_BLANK;
	if (*s == '#')
		return LINE_COMMENT;
	if (*s != '[')
		return LINE_OTHER;
	squeeze(l, head, sizeof(head));
	*peer = !strcasecmp(head, "[Peer]");
	return LINE_HEADER;
}

int wgx_config_edit_name_check(const char *name, const char **why)
{
	size_t len = strlen(name);

	*why = NULL;
	if (!len)
		*why = "it is empty";
	else if (len > WGX_PEER_NAME_MAX)
		*why = "it is longer than 15 characters (the client's file "
		       "NAME.conf names its interface)";
	else if (name[0] == '.' || name[0] == '-')
		*why = "it starts with '.' or '-'";
	for (size_t i = 0; !*why && i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isalnum(c) && !strchr("_.-=+", c))
			*why = "use only letters, digits and _ . - = +";
	}
	return *why ? -EINVAL : 0;
}

/*
 * "# Name = VALUE" (any case, any spacing): copies VALUE, trimmed, into
 * the section (or flags it as bad). True when the line is one.
 */
static bool name_line(const struct line *l, struct wgx_config_section *sec)
{
	const char *end = l->p + l->len, *s = skip_space(l->p, end);
	const char *why;
	char value[64];
	size_t n;

	if (s == end || *s != '#')
		return false;
	s = skip_space(s + 1, end);
	if ((size_t)(end - s) < 4 || strncasecmp(s, "name", 4))
		return false;
	s = skip_space(s + 4, end);
	if (s == end || *s != '=')
		return false;
	s = skip_space(s + 1, end);
	while (end > s && is_space(end[-1]))
		end--;
	if (sec->name[0] || sec->bad_name)
		return true; /* the first name line counts */
	n = (size_t)(end - s);
	if (n >= sizeof(value) || (memcpy(value, s, n), value[n] = '\0',
				   wgx_config_edit_name_check(value, &why))) {
		sec->bad_name = true;
		return true;
	}
	memcpy(sec->name, value, n + 1);
	return true;
}

/* "### Client NAME", as wireguard-install writes it above a [Peer]. */
static void client_line(const struct line *l, char *out, size_t size)
{
	static const char tag[] = "### Client ";
	const char *s = l->p, *end = l->p + l->len;
	const char *why;
	size_t n;

	if (l->len <= sizeof(tag) - 1 || memcmp(s, tag, sizeof(tag) - 1))
		return;
	s += sizeof(tag) - 1;
	while (end > s && is_space(end[-1]))
		end--;
	n = (size_t)(end - s);
	if (n >= size)
		return;
	memcpy(out, s, n);
	out[n] = '\0';
	if (wgx_config_edit_name_check(out, &why))
		out[0] = '\0';
}

static void public_key_line(const struct line *l,
			    struct wgx_config_section *sec)
{
	static const char key[] = "publickey=";
	char text[WGX_KEY_BASE64_LEN + sizeof(key) + 2];

	squeeze(l, text, sizeof(text));
	if (!strncasecmp(text, key, sizeof(key) - 1) &&
	    strlen(text + sizeof(key) - 1) == WGX_KEY_BASE64_LEN)
		memcpy(sec->public_key, text + sizeof(key) - 1,
		       WGX_KEY_BASE64_LEN + 1);
}

/* Pass two: the name and key from the section's own lines. */
static void read_section(const char *buf, struct wgx_config_section *sec)
{
	char client[WGX_PEER_NAME_MAX + 2] = "";
	size_t off = sec->start;
	struct line l;
	bool dummy;

	while (next_line(buf, sec->end, &off, &l)) {
		bool in_lead = (size_t)(l.p - buf) < sec->header;

		if (in_lead) {
			client_line(&l, client, sizeof(client));
			continue;
		}
		if (!sec->peer || name_line(&l, sec))
			continue;
		if (classify(&l, &dummy) == LINE_OTHER)
			public_key_line(&l, sec);
	}
	if (sec->peer && !sec->name[0] && !sec->bad_name && client[0])
		memcpy(sec->name, client, strlen(client) + 1);
}

static int push(struct wgx_config_section **v, size_t *n, size_t *cap)
{
	struct wgx_config_section *bigger;

	if (*n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 16;
	bigger = realloc(*v, *cap * sizeof(**v));
	if (!bigger)
		return -ENOMEM;
	*v = bigger;
	return 0;
}

int wgx_config_edit_scan(const char *buf, size_t len,
			 struct wgx_config_section **out, size_t *n)
{
	struct wgx_config_section *v = NULL;
	size_t count = 0, cap = 0, off = 0, lead = 0;
	bool have_lead = false, lead_comments = false;
	unsigned int lineno = 0;
	struct line l;

	/*
	 * The lead is the longest run of lines above a header that reads
	 * blank lines, then comment lines.
	 */
	while (next_line(buf, len, &off, &l)) {
		size_t at = (size_t)(l.p - buf);
		bool peer = false;

		lineno++;
		switch (classify(&l, &peer)) {
		case LINE_BLANK:
			if (!have_lead || lead_comments)
				lead = at;
			have_lead = true;
			lead_comments = false;
			break;
		case LINE_COMMENT:
			if (!have_lead)
				lead = at;
			have_lead = true;
			lead_comments = true;
			break;
		case LINE_HEADER:
			if (push(&v, &count, &cap)) {
				free(v);
				return -ENOMEM;
			}
			memset(&v[count], 0, sizeof(v[count]));
			v[count].start = have_lead ? lead : at;
			v[count].header = at;
			v[count].line = lineno;
			v[count].peer = peer;
			if (count)
				v[count - 1].end = v[count].start;
			count++;
			have_lead = false;
			break;
		case LINE_OTHER:
			have_lead = false;
			break;
		}
	}
	if (count)
		v[count - 1].end = len;
	for (size_t i = 0; i < count; i++)
		read_section(buf, &v[i]);
	*out = v;
	*n = count;
	return 0;
}

const struct wgx_config_section *wgx_config_edit_find(
	const struct wgx_config_section *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].peer && s[i].name[0] && !strcasecmp(s[i].name, name))
			return &s[i];
	return NULL;
}

size_t wgx_config_edit_separator(const char *buf, size_t len, char sep[3])
{
	size_t n = 0;

	if (len && buf[len - 1] != '\n')
		sep[n++] = '\n';
	if (len && !(len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n'))
		sep[n++] = '\n';
	sep[n] = '\0';
	return n;
}
