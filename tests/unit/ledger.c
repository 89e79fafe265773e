/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the ledger. An entry written is found again by its volume
 * and size and not by another size; odd characters in a volume id make a
 * safe file name; corrupt files (truncated, garbage, wrong header, a bad
 * number, naming another volume) are reported as corrupt, not trusted; the
 * listing gives every entry and flags corrupt ones. All under a temporary
 * directory.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/ledger.h"
#include "base/statefile.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/unit-ledger.XXXXXX";

static int put(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" LEDGER_SUBDIR "/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

struct count {
	unsigned int good, bad;
};

static int count(const struct ledger_entry *e, const char *path, int err, void *arg)
{
	struct count *c = arg;

	(void)e;
	(void)path;
	if (err)
		c->bad++;
	else
		c->good++;
	return 0;
}

static const struct {
	const char *what;
	const char *text;
} corrupt[] = {
	{ "empty", "" },
	{ "garbage", "\x7f" "ELF\x02\x01" },
	{ "wrong header", "# something else\nvolume=vol-0abc\nsize=1048576\nfinished=1\n" },
	{ "cut short", "# blkhydrate ledger 1\nvolume=vol-0abc\nsize=1048576\nfinished=1" },
	{ "no size", "# blkhydrate ledger 1\nvolume=vol-0abc\nfinished=1\n" },
	{ "bad number", "# blkhydrate ledger 1\nvolume=vol-0abc\nsize=1M\nfinished=1\n" },
	{ "negative time", "# blkhydrate ledger 1\nvolume=vol-0abc\nsize=1048576\nfinished=-1\n" },
	{ "line without =", "# blkhydrate ledger 1\nvolume=vol-0abc\nsize=1048576\nfinished\n" },
	{ "another volume", "# blkhydrate ledger 1\nvolume=vol-0def\nsize=1048576\nfinished=1\n" },
};

int main(void)
{
	struct ledger_entry e = { .volume = "vol-0123456789abcdef0", .size = 8ULL << 30,
				  .device = "nvme1n1", .finished = 1790000000, .bytes = 8ULL << 30,
				  .ms = 42000 };
	struct ledger_entry got, odd = e;
	struct count c = { 0 };
	char text[1024];
	size_t i, n = sizeof(corrupt) / sizeof(corrupt[0]);
	int rc;

	plan((unsigned int)n + 13);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	ok(ledger_lookup(dir, e.volume, e.size, &got) == -ENOENT, "no ledger yet: not hydrated");
	ok(ledger_list(dir, count, &c) == -ENOENT, "no ledger yet: listing says ENOENT");
	rc = ledger_record(dir, &e);
	ok(rc == 0, "record an entry (rc %d)", rc);
	rc = ledger_lookup(dir, e.volume, e.size, &got);
	ok(rc == 0 && !strcmp(got.volume, e.volume) && got.size == e.size &&
		   !strcmp(got.device, "nvme1n1") && got.finished == e.finished &&
		   got.bytes == e.bytes && got.ms == e.ms,
	   "round trip: every field back (rc %d)", rc);
	ok(ledger_lookup(dir, e.volume, e.size + 4096, &got) == -ENOENT,
	   "the same volume at another size is not hydrated (a resized volume)");
	ok(ledger_lookup(dir, "vol-0ffffffffffffffff", e.size, &got) == -ENOENT,
	   "another volume is not hydrated");

	snprintf(odd.volume, sizeof(odd.volume), "uuid:../../etc/passwd %%x");
	rc = ledger_record(dir, &odd);
	ok(rc == 0 && ledger_lookup(dir, odd.volume, odd.size, &got) == 0 &&
		   !strcmp(got.volume, odd.volume),
	   "a volume id with '/', '%%' and spaces round-trips (rc %d)", rc);
	snprintf(text, sizeof(text), "%s/" LEDGER_SUBDIR "/uuid%%3A..%%2F..%%2Fetc%%2Fpasswd%%20%%25x@%llu",
		 dir, (unsigned long long)odd.size);
	ok(access(text, F_OK) == 0, "... as an escaped name inside the ledger directory");

	ok(ledger_format(&e, text, 16) == -ENOSPC, "formatting into a short buffer fails");
	rc = ledger_format(&e, text, sizeof(text));
	ok(rc > 0 && ledger_parse(text, &got) == 0 && got.size == e.size, "format then parse");
	strcat(text, "future-key=anything\n");
	ok(ledger_parse(text, &got) == 0, "unknown keys are left for newer versions");

	/* vol-0abc at 1 MiB: its file name, then one corrupt text after another. */
	for (i = 0; i < n; i++) {
		ok(put("vol-0abc@1048576", corrupt[i].text) == 0 &&
			   ledger_lookup(dir, "vol-0abc", 1048576, &got) == -EBADMSG,
		   "corrupt (%s): reported, not trusted", corrupt[i].what);
	}
	put("vol-0abc@1048576", "garbage\n");
	rc = ledger_list(dir, count, &c);
	ok(rc == 0 && c.good == 2 && c.bad == 1, "listing: 2 entries and 1 corrupt file (%u, %u)",
	   c.good, c.bad);
	put("../" LEDGER_SUBDIR "/.vol-0abc@1048576.tmp", "half");
	c.good = c.bad = 0;
	ok(ledger_list(dir, count, &c) == 0 && c.good == 2 && c.bad == 1,
	   "a writer's hidden temporary file is not listed");

	snprintf(text, sizeof(text), "rm -rf '%s'", dir);
	return system(text) ? 1 : exit_status();
}
