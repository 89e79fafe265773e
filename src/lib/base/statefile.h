/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small state files (the ledger, saved plans, progress of running
 * hydrations): made directories, atomic replacement, bounded reads, and
 * names made safe from volume ids and UUIDs.
 */
#ifndef BLKHYDRATE_STATEFILE_H
#define BLKHYDRATE_STATEFILE_H

#include <stddef.h>
#include <stdint.h>

/* Checkpoints of a volume with many bad ranges are the largest. */
#define STATE_FILE_MAX (64 * 1024 * 1024)

/* Make @path and its parents (mode 0755). Returns 0 or -errno. */
int state_mkdir(const char *path);

/*
 * Replace @dir/@name by @len bytes of @data: written to a temporary file in
 * @dir, flushed, renamed over the old one, and the directory flushed, so a
 * crash leaves the old file or the new one, never half of one. Makes @dir.
 * Returns 0 or -errno.
 */
int state_write(const char *dir, const char *name, const char *data, size_t len);

/* Read a whole regular file of at most STATE_FILE_MAX bytes, NUL-terminated. Returns 0 or -errno. */
int state_read(const char *path, char **data, size_t *len);

/*
 * Read @dir/@name and hand its text to @parse. Returns what @parse
 * returned, -EBADMSG when the file is no regular text file of sane size,
 * or -errno (-ENOENT: there is none).
 */
int state_load(const char *dir, const char *name, int (*parse)(const char *text, void *obj),
	       void *obj);

/*
 * A file name for @key: letters, digits and "._-" kept, other bytes as
 * %XX, a leading '.' escaped. Returns 0 or -ENAMETOOLONG.
 */
int state_name(const char *key, const char *suffix, char *out, size_t outlen);

/*
 * Walk "key=value" lines of @text after the first line, which must be
 * @magic (with its newline). @fn returns 0 to go on or a negative errno.
 * Returns 0, -EBADMSG when the header is wrong, a line has no '=' or the
 * last line has no newline (a write cut short), or what @fn returned.
 */
int state_parse_kv(const char *text, const char *magic,
		   int (*fn)(const char *key, const char *value, void *arg), void *arg);

/*
 * Call @cb for each file in @dir whose name ends in @suffix ("" for all),
 * not hidden, sorted by name, with its text (err 0) or err -errno (-EBADMSG
 * for a file holding a NUL byte). Returns 0, the first non-zero return of
 * @cb, or -errno when @dir cannot be read.
 */
int state_scan(const char *dir, const char *suffix,
	       int (*cb)(const char *path, const char *text, int err, void *arg), void *arg);

/* A whole decimal number. Returns 0 or -EBADMSG. */
int state_parse_u64(const char *s, uint64_t *v);

/* The same for a number that starts @s and goes on: @end is left after it. */
int state_parse_u64_at(const char *s, uint64_t *v, char **end);

#endif
