/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: saved plans. A plan written and loaded gives back its
 * classes, files and extents; damaged files are refused as corrupt; a plan
 * is stale when the UUID differs or an extent lies beyond its file system
 * or the device, and fits otherwise, also at a partition's offset.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/saved.h"
#include "../lib/tap.h"

#define UUID "0b6c1a3e-6f0c-4b59-9a2e-5d1e1c0ffee0"
#define GIB (1024ULL * 1024 * 1024)

static char dir[] = "/tmp/unit-savedplan.XXXXXX";

static void make(struct saved_plan *sp)
{
	static char pat[] = "/opt/models/**", f1[] = "/opt/models/a.safetensors",
		    f2[] = "/opt/models/b.safetensors";
	static struct plan_preset_file files[2];
	static struct saved_class cl;

	memset(sp, 0, sizeof(*sp));
	snprintf(sp->uuid, sizeof(sp->uuid), "%s", UUID);
	sp->fs_size = GIB;
	files[0].path = f1;
	files[1].path = f2;
	rangelist_init(&files[0].ranges);
	rangelist_init(&files[1].ranges);
	rangelist_add(&files[0].ranges, 1 << 20, 4 << 20);
	rangelist_add(&files[0].ranges, 64 << 20, 1 << 20);
	rangelist_add(&files[1].ranges, GIB - 4096, 4096);
	cl.pattern = pat;
	cl.files = files;
	cl.nfiles = 2;
	sp->classes = &cl;
	sp->nclasses = 1;
}

static const struct {
	const char *what;
	const char *text;
} corrupt[] = {
	{ "empty", "" },
	{ "no header", "uuid=" UUID "\nend\n" },
	{ "no end", "# blkhydrate saved plan 1\nuuid=" UUID "\nclass=x\nfile=/a\nextent=0+4096\n" },
	{ "cut short", "# blkhydrate saved plan 1\nuuid=" UUID "\nclass=x\nfile=/a\nextent=0+40" },
	{ "no uuid", "# blkhydrate saved plan 1\nclass=x\nend\n" },
	{ "file before class", "# blkhydrate saved plan 1\nuuid=" UUID "\nfile=/a\nend\n" },
	{ "extent before file", "# blkhydrate saved plan 1\nuuid=" UUID "\nclass=x\nextent=0+1\nend\n" },
	{ "bad extent", "# blkhydrate saved plan 1\nuuid=" UUID "\nclass=x\nfile=/a\nextent=4096\nend\n" },
	{ "zero length", "# blkhydrate saved plan 1\nuuid=" UUID "\nclass=x\nfile=/a\nextent=0+0\nend\n" },
	{ "overflow", "# blkhydrate saved plan 1\nuuid=" UUID
		      "\nclass=x\nfile=/a\nextent=18446744073709551615+2\nend\n" },
	{ "text after end", "# blkhydrate saved plan 1\nuuid=" UUID "\nend\nclass=x\n" },
};

int main(void)
{
	struct saved_plan sp, got;
	struct disk_fs fs = { .uuid = UUID, .offset = 0, .size = GIB };
	char path[512], *text;
	const char *why = NULL;
	size_t len, i, n = sizeof(corrupt) / sizeof(corrupt[0]);
	FILE *f;
	int rc;

	plan((unsigned int)n + 10);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	make(&sp);
	ok(saved_plan_load(dir, UUID, &got) == -ENOENT, "no plan saved: ENOENT");
	rc = saved_plan_save(dir, &sp, path, sizeof(path));
	ok(rc == 0 && strstr(path, "/plans/" UUID ".plan"), "saved as %s (rc %d)", path, rc);
	rc = saved_plan_load(dir, UUID, &got);
	ok(rc == 0 && !strcmp(got.uuid, UUID) && got.fs_size == GIB && got.nclasses == 1 &&
		   !strcmp(got.classes[0].pattern, "/opt/models/**") && got.classes[0].nfiles == 2,
	   "round trip: uuid, size, class and files (rc %d)", rc);
	ok(rc == 0 && got.classes[0].files[0].ranges.n == 2 &&
		   got.classes[0].files[0].ranges.v[1].off == 64 << 20 &&
		   got.classes[0].files[0].ranges.v[1].len == 1 << 20 &&
		   !strcmp(got.classes[0].files[1].path, "/opt/models/b.safetensors") &&
		   got.classes[0].files[1].ranges.v[0].off == GIB - 4096,
	   "round trip: extents");

	ok(saved_plan_check(&got, &fs, GIB, &why) == 0, "it fits its file system");
	fs.offset = 1 << 20;
	ok(saved_plan_check(&got, &fs, GIB + (1 << 20), &why) == 0,
	   "it fits the same file system in a partition at 1 MiB");
	ok(saved_plan_check(&got, &fs, GIB, &why) == -ESTALE && why,
	   "stale: the partition moved so its end lies beyond the device (%s)", why);
	fs.offset = 0;
	fs.size = GIB / 2;
	ok(saved_plan_check(&got, &fs, GIB / 2, &why) == -ESTALE,
	   "stale: an extent beyond a smaller file system");
	fs.size = GIB;
	snprintf(fs.uuid, sizeof(fs.uuid), "11111111-2222-3333-4444-555555555555");
	ok(saved_plan_check(&got, &fs, GIB, &why) == -ESTALE && strstr(why, "UUID"),
	   "stale: another UUID (%s)", why);
	saved_plan_free(&got);

	rc = saved_plan_format(&sp, &text, &len);
	ok(rc == 0 && saved_plan_parse(text, &got) == 0 && got.nclasses == 1,
	   "format then parse in memory");
	if (!rc) {
		free(text);
		saved_plan_free(&got);
	}
	for (i = 0; i < n; i++) {
		f = fopen(path, "w");
		if (f) {
			fputs(corrupt[i].text, f);
			fclose(f);
		}
		ok(saved_plan_load(dir, UUID, &got) == -EBADMSG, "corrupt (%s): refused",
		   corrupt[i].what);
	}
	for (i = 0; i < 2; i++)
		rangelist_free(&sp.classes[0].files[i].ranges);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) ? 1 : exit_status();
}
