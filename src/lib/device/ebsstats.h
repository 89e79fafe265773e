/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The EBS NVMe statistics log page (log id 0xD0, 4096 bytes, magic
 * 0x3C23B510): what an EBS volume counts about itself, above all the time it
 * spent over its own and the instance's IOPS and throughput limits.
 */
#ifndef BLKHYDRATE_EBSSTATS_H
#define BLKHYDRATE_EBSSTATS_H

#include <stdint.h>

#define EBS_STATS_LOG_ID 0xD0
#define EBS_STATS_SIZE 4096
#define EBS_STATS_MAGIC 0x3C23B510u
#define EBS_STATS_MAX_BINS 64

struct ebs_bin {
	uint64_t lower, upper;	/* microseconds */
	uint32_t count;
};

struct ebs_stats {
	uint32_t version;
	uint64_t read_ops, write_ops;
	uint64_t read_bytes, write_bytes;
	uint64_t read_time_us, write_time_us;
	/* Microseconds spent over a limit, since the volume was attached. */
	uint64_t volume_iops_exceeded_us, volume_tp_exceeded_us;
	uint64_t instance_iops_exceeded_us, instance_tp_exceeded_us;
	uint64_t queue_length;	/* at the moment of reading */
	unsigned int read_bins;
	struct ebs_bin read_hist[EBS_STATS_MAX_BINS];
};

/*
 * Parse a log page. Returns 0, or -ENODATA when @page is not an EBS volume's
 * (wrong magic: another device, instance storage).
 */
int ebs_stats_parse(const uint8_t page[EBS_STATS_SIZE], struct ebs_stats *st);

/* Microseconds over any limit between @a and the later @b. */
uint64_t ebs_stats_exceeded_us(const struct ebs_stats *a, const struct ebs_stats *b);

#endif
