/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * I/O priority of our reads: "idle", "be[:level]" or "rt[:level]" as the
 * value io_uring carries in each SQE's ioprio (class << 13 | level).
 */
#ifndef BLKHYDRATE_IOPRIO_H
#define BLKHYDRATE_IOPRIO_H

#include <stdint.h>

/* Best effort at the middle level, like a task that never asked. */
#define DEFAULT_IOPRIO "be:4"

/* Returns 0, or -EINVAL with @why set. */
int ioprio_parse(const char *str, uint16_t *res, const char **why);

/* "idle", "be:4", ... for a value from ioprio_parse(); @buf holds 8 bytes. */
const char *ioprio_name(uint16_t prio, char *buf, unsigned int len);

#endif
