/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for size_parse() and size_format(): a string is a size
 * or has a reason why not; a size formats into a bounded buffer.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[32];
	const char *why = NULL;
	uint64_t v;
	int rc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = size_parse(s, &v, &why);
	if (rc && rc != -EINVAL && rc != -ERANGE)
		abort();
	if (rc == -EINVAL && !why)
		abort();
	if (!rc && strlen(size_format(v, buf, sizeof(buf))) >= sizeof(buf))
		abort();
	free(s);
	return 0;
}
