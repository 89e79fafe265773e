/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parser of the EBS NVMe statistics log page. Layout (little endian), as
 * the Amazon plugin of nvme-cli reads it: magic and version (u32 each), then
 * u64 total read/write ops, read/write bytes, read/write time (us), time over
 * the volume's IOPS and throughput limits, over the instance's IOPS and
 * throughput limits (us), the queue length; reserved up to byte 512; then the
 * read latency histogram (u64 bin count, 64 bins of u64 lower, u64 upper, u32
 * count, u32 reserved) and the write one.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "device/ebsstats.h"

#define OFF_COUNTERS 8
#define OFF_READ_HIST 512
#define BIN_SIZE 24

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int ebs_stats_parse(const uint8_t page[EBS_STATS_SIZE], struct ebs_stats *st)
{
	uint64_t *const fields[] = {
		&st->read_ops, &st->write_ops, &st->read_bytes, &st->write_bytes,
		&st->read_time_us, &st->write_time_us,
		&st->volume_iops_exceeded_us, &st->volume_tp_exceeded_us,
		&st->instance_iops_exceeded_us, &st->instance_tp_exceeded_us,
		&st->queue_length,
	};
	const uint8_t *h = page + OFF_READ_HIST;
	uint64_t nbins;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	if (le32(page) != EBS_STATS_MAGIC)
		return -ENODATA;
	st->version = le32(page + 4);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		*fields[i] = le64(page + OFF_COUNTERS + 8 * i);
	nbins = le64(h);
	/* A count beyond the array would be a bad page: keep what fits. */
	st->read_bins = nbins > EBS_STATS_MAX_BINS ? EBS_STATS_MAX_BINS : (unsigned int)nbins;
	for (i = 0; i < st->read_bins; i++) {
		const uint8_t *b = h + 8 + BIN_SIZE * i;

		st->read_hist[i].lower = le64(b);
		st->read_hist[i].upper = le64(b + 8);
		st->read_hist[i].count = le32(b + 16);
	}
	return 0;
}

static uint64_t delta(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

uint64_t ebs_stats_exceeded_us(const struct ebs_stats *a, const struct ebs_stats *b)
{
	return delta(a->volume_iops_exceeded_us, b->volume_iops_exceeded_us) +
	       delta(a->volume_tp_exceeded_us, b->volume_tp_exceeded_us) +
	       delta(a->instance_iops_exceeded_us, b->instance_iops_exceeded_us) +
	       delta(a->instance_tp_exceeded_us, b->instance_tp_exceeded_us);
}
