// SPDX-License-Identifier: MIT
/*
 * JSON text per RFC 8259. Several top-level values may follow one another,
 * one per line, which is what jq reads as a stream.
 */
#include "util/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void set_err(struct wgx_json *j, int err)
{
	if (!j->err)
		j->err = err;
}

static void emit(struct wgx_json *j, const char *s, size_t len)
{
	if (j->err || !len)
		return;
	if (j->out) {
		if (fwrite(s, 1, len, j->out) != len)
			set_err(j, -EIO);
		return;
	}
	if (j->len + len + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *p;

		while (cap < j->len + len + 1)
			cap *= 2;
		p = realloc(j->buf, cap);
		if (!p) {
			set_err(j, -ENOMEM);
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, len);
	j->len += len;
	j->buf[j->len] = '\0';
}

static void emit_str(struct wgx_json *j, const char *s)
{
	emit(j, s, strlen(s));
}

static void newline_indent(struct wgx_json *j)
{
	if (!j->pretty)
		return;
	emit(j, "\n", 1);
	for (unsigned int i = 0; i < j->depth; i++)
		emit(j, "  ", 2);
}

void wgx_json_init(struct wgx_json *j, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->pretty = pretty;
}

void wgx_json_init_file(struct wgx_json *j, FILE *out, bool pretty)
{
	wgx_json_init(j, pretty);
	j->out = out;
}

void wgx_json_free(struct wgx_json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

/* Commas, indentation and the key-before-value rule for the next value. */
static void before_value(struct wgx_json *j)
{
	unsigned int top = j->depth - 1;

	if (!j->depth) {
		/* A later top-level value starts on its own line. */
		if (!j->pretty && j->has_root)
			emit(j, "\n", 1);
		j->has_root = true;
		return;
	}
	if (j->kind[top] == '{') {
		if (!j->want_value)
			set_err(j, -EINVAL);
		j->want_value = false;
		return;
	}
	if (j->nonempty[top])
		emit(j, ",", 1);
	j->nonempty[top] = true;
	newline_indent(j);
}

/* After a complete value: a finished top-level value ends its line. */
static void after_value(struct wgx_json *j)
{
	if (!j->depth && j->pretty)
		emit(j, "\n", 1);
}

static void begin(struct wgx_json *j, char kind)
{
	before_value(j);
	if (j->depth >= WGX_JSON_MAX_DEPTH) {
		set_err(j, -E2BIG);
		return;
	}
	j->kind[j->depth] = kind;
	j->nonempty[j->depth] = false;
	j->depth++;
	emit(j, &kind, 1);
}

static void end(struct wgx_json *j, char kind)
{
	char close = kind == '{' ? '}' : ']';
	bool had_members;

	if (!j->depth || j->kind[j->depth - 1] != kind || j->want_value) {
		set_err(j, -EINVAL);
		return;
	}
	had_members = j->nonempty[j->depth - 1];
	j->depth--;
	if (had_members)
		newline_indent(j);
	emit(j, &close, 1);
	after_value(j);
}

void wgx_json_object_begin(struct wgx_json *j)
{
	begin(j, '{');
}

void wgx_json_object_end(struct wgx_json *j)
{
	end(j, '{');
}

void wgx_json_array_begin(struct wgx_json *j)
{
	begin(j, '[');
}

void wgx_json_array_end(struct wgx_json *j)
{
	end(j, '[');
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > avail)
		return 0;
	/* Second-byte ranges that exclude overlongs, surrogates, > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void escape_char(struct wgx_json *j, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

	switch (c) {
	case '"':
		emit_str(j, "\\\"");
		break;
	case '\\':
		emit_str(j, "\\\\");
		break;
	case '\b':
		emit_str(j, "\\b");
		break;
	case '\f':
		emit_str(j, "\\f");
		break;
	case '\n':
		emit_str(j, "\\n");
		break;
	case '\r':
		emit_str(j, "\\r");
		break;
	case '\t':
		emit_str(j, "\\t");
		break;
	default:
		emit(j, esc, 6);
	}
}

static void emit_quoted(struct wgx_json *j, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	emit(j, "\"", 1);
	while (i < len) {
		unsigned char c = s[i];
		size_t n = 1;

		if (c >= 0x80)
			n = utf8_len(s + i, len - i);
		if (c >= 0x20 && c != '"' && c != '\\' && n) {
			i += n;
			continue;
		}
		/* Flush the plain run, then the escaped byte. */
		emit(j, str + run, i - run);
		if (c < 0x80)
			escape_char(j, c);
		else
			emit_str(j, "\\ufffd");
		run = ++i;
	}
	emit(j, str + run, i - run);
	emit(j, "\"", 1);
}

void wgx_json_key(struct wgx_json *j, const char *key)
{
	unsigned int top = j->depth - 1;

	if (!j->depth || j->kind[top] != '{' || j->want_value || !key) {
		set_err(j, -EINVAL);
		return;
	}
	if (j->nonempty[top])
		emit(j, ",", 1);
	j->nonempty[top] = true;
	newline_indent(j);
	emit_quoted(j, key, strlen(key));
	emit_str(j, j->pretty ? ": " : ":");
	j->want_value = true;
}

void wgx_json_string_len(struct wgx_json *j, const char *s, size_t len)
{
	before_value(j);
	if (s)
		emit_quoted(j, s, len);
	else
		emit_str(j, "null");
	after_value(j);
}

void wgx_json_string(struct wgx_json *j, const char *s)
{
	wgx_json_string_len(j, s, s ? strlen(s) : 0);
}

static void raw_value(struct wgx_json *j, const char *text)
{
	before_value(j);
	emit_str(j, text);
	after_value(j);
}

void wgx_json_int(struct wgx_json *j, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	raw_value(j, num);
}

void wgx_json_uint(struct wgx_json *j, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	raw_value(j, num);
}

void wgx_json_bool(struct wgx_json *j, bool v)
{
	raw_value(j, v ? "true" : "false");
}

void wgx_json_null(struct wgx_json *j)
{
	raw_value(j, "null");
}

void wgx_json_kv_string(struct wgx_json *j, const char *key, const char *s)
{
	wgx_json_key(j, key);
	wgx_json_string(j, s);
}

void wgx_json_kv_int(struct wgx_json *j, const char *key, int64_t v)
{
	wgx_json_key(j, key);
	wgx_json_int(j, v);
}

void wgx_json_kv_uint(struct wgx_json *j, const char *key, uint64_t v)
{
	wgx_json_key(j, key);
	wgx_json_uint(j, v);
}

void wgx_json_kv_bool(struct wgx_json *j, const char *key, bool v)
{
	wgx_json_key(j, key);
	wgx_json_bool(j, v);
}

int wgx_json_finish(struct wgx_json *j)
{
	if (!j->err && (j->depth || j->want_value))
		set_err(j, -EINVAL);
	if (j->out && fflush(j->out) != 0)
		set_err(j, -EIO);
	if (j->out && ferror(j->out))
		set_err(j, -EIO);
	return j->err;
}

const char *wgx_json_str(const struct wgx_json *j)
{
	return j->buf ? j->buf : "";
}

char *wgx_json_take(struct wgx_json *j, size_t *len, size_t *cap)
{
	char *buf = j->out || j->err ? NULL : j->buf;

	*len = buf ? j->len : 0;
	*cap = buf ? j->cap : 0;
	if (buf) {
		j->buf = NULL;
		j->len = j->cap = 0;
	}
	return buf;
}
