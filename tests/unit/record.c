/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: recordings. A saved plan with a recorded class is written
 * as format 2 and read back with its files in their first-opened order,
 * each with its stamp (inode, size, mtime); a format 1 plan (plan --save
 * before recordings existed) is still read; a bad stamp, or a stamp in a
 * named class, is refused as corrupt. The page cache: of a file whose
 * pages were dropped, exactly the pages read back are found resident.
 * FIEMAP of part of a file gives the device bytes of that part only. The
 * options --for and --recorded take what the manual says and nothing else.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "cli/options.h"
#include "device/extent.h"
#include "device/resident.h"
#include "plan/saved.h"
#include "../lib/tap.h"

#define UUID "0b6c1a3e-6f0c-4b59-9a2e-5d1e1c0ffee0"
#define V1   "# blkhydrate saved plan 1\nuuid=" UUID "\n"
#define V2   "# blkhydrate saved plan 2\nuuid=" UUID "\n"

static const struct {
	const char *what;
	const char *text;
	int rc;
} texts[] = {
    {"format 1 still read", V1 "class=/opt/m\nfile=/opt/m/a\nextent=0+4096\nend\n", 0},
    {"format 2 with a recorded class",
     V2 "recorded=recorded\nfile=/usr/bin/x\nstamp=12 4096 -5\nextent=0+4096\nend\n", 0},
    {"a bad stamp", V2 "recorded=recorded\nfile=/a\nstamp=12 4096\nextent=0+4096\nend\n", -EBADMSG},
    {"a stamp with junk", V2 "recorded=recorded\nfile=/a\nstamp=1 2 3x\nend\n", -EBADMSG},
    {"a stamp in a named class", V2 "class=/a\nfile=/a\nstamp=1 2 3\nend\n", -EBADMSG},
    {"a stamp before a file", V2 "recorded=recorded\nstamp=1 2 3\nend\n", -EBADMSG},
    {"format 3", "# blkhydrate saved plan 3\nuuid=" UUID "\nend\n", -EBADMSG},
};

static void make(struct saved_plan *sp, struct saved_class *cl, struct plan_preset_file *files)
{
	static char named[] = "/opt/models/**", rec[] = "recorded", f0[] = "/opt/models/a",
		    f1[] = "/usr/lib/z.so", f2[] = "/usr/bin/a";
	char *paths[3] = {f0, f1, f2};
	size_t i;

	memset(sp, 0, sizeof(*sp));
	snprintf(sp->uuid, sizeof(sp->uuid), "%s", UUID);
	sp->fs_size = 1ULL << 30;
	for (i = 0; i < 3; i++) {
		memset(&files[i], 0, sizeof(files[i]));
		files[i].path = paths[i];
		rangelist_init(&files[i].ranges);
		rangelist_add(&files[i].ranges, (i + 1) << 20, 8192);
		files[i].stamp.ino = 100 + i;
		files[i].stamp.size = 5000 + i;
		files[i].stamp.mtime_ns = 1700000000123456789LL + (int64_t)i;
	}
	memset(cl, 0, 2 * sizeof(*cl));
	cl[0].pattern = named;
	cl[0].files = &files[0];
	cl[0].nfiles = 1;
	/* Recorded: /usr/lib/z.so was opened before /usr/bin/a, not in name order. */
	cl[1].pattern = rec;
	cl[1].recorded = true;
	cl[1].files = &files[1];
	cl[1].nfiles = 2;
	sp->classes = cl;
	sp->nclasses = 2;
}

static void test_format(void)
{
	struct plan_preset_file files[3];
	struct saved_class cl[2];
	struct saved_plan sp, got;
	char *text = NULL;
	size_t len, i;
	int rc;

	make(&sp, cl, files);
	rc = saved_plan_format(&sp, &text, &len);
	ok(rc == 0 && !strncmp(text, "# blkhydrate saved plan 2\n", 26), "written as format 2");
	rc = rc ? rc : saved_plan_parse(text, &got);
	ok(rc == 0 && got.nclasses == 2 && !got.classes[0].recorded && got.classes[1].recorded,
	   "read back: a named class, then a recorded one (rc %d)", rc);
	ok(rc == 0 && got.classes[1].nfiles == 2 &&
	       !strcmp(got.classes[1].files[0].path, "/usr/lib/z.so") &&
	       !strcmp(got.classes[1].files[1].path, "/usr/bin/a"),
	   "the recorded files keep their first-opened order");
	ok(rc == 0 && got.classes[1].files[1].stamp.ino == 102 &&
	       got.classes[1].files[1].stamp.size == 5002 &&
	       got.classes[1].files[1].stamp.mtime_ns == 1700000000123456791LL &&
	       got.classes[1].files[1].ranges.n == 1 &&
	       got.classes[1].files[1].ranges.v[0].off == 3 << 20,
	   "a recorded file keeps its stamp and extents");
	ok(rc == 0 && !strstr(text, "file=/opt/models/a\nstamp="), "a named class has no stamps");
	if (!rc)
		saved_plan_free(&got);
	free(text);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		rc = saved_plan_parse(texts[i].text, &got);
		ok(rc == texts[i].rc, "%s: %d (want %d)", texts[i].what, rc, texts[i].rc);
		if (!rc && i == 1)
			ok(got.classes[0].recorded && got.classes[0].files[0].stamp.mtime_ns == -5,
			   "a negative mtime is read back");
		if (!rc)
			saved_plan_free(&got);
	}
	for (i = 0; i < 3; i++)
		rangelist_free(&files[i].ranges);
}

