/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Priority paths: a file, a directory taken recursively, or a glob in which
 * "**" stands for any number of directories, expanded to a sorted list of
 * regular files.
 */
#ifndef BLKHYDRATE_PATHS_H
#define BLKHYDRATE_PATHS_H

#include <stdbool.h>
#include <stddef.h>

struct pathlist {
	char **v;
	size_t n;
	size_t cap;
};

void pathlist_free(struct pathlist *pl);

/* True when @path matches @pattern (fnmatch per component; "**" spans components). */
bool path_match(const char *pattern, const char *path);

/*
 * Add the regular files named by @pattern to @out, sorted. Returns 0,
 * -ENOENT when it names nothing, -ENOMEM, or -errno from the walk.
 */
int paths_expand(const char *pattern, struct pathlist *out);

#endif
