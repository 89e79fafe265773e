/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: option values. Queue depth, strides, block size, rate and
 * progress accept what they should and refuse zero, absurd values, bad
 * suffixes and buffer memory past the cap, each with a reason; so do the
 * snapshot block (8K to 64M, a multiple of 4K) and the read mode.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cli/options.h"
#include "../lib/tap.h"

struct row {
	const char *in;
	int rc;
	unsigned long long out;
};

static const struct row depths[] = {
	{ "1", 0, 1 },	      { "64", 0, 64 },	   { "1024", 0, 1024 }, { "0", -ERANGE, 0 },
	{ "1025", -ERANGE, 0 }, { "99999999999999999999", -ERANGE, 0 },
	{ "", -EINVAL, 0 },   { "-1", -EINVAL, 0 }, { "8x", -EINVAL, 0 },	{ "4K", -EINVAL, 0 },
};

static const struct row blocks[] = {
	{ "4K", 0, 4096 },	    { "512K", 0, 524288 }, { "64M", 0, 67108864 },
	{ "0", -ERANGE, 0 },	    { "512", -ERANGE, 0 }, { "65M", -ERANGE, 0 },
	{ "1G", -ERANGE, 0 },	    { "6K", -EINVAL, 0 },  { "1Q", -EINVAL, 0 },
	{ "4096", 0, 4096 },
};

static const struct row snapshots[] = {
	{ "512K", 0, 524288 }, { "8K", 0, 8192 },      { "64M", 0, 67108864 },
	{ "4K", -ERANGE, 0 },  { "128M", -ERANGE, 0 }, { "12K", 0, 12288 },
	{ "10K", -EINVAL, 0 },
};

static const struct row rates[] = {
	{ "0", 0, 0 }, { "100M", 0, 104857600 }, { "100MB", 0, 100000000 }, { "fast", -EINVAL, 0 },
};

int main(void)
{
	const char *why;
	unsigned int u;
	uint64_t v;
	size_t i;
	enum progress_mode pm;
	enum read_mode rm;

	plan(sizeof(depths) / sizeof(depths[0]) + sizeof(blocks) / sizeof(blocks[0]) +
	     sizeof(rates) / sizeof(rates[0]) + sizeof(snapshots) / sizeof(snapshots[0]) + 7 + 5);

	for (i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		int rc = opt_count(depths[i].in, 1, MAX_QUEUE_DEPTH, &u, &why);

		ok(rc == depths[i].rc && (rc || u == depths[i].out), "queue depth \"%s\": %s",
		   depths[i].in, rc ? why : "ok");
	}
	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		int rc = opt_block_size(blocks[i].in, &v, &why);

		ok(rc == blocks[i].rc && (rc || v == blocks[i].out), "block size \"%s\": %s",
		   blocks[i].in, rc ? why : "ok");
	}
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		int rc = opt_rate(rates[i].in, &v, &why);

		ok(rc == rates[i].rc && (rc || v == rates[i].out), "rate \"%s\": %s", rates[i].in,
		   rc ? why : "ok");
	}
	for (i = 0; i < sizeof(snapshots) / sizeof(snapshots[0]); i++) {
		int rc = opt_snapshot_block(snapshots[i].in, &v, &why);

		ok(rc == snapshots[i].rc && (rc || v == snapshots[i].out), "snapshot block \"%s\": %s",
		   snapshots[i].in, rc ? why : "ok");
	}
	ok(!opt_read_mode("full", &rm, &why) && rm == READ_MODE_FULL, "read mode full");
	ok(!opt_read_mode("touch", &rm, &why) && rm == READ_MODE_TOUCH, "read mode touch");
	ok(!opt_read_mode("auto", &rm, &why) && rm == READ_MODE_AUTO, "read mode auto");
	ok(opt_read_mode("partial", &rm, &why) == -EINVAL, "read mode partial refused: %s", why);
	ok(!strcmp(read_mode_name(READ_MODE_TOUCH), "touch") &&
		   !strcmp(read_mode_name(READ_MODE_FULL), "full"),
	   "read modes are named as they are written");
	ok(!opt_progress("auto", &pm, &why) && pm == PROGRESS_AUTO, "progress auto");
	ok(!opt_progress("always", &pm, &why) && pm == PROGRESS_ALWAYS, "progress always");
	ok(!opt_progress("never", &pm, &why) && pm == PROGRESS_NEVER, "progress never");
	ok(opt_progress("sometimes", &pm, &why) == -EINVAL, "progress sometimes refused");
	ok(!opt_check_memory(DEFAULT_QUEUE_DEPTH, DEFAULT_BLOCK_SIZE, &why) &&
		   (uint64_t)DEFAULT_QUEUE_DEPTH * DEFAULT_BLOCK_SIZE <= 64ULL << 20,
	   "defaults use at most 64 MiB of buffers");
	ok(!opt_check_memory(1024, 1 << 20, &why), "1024 x 1M is allowed (1 GiB)");
	ok(opt_check_memory(1024, 2 << 20, &why) == -ERANGE, "1024 x 2M is refused");
	return exit_status();
}
