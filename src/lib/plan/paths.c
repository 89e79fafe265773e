/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Expanding priority paths. glob(3) has no "**", and model trees are deep
 * (all safetensors under /opt/models, at any depth), so the walk is our own: start at
 * the longest literal directory prefix of the pattern and match every
 * regular file below it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plan/paths.h"
#include "base/value.h"

void pathlist_free(struct pathlist *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		free(pl->v[i]);
	free(pl->v);
	pl->v = NULL;
	pl->n = pl->cap = 0;
}

static int pathlist_add(struct pathlist *pl, const char *path)
{
	if (ARRAY_GROW(pl->v, pl->n, &pl->cap))
		return -ENOMEM;
	pl->v[pl->n] = strdup(path);
	if (!pl->v[pl->n])
		return -ENOMEM;
	pl->n++;
	return 0;
}

/* Match component lists; "**" matches zero or more whole components. */
static bool match_parts(const char *pat, const char *path)
{
	const char *pe, *fe;
	size_t plen, flen;
	char pbuf[256], fbuf[256];

	while (*pat == '/')
		pat++;
	while (*path == '/')
		path++;
	if (!*pat)
		return !*path;
	pe = strchrnul(pat, '/');
	plen = (size_t)(pe - pat);
	if (plen == 2 && pat[0] == '*' && pat[1] == '*') {
		if (match_parts(pe, path))
			return true;
		return *path && match_parts(pat, strchrnul(path, '/'));
	}
	if (!*path)
		return false;
	fe = strchrnul(path, '/');
	flen = (size_t)(fe - path);
	if (plen >= sizeof(pbuf) || flen >= sizeof(fbuf))
		return false;
	memcpy(pbuf, pat, plen);
	pbuf[plen] = '\0';
	memcpy(fbuf, path, flen);
	fbuf[flen] = '\0';
	if (fnmatch(pbuf, fbuf, FNM_PERIOD))
		return false;
	return match_parts(pe, fe);
}

bool path_match(const char *pattern, const char *path)
{
	if ((*pattern == '/') != (*path == '/'))
		return false;
	return match_parts(pattern, path);
}

static bool has_magic(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return true;
	return false;
}

/* Add regular files under @dir (recursively) that match @pattern, or all with NULL. */
static int walk(const char *dir, const char *pattern, struct pathlist *out)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		unsigned char type;
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strcmp(dir, "."))
			p = strdup(de->d_name);
		else if (asprintf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
				  de->d_name) < 0)
			p = NULL;
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		/*
		 * The entry's type from readdir where the file system gives it,
		 * else lstat: a symlink loop or a link out of the tree is not
		 * followed either way.
		 */
		type = de->d_type;
		if (type == DT_UNKNOWN && lstat(p, &st) == 0)
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
		if (type == DT_DIR)
			rc = walk(p, pattern, out);
		else if (type == DT_REG && (!pattern || path_match(pattern, p)))
			rc = pathlist_add(out, p);
		free(p);
		if (rc)
			break;
	}
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int paths_expand(const char *pattern, struct pathlist *out)
{
	size_t before = out->n, cut = 0, i;
	struct stat st;
	char *base;
	int rc;

	if (!has_magic(pattern, strlen(pattern))) {
		if (stat(pattern, &st) < 0)
			return -errno;
		if (S_ISREG(st.st_mode))
			return pathlist_add(out, pattern);
		if (!S_ISDIR(st.st_mode))
			return -EINVAL;
		rc = walk(pattern, NULL, out);
	} else {
		/* The literal directories before the first wildcard are where to start. */
		for (i = 0; pattern[i]; i++) {
			if (pattern[i] == '/')
				cut = i;
			if (has_magic(pattern + i, 1))
				break;
		}
		base = cut ? strndup(pattern, cut) : strdup(*pattern == '/' ? "/" : ".");
		if (!base)
			return -ENOMEM;
		rc = walk(base, pattern, out);
		free(base);
		if (rc == -ENOENT)
			return rc;
	}
	if (rc)
		return rc;
	if (out->n == before)
		return -ENOENT;
	qsort(out->v + before, out->n - before, sizeof(*out->v), cmp_str);
	return 0;
}
