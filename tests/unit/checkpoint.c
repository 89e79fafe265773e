/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: state files round-trip (two lists merged, sorted, checksummed,
 * with the bad ranges and their errno) through checkpoint_save() and
 * checkpoint_load(); a missing file is ENOENT; another identity or size is
 * "another volume"; any changed byte is corrupt; identities become safe file
 * names; removal is idempotent.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/checkpoint.h"
#include "../lib/tap.h"
#include "device/volid.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);

	*len = f && buf ? fread(buf, 1, 65535, f) : 0;
	if (f)
		fclose(f);
	return buf;
}

int main(void)
{
	char dir[] = "/tmp/unit-checkpoint.XXXXXX", path[4096], name[64];
	struct rangelist a, b, got;
	struct badlist bad;
	size_t len, i;
	char *text;
	int corrupt = 0;

	plan(12);
	if (!mkdtemp(dir))
		return 1;
	rangelist_init(&a);
	rangelist_init(&b);
	rangelist_add(&a, 0, 4096);
	rangelist_add(&a, 1048576, 524288);
	rangelist_add(&b, 4096, 4096);
	ok(checkpoint_load(dir, "serial:vol0123", 1 << 30, &got, NULL) == -ENOENT, "no file: ENOENT");
	badlist_init(&bad);
	badlist_add(&bad, 8192, 512, -EIO);
	badlist_add(&bad, 65536, 4096, -ENOMEDIUM);
	ok(checkpoint_save(dir, "serial:vol0123", 1 << 30, &a, &b, &bad) == 0, "saved");
	badlist_free(&bad);
	ok(checkpoint_load(dir, "serial:vol0123", 1 << 30, &got, &bad) == 0 && got.n == 2 &&
		   got.v[0].off == 0 && got.v[0].len == 8192 && got.v[1].off == 1048576,
	   "loaded back, the two lists merged");
	ok(bad.n == 2 && bad.v[0].off == 8192 && bad.v[0].len == 512 && bad.v[0].err == -EIO &&
		   bad.v[1].err == -ENOMEDIUM,
	   "with the bad ranges and their errno");
	badlist_free(&bad);
	rangelist_free(&got);
	ok(checkpoint_load(dir, "serial:vol0123", 1 << 29, &got, NULL) == -CHECKPOINT_EOTHER,
	   "another size: another volume");
	checkpoint_path(dir, "serial:vol0123", path, sizeof(path));
	text = slurp(path, &len);
	for (i = 0; i < len; i++) {
		char saved = text[i];

		text[i] ^= 0x01;
		if (checkpoint_parse(text, len, "serial:vol0123", 1 << 30, &got, NULL) == 0)
			corrupt++;
		rangelist_free(&got);
		text[i] = saved;
	}
	ok(corrupt == 0, "every one-bit change of the file's %zu bytes is refused", len);
	ok(checkpoint_parse(text, len - 1, "serial:vol0123", 1 << 30, &got, NULL) ==
		   -CHECKPOINT_ECORRUPT,
	   "a truncated file is corrupt");
	ok(checkpoint_parse(text, len, "serial:vol0124", 1 << 30, &got, NULL) == -CHECKPOINT_EOTHER,
	   "another identity: another volume");
	free(text);
	volid_filename("loop:/tmp/a b/../disk.img", name, sizeof(name));
	ok(!strcmp(name, "loop:_tmp_a_b_.._disk.img"), "identities become flat file names (%s)",
	   name);
	ok(checkpoint_remove(dir, "serial:vol0123") == 0 && access(path, F_OK) < 0,
	   "removed");
	ok(checkpoint_remove(dir, "serial:vol0123") == 0, "removing again is fine");
	ok(checkpoint_save(dir, "x", 4096, NULL, NULL, NULL) == 0 &&
		   checkpoint_load(dir, "x", 4096, &got, NULL) == 0 && got.n == 0,
	   "nothing read yet is a valid state");
	checkpoint_remove(dir, "x");
	rangelist_free(&got);
	rangelist_free(&a);
	rangelist_free(&b);
	rmdir(dir);
	return exit_status();
}
