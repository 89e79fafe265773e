/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Run a fuzz harness over files without libFuzzer, so that make check
 * replays the seed corpus (and CI's sanitizer and valgrind passes check it)
 * with any compiler. Prints TAP: one line per file.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int i, failed = 0;

	printf("1..%d\n", argc - 1);
	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf = NULL;
		size_t len = 0, cap = 0, n;

		while (f) {
			if (len == cap) {
				uint8_t *p = realloc(buf, cap = cap ? cap * 2 : 4096);

				if (!p)
					break;
				buf = p;
			}
			n = fread(buf + len, 1, cap - len, f);
			if (!n)
				break;
			len += n;
		}
		if (!f || ferror(f)) {
			printf("not ok %d - %s: cannot read\n", i, argv[i]);
			failed = 1;
		} else {
			/* The harness aborts on anything wrong: getting here is the pass. */
			LLVMFuzzerTestOneInput(buf, len);
			printf("ok %d - %s\n", i, argv[i]);
		}
		if (f)
			fclose(f);
		free(buf);
	}
	return failed;
}
