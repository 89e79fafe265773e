/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the EBS NVMe statistics log page parser, on pages built byte
 * by byte (little endian, at the offsets of the published layout): every
 * counter lands in its field, the read latency histogram is read, a wrong
 * magic (another NVMe device, instance storage) is refused, a bin count past
 * the array is clipped, and the time over limits between two pages adds up.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "device/ebsstats.h"
#include "../lib/tap.h"

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void build(uint8_t *page, uint64_t base)
{
	int i;

	memset(page, 0xee, EBS_STATS_SIZE);	/* reserved bytes must not matter */
	put32(page, EBS_STATS_MAGIC);
	put32(page + 4, 1);
	for (i = 0; i < 11; i++)
		put64(page + 8 + 8 * i, base + (uint64_t)i);
	/* read histogram: 3 bins */
	put64(page + 512, 3);
	for (i = 0; i < 3; i++) {
		put64(page + 520 + 24 * i, (uint64_t)1 << (i + 3));
		put64(page + 520 + 24 * i + 8, (uint64_t)1 << (i + 4));
		put32(page + 520 + 24 * i + 16, 100u + (uint32_t)i);
	}
}

int main(void)
{
	static uint8_t page[EBS_STATS_SIZE], page2[EBS_STATS_SIZE];
	struct ebs_stats a, b;
	int rc;

	plan(13);

	build(page, 1000);
	rc = ebs_stats_parse(page, &a);
	ok(rc == 0 && a.version == 1, "an EBS page parses (version %u)", a.version);
	ok(a.read_ops == 1000 && a.write_ops == 1001, "total read and write ops");
	ok(a.read_bytes == 1002 && a.write_bytes == 1003, "total read and write bytes");
	ok(a.read_time_us == 1004 && a.write_time_us == 1005, "total read and write time");
	ok(a.volume_iops_exceeded_us == 1006 && a.volume_tp_exceeded_us == 1007,
	   "time over the volume's IOPS and throughput limits");
	ok(a.instance_iops_exceeded_us == 1008 && a.instance_tp_exceeded_us == 1009,
	   "time over the instance's IOPS and throughput limits");
	ok(a.queue_length == 1010, "queue length");
	ok(a.read_bins == 3 && a.read_hist[0].lower == 8 && a.read_hist[0].upper == 16 &&
		   a.read_hist[2].lower == 32 && a.read_hist[2].upper == 64 &&
		   a.read_hist[1].count == 101,
	   "read latency histogram: %u bins, bounds and counts", a.read_bins);

	build(page2, 1000);
	put64(page2 + 8 + 8 * 6, 1006 + 250000);	/* volume IOPS: +250 ms */
	put64(page2 + 8 + 8 * 9, 1009 + 50000);		/* instance throughput: +50 ms */
	ebs_stats_parse(page2, &b);
	ok(ebs_stats_exceeded_us(&a, &b) == 300000, "time over limits between two pages: %llu us",
	   (unsigned long long)ebs_stats_exceeded_us(&a, &b));
	ok(ebs_stats_exceeded_us(&b, &a) == 0, "counters that went back count as nothing");

	put32(page, 0xEC2C0D7Eu);	/* instance storage */
	ok(ebs_stats_parse(page, &a) == -ENODATA, "instance storage's magic is refused");
	memset(page, 0, sizeof(page));
	ok(ebs_stats_parse(page, &a) == -ENODATA && a.read_ops == 0, "a zero page is refused");

	build(page, 0);
	put64(page + 512, 1000);
	ebs_stats_parse(page, &a);
	ok(a.read_bins == EBS_STATS_MAX_BINS, "a bin count past the array is clipped to %u",
	   a.read_bins);
	return exit_status();
}
