/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sizes as people write them on a command line ("512K", "1GiB", "300MB")
 * and as we print them back ("1.5 GiB").
 */
#ifndef BLKHYDRATE_SIZE_H
#define BLKHYDRATE_SIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse @str into bytes. Suffixes K, M, G, T (also KiB...) are powers of 1024;
 * KB, MB, GB, TB are powers of 1000. Returns 0, -EINVAL (not a size; @why says
 * what is wrong) or -ERANGE (does not fit in 64 bits).
 */
int size_parse(const char *str, uint64_t *res, const char **why);

/* Format @bytes with a binary unit, e.g. "1.5 GiB". Returns @buf. */
char *size_format(uint64_t bytes, char *buf, size_t len);

#endif
