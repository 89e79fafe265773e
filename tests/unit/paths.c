/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: priority path patterns. fnmatch per component, "**" for any
 * number of directories (none included), hidden files only when named, and
 * expansion of a real tree: a file, a directory taken recursively, a glob,
 * sorted, and a pattern that matches nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/paths.h"
#include "../lib/tap.h"

static const struct {
	const char *pattern;
	const char *path;
	bool match;
} rows[] = {
	{ "/opt/models/a.bin", "/opt/models/a.bin", true },
	{ "/opt/models/*.bin", "/opt/models/a.bin", true },
	{ "/opt/models/*.bin", "/opt/models/x/a.bin", false },
	{ "/opt/models/**/*.bin", "/opt/models/a.bin", true },
	{ "/opt/models/**/*.bin", "/opt/models/x/y/z/a.bin", true },
	{ "/opt/models/**/*.bin", "/opt/other/a.bin", false },
	{ "/opt/**", "/opt/models/x/a.bin", true },
	{ "/opt/**/x/*", "/opt/models/x/a.bin", true },
	{ "/opt/**/x/*", "/opt/models/y/a.bin", false },
	{ "/opt/models/*.bin", "/opt/models/.hidden.bin", false },
	{ "/opt/models/.*.bin", "/opt/models/.hidden.bin", true },
	{ "/opt/m?dels/[ab].bin", "/opt/models/b.bin", true },
	{ "/opt/m?dels/[ab].bin", "/opt/models/c.bin", false },
	{ "models/*.bin", "/opt/models/a.bin", false },
	{ "/opt//models/a.bin", "/opt/models/a.bin", true },
};

static int touch(const char *path, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (size && ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int main(void)
{
	char dir[] = "/tmp/blkhydrate-paths.XXXXXX", p[512], pat[512];
	struct pathlist pl = { 0 };
	size_t i, n = sizeof(rows) / sizeof(rows[0]);
	int rc;

	plan((unsigned int)n + 8);
	for (i = 0; i < n; i++)
		ok(path_match(rows[i].pattern, rows[i].path) == rows[i].match, "'%s' %s '%s'",
		   rows[i].pattern, rows[i].match ? "matches" : "does not match", rows[i].path);

	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof(p), "%s/m", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/m/sub", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/m/b.safetensors", dir);
	touch(p, 10);
	snprintf(p, sizeof(p), "%s/m/a.safetensors", dir);
	touch(p, 10);
	snprintf(p, sizeof(p), "%s/m/sub/c.safetensors", dir);
	touch(p, 10);
	snprintf(p, sizeof(p), "%s/m/sub/tokenizer.json", dir);
	touch(p, 10);

	snprintf(pat, sizeof(pat), "%s/m/**/*.safetensors", dir);
	rc = paths_expand(pat, &pl);
	ok(rc == 0 && pl.n == 3, "glob with ** finds 3 files (rc %d, %zu)", rc, pl.n);
	ok(pl.n == 3 && strstr(pl.v[0], "/m/a.safetensors") && strstr(pl.v[1], "/m/b.safetensors") &&
		   strstr(pl.v[2], "/m/sub/c.safetensors"),
	   "sorted by path");
	pathlist_free(&pl);

	snprintf(pat, sizeof(pat), "%s/m", dir);
	rc = paths_expand(pat, &pl);
	ok(rc == 0 && pl.n == 4, "a directory is taken recursively (%zu files)", pl.n);
	pathlist_free(&pl);

	snprintf(pat, sizeof(pat), "%s/m/sub/tokenizer.json", dir);
	rc = paths_expand(pat, &pl);
	ok(rc == 0 && pl.n == 1 && !strcmp(pl.v[0], pat), "a plain file is itself");
	pathlist_free(&pl);

	snprintf(pat, sizeof(pat), "%s/m/**/*.gguf", dir);
	ok(paths_expand(pat, &pl) == -ENOENT && pl.n == 0, "a glob matching nothing is -ENOENT");
	snprintf(pat, sizeof(pat), "%s/nope/*.bin", dir);
	ok(paths_expand(pat, &pl) == -ENOENT, "a glob under a missing directory is -ENOENT");
	snprintf(pat, sizeof(pat), "%s/nope.bin", dir);
	ok(paths_expand(pat, &pl) == -ENOENT, "a missing file is -ENOENT");
	ok(paths_expand("/dev/null", &pl) == -EINVAL, "a device is not a priority file");
	pathlist_free(&pl);

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p))
		return 1;
	return exit_status();
}
