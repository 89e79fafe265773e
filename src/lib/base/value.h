/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small values every layer shares: booleans as the command line and the
 * configuration write them, shares of a whole, and growable arrays.
 */
#ifndef BLKHYDRATE_VALUE_H
#define BLKHYDRATE_VALUE_H

#include <stddef.h>
#include <stdint.h>

/* "yes", "true", "1" -> 1; "no", "false", "0" -> 0 (case-insensitive); else -EINVAL. */
int bool_parse(const char *s);

/* @part of @whole in percent; an empty whole has nothing left to do: 100. */
double percent(uint64_t part, uint64_t whole);

/*
 * Make room for element @n (0-based) of the array *@arrayp of @size-byte
 * elements, which has room for *@cap. With @cap NULL the array is one only
 * ever grown by this function, one element at a time: its room is implied
 * by @n. Returns 0 or -ENOMEM (the array unchanged).
 */
int array_grow(void *arrayp, size_t *cap, size_t n, size_t size);

/* array_grow() for an array variable: ARRAY_GROW(v, n, &cap) or (v, n, NULL). */
#define ARRAY_GROW(v, n, cap) array_grow(&(v), (cap), (n), sizeof(*(v)))

/* Give back the room of *@arrayp (@n elements of @size, room *@cap) beyond @n; kept on failure. */
void array_trim(void *arrayp, size_t *cap, size_t n, size_t size);
#define ARRAY_TRIM(v, n, cap) array_trim(&(v), (cap), (n), sizeof(*(v)))

/* Out of memory in the words every command uses. */
#define OUT_OF_MEMORY "out of memory"

#endif
