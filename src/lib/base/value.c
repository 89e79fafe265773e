/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small values every layer shares: one boolean parser for the command line
 * and the configuration, one percentage, one growable array.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/value.h"

int bool_parse(const char *s)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1"))
		return 1;
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0"))
		return 0;
	return -EINVAL;
}

double percent(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 100.0;
}

void array_trim(void *arrayp, size_t *cap, size_t n, size_t size)
{
	void *v, *nv;

	if (!n || n >= *cap)
		return;
	memcpy(&v, arrayp, sizeof(v));
	nv = realloc(v, n * size);
	if (!nv)
		return;
	memcpy(arrayp, &nv, sizeof(nv));
	*cap = n;
}

int array_grow(void *arrayp, size_t *cap, size_t n, size_t size)
{
	size_t want;
	void *v, *nv;

	/* Without a count of the room, it is the next power of two: full at 0, 1, 2, 4, ... */
	if (cap ? n < *cap : (n & (n - 1)) != 0)
		return 0;
	want = n ? 2 * n : cap ? 4 : 1;
	if (want > SIZE_MAX / size)
		return -ENOMEM;
	/* Through memcpy: *arrayp is a pointer to any element type, not a void *. */
	memcpy(&v, arrayp, sizeof(v));
	nv = realloc(v, want * size);
	if (!nv)
		return -ENOMEM;
	memcpy(arrayp, &nv, sizeof(nv));
	if (cap)
		*cap = want;
	return 0;
}