/*
 * Nothing resident after a drop. Valgrind itself reads the start of every
 * file mapped (to look for ELF headers), with read-ahead: under it, nothing
 * past the first 128 KiB.
 */
static bool dropped(const struct rangelist *rl)
{
	if (!RUNNING_ON_VALGRIND)
		return rl->n == 0;
	return rl->n == 0 || (rl->n == 1 && rl->v[0].off == 0 && rl->v[0].len <= 128 * 1024);
}

/* Pages 0-1 and 5 of a 64-page file read back after dropping them all. */
static void test_resident_pages(void)
{
	char path[] = "/var/tmp/unit-record.XXXXXX", buf[4096];
	long page = sysconf(_SC_PAGESIZE);
	struct rangelist rl;
	int fd, rc;
	size_t i;

	rangelist_init(&rl);
	fd = mkstemp(path);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; fd >= 0 && i < 64 * (size_t)page / sizeof(buf); i++)
		if (write(fd, buf, sizeof(buf)) < 0)
			break;
	/*
	 * DONTNEED skips pages still under writeback, which a busy machine may
	 * have: ask again until they are gone, for up to 2 s.
	 */
	rc = fd < 0 ? -errno : 0;
	for (i = 0; !rc && i < 100; i++) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		rangelist_free(&rl);
		rc = resident_pages(fd, &rl);
		if (dropped(&rl))
			break;
		usleep(20000);
	}
	ok(rc == 0 && dropped(&rl), "dropped: nothing resident (rc %d, %zu ranges)", rc, rl.n);
	rangelist_free(&rl);
	if (fd >= 0 && (pread(fd, buf, 1, 0) < 0 || pread(fd, buf, 1, page) < 0 ||
			pread(fd, buf, 1, 5 * page) < 0))
		rc = -errno;
	/* Read-ahead may bring more: ask for none. */
	rc = rc ? rc : resident_pages(fd, &rl);
	ok(rc == 0 && rl.n >= 1 && rl.v[0].off == 0 && rl.v[0].len >= 2 * (uint64_t)page,
	   "pages 0 and 1 read: resident from 0 (%zu ranges, first %llu bytes)", rl.n,
	   rl.n ? (unsigned long long)rl.v[0].len : 0ULL);
	ok(rc == 0 && rangelist_bytes(&rl) <= 64 * (uint64_t)page, "no more than the file");
	rangelist_free(&rl);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

/* FIEMAP of a window of a file: only that part's bytes, at that part's place. */
static void test_part(void)
{
	char path[] = "/var/tmp/unit-record.XXXXXX", buf[65536];
	struct file_extents whole, part;
	struct rangelist win;
	int fd, rc = 0;
	size_t i;

	file_extents_init(&whole);
	file_extents_init(&part);
	rangelist_init(&win);
	fd = mkstemp(path);
	memset(buf, 'y', sizeof(buf));
	for (i = 0; fd >= 0 && i < 16; i++)
		if (write(fd, buf, sizeof(buf)) < 0)
			rc = -errno;
	rangelist_add(&win, 65536, 8192);
	if (fd >= 0 && !rc)
		rc = file_extents_map(fd, &whole);
	if (!rc)
		rc = file_extents_map_part(fd, &part, &win);
	if (rc == -EOPNOTSUPP) {
		ok(1, "# SKIP /var/tmp has no FIEMAP");
		ok(1, "# SKIP /var/tmp has no FIEMAP");
	} else {
		ok(rc == 0 && rangelist_bytes(&part.phys) + rangelist_bytes(&part.through) == 8192,
		   "a window of 8 KiB maps to 8 KiB (rc %d)", rc);
		/* With one extent, the window lies 64 KiB into it. */
		ok(rc == 0 &&
		       (whole.phys.n != 1 ||
			(part.phys.n == 1 && part.phys.v[0].off == whole.phys.v[0].off + 65536)),
		   "at 64 KiB into the file's extent (%zu extents)", whole.phys.n);
	}
	file_extents_free(&whole);
	file_extents_free(&part);
	rangelist_free(&win);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

static void test_options(void)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t ms;
	} d[] = {
	    {"30", 0, 30000},	{"30s", 0, 30000},    {"500ms", 0, 500},  {"5m", 0, 300000},
	    {"1h", 0, 3600000}, {"0", -ERANGE, 0},    {"-1", -EINVAL, 0}, {"5x", -EINVAL, 0},
	    {"", -EINVAL, 0},	{"169h", -ERANGE, 0},
	};
	const char *why;
	unsigned int r;
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		ms = 0;
		ok(opt_duration(d[i].s, &ms, &why) == d[i].rc && (d[i].rc || ms == d[i].ms),
		   "--for '%s': %d, %llu ms", d[i].s, d[i].rc, (unsigned long long)d[i].ms);
	}
	ok(!opt_recorded("first", &r, &why) && r == RECORDED_FIRST &&
	       !opt_recorded("after", &r, &why) && r == RECORDED_AFTER &&
	       !opt_recorded("off", &r, &why) && r == RECORDED_OFF,
	   "--recorded first, after, off");
	why = NULL;
	r = (unsigned int)opt_recorded("last", &r, &why);
	ok((int)r == -EINVAL && why, "--recorded last: refused (%s)", why ? why : "no reason");
}

int main(void)
{
	plan(13 + 3 + 2 + 12);
	test_format();
	test_resident_pages();
	test_part();
	test_options();
	return exit_status();
}
