/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checkpoint state files. The format is text, one item a line:
 *
 *   blkhydrate-progress 1
 *   id <volume identity>
 *   size <bytes>
 *   read <offset> <length>      (any number, sorted, not overlapping)
 *   bad <offset> <length> <errno>   (ranges that could not be read, sorted)
 *   sum <FNV-1a 64 of every byte above, 16 hex digits>
 *
 * A file that does not parse, or whose sum is wrong, is corrupt; one whose
 * identity or size differs is another volume's. Either way it is not used:
 * a wrong "read" line would leave blocks cold forever.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/checkpoint.h"
#include "base/statefile.h"
#include "device/volid.h"

#define MAGIC "blkhydrate-progress 1\n"

static uint64_t fnv1a(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--) {
		h ^= (unsigned char)*p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int checkpoint_path(const char *dir, const char *id, char *out, size_t len)
{
	char name[VOLID_MAX];

	volid_filename(id, name, sizeof(name));
	if (snprintf(out, len, "%s/%s.state", dir, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static char *render(const char *id, uint64_t size, const struct rangelist *a,
		    const struct rangelist *b, const struct badlist *bad, size_t *lenp)
{
	struct rangelist all;
	char *buf = NULL;
	size_t i, len = 0;
	FILE *f;

	rangelist_init(&all);
	if (rangelist_add_all(&all, a) || rangelist_add_all(&all, b))
		goto fail;
	rangelist_normalize(&all);
	f = open_memstream(&buf, &len);
	if (!f)
		goto fail;
	fprintf(f, MAGIC "id %s\nsize %" PRIu64 "\n", id, size);
	for (i = 0; i < all.n; i++)
		fprintf(f, "read %" PRIu64 " %" PRIu64 "\n", all.v[i].off, all.v[i].len);
	for (i = 0; bad && i < bad->n; i++)
		fprintf(f, "bad %" PRIu64 " %" PRIu64 " %d\n", bad->v[i].off, bad->v[i].len,
			-bad->v[i].err);
	if (fflush(f)) {
		fclose(f);
		free(buf);
		goto fail;
	}
	fprintf(f, "sum %016" PRIx64 "\n", fnv1a(buf, len));
	if (fclose(f)) {
		free(buf);
		goto fail;
	}
	rangelist_free(&all);
	*lenp = len;
	return buf;
fail:
	rangelist_free(&all);
	return NULL;
}

int checkpoint_save(const char *dir, const char *id, uint64_t size, const struct rangelist *a,
		    const struct rangelist *b, const struct badlist *bad)
{
	char path[PATH_MAX];
	size_t len;
	char *text;
	int rc;

	rc = checkpoint_path(dir, id, path, sizeof(path));
	if (rc)
		return rc;
	text = render(id, size, a, b, bad, &len);
	if (!text)
		return -ENOMEM;
	/* One writer per volume (the disk lock); a crash leaves the old file or the new. */
	rc = state_write(dir, strrchr(path, '/') + 1, text, len);
	free(text);
	return rc;
}

/* Next line of @text from *@pos, without its newline; NULL at the end or without one. */
static const char *next_line(const char *text, size_t len, size_t *pos, size_t *llen)
{
	const char *start = text + *pos, *nl;

	if (*pos >= len)
		return NULL;
	nl = memchr(start, '\n', len - *pos);
	if (!nl)
		return NULL;
	*llen = (size_t)(nl - start);
	*pos += *llen + 1;
	return start;
}

/* A decimal uint64 filling exactly [p, p + len). */
static int parse_u64(const char *p, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned int)(p[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * "<word> <u64> <u64>[ <u64>]": @v gets the 2 or 3 numbers (@n of them).
 * Returns 0 or -EINVAL.
 */
static int parse_item(const char *p, size_t len, const char *word, unsigned int n, uint64_t *v)
{
	size_t wl = strlen(word);
	const char *sp;
	unsigned int i;

	if (len <= wl + 1 || memcmp(p, word, wl) || p[wl] != ' ')
		return -EINVAL;
	p += wl + 1;
	len -= wl + 1;
	for (i = 0; i < n; i++) {
		sp = i + 1 < n ? memchr(p, ' ', len) : p + len;
		if (!sp || parse_u64(p, (size_t)(sp - p), &v[i]))
			return -EINVAL;
		if (i + 1 < n) {
			len -= (size_t)(sp - p) + 1;
			p = sp + 1;
		}
	}
	return 0;
}

int checkpoint_parse(const char *text, size_t len, const char *id, uint64_t size,
		     struct rangelist *read, struct badlist *bad)
{
	size_t pos = 0, llen, body = 0, idlen = strlen(id);
	const char *line;
	uint64_t fsize = 0, v[3], last_end = 0, bad_end = 0, sum = 0;
	bool have_sum = false, have_size = false, same_id = false;
	unsigned int n = 0;
	char hex[17];
	int rc = -CHECKPOINT_ECORRUPT;

	rangelist_init(read);
	if (bad)
		badlist_init(bad);
	if (len < sizeof(MAGIC) - 1 || memcmp(text, MAGIC, sizeof(MAGIC) - 1))
		return rc;
	pos = sizeof(MAGIC) - 1;
	while ((line = next_line(text, len, &pos, &llen))) {
		n++;
		if (have_sum)
			goto fail;	/* nothing may follow the sum */
		if (llen > 3 && !memcmp(line, "id ", 3) && n == 1) {
			same_id = llen - 3 == idlen && !memcmp(line + 3, id, idlen);
		} else if (llen > 5 && !memcmp(line, "size ", 5) && n == 2) {
			if (parse_u64(line + 5, llen - 5, &fsize))
				goto fail;
			have_size = true;
		} else if (llen == 20 && !memcmp(line, "sum ", 4) && n > 2) {
			memcpy(hex, line + 4, 16);
			hex[16] = '\0';
			if (strspn(hex, "0123456789abcdef") != 16)
				goto fail;
			sum = strtoull(hex, NULL, 16);
			body = (size_t)(line - text);
			have_sum = true;
		} else if (n > 2 && !parse_item(line, llen, "read", 2, v)) {
			/* sorted, apart, inside the volume: anything else was not written by us */
			if (!v[1] || v[0] < last_end || v[0] + v[1] < v[0] || v[0] + v[1] > fsize)
				goto fail;
			last_end = v[0] + v[1];
			if (rangelist_add(read, v[0], v[1])) {
				rc = -ENOMEM;
				goto fail;
			}
		} else if (n > 2 && !parse_item(line, llen, "bad", 3, v)) {
			if (!v[1] || v[0] < bad_end || v[0] + v[1] < v[0] || v[0] + v[1] > fsize ||
			    !v[2] || v[2] > 4095)
				goto fail;
			bad_end = v[0] + v[1];
			if (bad && badlist_add(bad, v[0], v[1], -(int)v[2])) {
				rc = -ENOMEM;
				goto fail;
			}
		} else {
			goto fail;
		}
	}
	if (pos != len || !have_sum || !have_size || fnv1a(text, body) != sum)
		goto fail;
	if (!same_id || fsize != size) {
		rc = -CHECKPOINT_EOTHER;
		goto fail;
	}
	return 0;
fail:
	rangelist_free(read);
	if (bad)
		badlist_free(bad);
	return rc;
}

int checkpoint_load(const char *dir, const char *id, uint64_t size, struct rangelist *done,
		    struct badlist *bad)
{
	char path[PATH_MAX];
	size_t len;
	char *text;
	int rc;

	rangelist_init(done);
	if (bad)
		badlist_init(bad);
	rc = checkpoint_path(dir, id, path, sizeof(path));
	if (rc)
		return rc;
	/* Symlinks are not followed: a state file is never someone else's file. */
	rc = state_read(path, &text, &len);
	if (rc == -EINVAL || rc == -EFBIG)
		return -CHECKPOINT_ECORRUPT;
	if (rc)
		return rc;
	rc = checkpoint_parse(text, len, id, size, done, bad);
	free(text);
	return rc;
}

int checkpoint_remove(const char *dir, const char *id)
{
	char path[PATH_MAX];
	int rc = checkpoint_path(dir, id, path, sizeof(path));

	if (rc)
		return rc;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

const char *checkpoint_strerror(int err)
{
	switch (-err) {
	case CHECKPOINT_ECORRUPT:
		return "corrupt (not a complete blkhydrate state file)";
	case CHECKPOINT_EOTHER:
		return "written for another volume (identity or size differ)";
	default:
		return strerror(-err);
	}
}
