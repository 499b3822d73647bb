/* SPDX-License-Identifier: MIT */
/*
 * A small JSON writer for `show --json`: objects, arrays, strings, integers,
 * booleans and null, into a growing buffer or straight to a FILE *. Calls
 * do not return errors: the first one (out of memory, a write error, a
 * value where a key belongs, nesting too deep) sticks and wgx_json_finish()
 * reports it, so building code stays a straight script.
 */
#ifndef WGX_JSON_H
#define WGX_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	WGX_JSON_MAX_DEPTH = 32,
};

struct wgx_json {
	char *buf; /* NUL-terminated text when writing to a buffer */
	size_t len;
	size_t cap;
	FILE *out; /* when set, text goes here instead of buf */
	int err;   /* first error, -errno */
	bool pretty;
	bool want_value; /* a key was written, its value comes next */
	bool has_root;	 /* a top-level value was started */
	unsigned int depth;
	/* Per open container: '{' or '[' and whether it has members yet. */
	char kind[WGX_JSON_MAX_DEPTH];
	bool nonempty[WGX_JSON_MAX_DEPTH];
};

/* Into a buffer (free it with wgx_json_free) or onto out. pretty indents
 * with two spaces and ends the document with a newline. */
void wgx_json_init(struct wgx_json *j, bool pretty);
void wgx_json_init_file(struct wgx_json *j, FILE *out, bool pretty);
void wgx_json_free(struct wgx_json *j);

void wgx_json_object_begin(struct wgx_json *j);
void wgx_json_object_end(struct wgx_json *j);
void wgx_json_array_begin(struct wgx_json *j);
void wgx_json_array_end(struct wgx_json *j);
/* A member name inside an object; its value is the next call. */
void wgx_json_key(struct wgx_json *j, const char *key);

/* Escapes quotes, backslashes and control characters; invalid UTF-8 bytes
 * become U+FFFD so the output is always valid JSON. NULL writes null. */
void wgx_json_string(struct wgx_json *j, const char *s);
void wgx_json_string_len(struct wgx_json *j, const char *s, size_t len);
void wgx_json_int(struct wgx_json *j, int64_t v);
void wgx_json_uint(struct wgx_json *j, uint64_t v);
void wgx_json_bool(struct wgx_json *j, bool v);
void wgx_json_null(struct wgx_json *j);

/* key + value in one call, for the common object member. */
void wgx_json_kv_string(struct wgx_json *j, const char *key, const char *s);
void wgx_json_kv_int(struct wgx_json *j, const char *key, int64_t v);
void wgx_json_kv_uint(struct wgx_json *j, const char *key, uint64_t v);
void wgx_json_kv_bool(struct wgx_json *j, const char *key, bool v);

/*
 * Ends the document: 0, or the first error (-ENOMEM, -EIO for a FILE
 * error, -EINVAL for misuse or unclosed containers, -E2BIG for nesting
 * deeper than WGX_JSON_MAX_DEPTH). Flushes out when writing to a FILE.
 */
int wgx_json_finish(struct wgx_json *j);
/* The text so far ("" when empty or when writing to a FILE). */
const char *wgx_json_str(const struct wgx_json *j);
/*
 * Hand the text over (a malloc'd, NUL-terminated buffer of *len bytes and
 * *cap capacity, NULL when writing to a file or failed): j is empty
 * afterwards. Saves a copy of a large document.
 */
char *wgx_json_take(struct wgx_json *j, size_t *len, size_t *cap);

#endif
