/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: read-fault decisions without I/O. A failed block is retried
 * FAULT_RETRIES times with growing back-off, then split in halves aligned to
 * the logical block size down to single blocks, which are given up; ENODEV
 * means gone; a streak of failures asks for one liveness check of the last good block
 * (the first block when none was read yet). Bad ranges stay sorted and merge
 * by errno.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include "io/fault.h"
#include "../lib/tap.h"

int main(void)
{
	struct fault_state fs;
	struct badlist bl;
	struct redo r;
	unsigned int i, n;
	int rc;

	plan(18);
	fault_init(&fs);
	rc = fault_failed(&fs, 4096, 8192, 1, -EIO, 512, 1000);
	ok(rc == FAULT_QUEUED && fs.nredo == 1, "a first failure is queued again");
	ok(!fault_next(&fs, 1000, &r), "not before its back-off");
	ok(fault_next_due(&fs) == 1000 + FAULT_BACKOFF_NS, "due after the first back-off");
	ok(fault_next(&fs, 1000 + FAULT_BACKOFF_NS, &r) && r.off == 4096 && r.len == 8192 &&
		   r.tries == 2,
	   "then handed out whole, as the second try");
	rc = fault_failed(&fs, 4096, 8192, 2, -EIO, 512, 0);
	ok(rc == FAULT_QUEUED && fault_next_due(&fs) == 5 * FAULT_BACKOFF_NS,
	   "the second back-off is five times longer");
	fault_drop(&fs);
	rc = fault_failed(&fs, 4096, 8192, FAULT_RETRIES + 1, -EIO, 512, 7);
	ok(rc == FAULT_QUEUED && fs.nredo == 2, "after the retries it is split in two");
	ok(fs.redo[0].off == 4096 && fs.redo[0].len == 4096 && fs.redo[1].off == 8192 &&
		   fs.redo[1].len == 4096 && fs.redo[0].due_ns == 7,
	   "halves of equal size, due at once");
	fault_drop(&fs);
	rc = fault_failed(&fs, 0, 1536, FAULT_RETRIES + 1, -EIO, 512, 0);
	ok(rc == FAULT_QUEUED && fs.redo[0].len == 1024 && fs.redo[1].len == 512,
	   "an odd number of blocks splits on a block boundary");
	fault_drop(&fs);
	ok(fault_failed(&fs, 0, 512, FAULT_RETRIES + 1, -EIO, 512, 0) == FAULT_BAD,
	   "a single logical block that still fails is bad");
	ok(fault_failed(&fs, 0, 512, 1, -ENODEV, 512, 0) == FAULT_VANISHED, "ENODEV: gone");
	ok(fault_failed(&fs, 0, 512, 1, -ENXIO, 512, 0) == FAULT_VANISHED, "ENXIO: gone");
	fault_free(&fs);

	fault_init(&fs);
	for (i = 0, n = 0; i < FAULT_STREAK; i++) {
		fault_failed(&fs, i * 4096ULL, 4096, 1, -EIO, 512, 0);
		n += fault_need_check(&fs);
	}
	ok(n == 1 && fault_check_offset(&fs) == 0 && !fault_need_check(&fs),
	   "nothing read yet: FAULT_STREAK failures check the first block, once");
	ok(!fault_check_done(&fs, false), "a failed check: gone");
	fault_free(&fs);
	fault_init(&fs);
	fault_good(&fs, 65536);
	for (i = 0; i < FAULT_STREAK; i++)
		fault_failed(&fs, i * 4096ULL, 4096, 1, -EIO, 512, 0);
	ok(fault_need_check(&fs) && !fault_need_check(&fs) && fault_check_offset(&fs) == 65536,
	   "a streak after a good read asks for one check, of that block");
	ok(fault_check_done(&fs, true) && fs.streak == 0, "a good check ends the streak");
	fault_free(&fs);

	badlist_init(&bl);
	badlist_add(&bl, 1024, 512, -EIO);
	badlist_add(&bl, 0, 512, -EIO);
	badlist_add(&bl, 512, 512, -EIO);
	ok(bl.n == 1 && bl.v[0].off == 0 && bl.v[0].len == 1536,
	   "out-of-order neighbours merge into one range");
	badlist_add(&bl, 1536, 512, -ENOMEDIUM);
	ok(bl.n == 2 && bl.v[1].err == -ENOMEDIUM, "a different errno starts a new range");
	badlist_add(&bl, 8192, 512, -EIO);
	badlist_add(&bl, 4096, 512, -EIO);
	ok(bl.n == 4 && bl.v[2].off == 4096 && bl.v[3].off == 8192, "the list stays sorted");
	badlist_free(&bl);
	return exit_status();
}
