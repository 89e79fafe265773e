/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for checkpoint_parse(): a state file is trusted only
 * when it parses completely; what it then says was read is sorted, apart and
 * inside the volume, and its bad ranges are inside it with an errno.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "state/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t volsize = 1ULL << 30;
	struct rangelist rl;
	struct badlist bl;
	uint64_t end = 0;
	size_t i;
	int rc;

	rc = checkpoint_parse((const char *)data, size, "wwid:fuzz", volsize, &rl, &bl);
	if (rc && (rl.n || rl.v || bl.n || bl.v))
		abort();
	for (i = 0; !rc && i < bl.n; i++)
		if (!bl.v[i].len || bl.v[i].err >= 0 || bl.v[i].off + bl.v[i].len > volsize)
			abort();
	for (i = 0; !rc && i < rl.n; i++) {
		if (!rl.v[i].len || rl.v[i].off < end || rl.v[i].off + rl.v[i].len > volsize)
			abort();
		end = rl.v[i].off + rl.v[i].len;
	}
	rangelist_free(&rl);
	badlist_free(&bl);
	return 0;
}
