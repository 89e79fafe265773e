/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ledger: one small file per finished hydration under the state
 * directory, keyed by the volume's identity (volume id, serial or file
 * system UUID, and size), so a volume attached again is not read again.
 */
#ifndef BLKHYDRATE_LEDGER_H
#define BLKHYDRATE_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#define DEFAULT_STATE_DIR "/var/lib/blkhydrate"
#define LEDGER_SUBDIR "ledger"

struct ledger_entry {
	char volume[160];	/* "vol-0123...", a serial, or "uuid:..." */
	uint64_t size;
	char device[64];	/* kernel name it had when hydrated */
	int64_t finished;	/* seconds since the epoch */
	uint64_t bytes;		/* bytes read */
	uint64_t ms;		/* how long it took */
};

/* The entry as file text. Returns the length, or -ENOSPC when @outlen is short. */
int ledger_format(const struct ledger_entry *e, char *out, size_t outlen);

/* Parse file text. Returns 0, or -EBADMSG when it is not a whole, valid entry. */
int ledger_parse(const char *text, struct ledger_entry *e);

/* Record @e under @state_dir (made if missing), atomically. Returns 0 or -errno. */
int ledger_record(const char *state_dir, const struct ledger_entry *e);

/*
 * Look up @volume of @size. Returns 0 and fills @e when it was hydrated,
 * -ENOENT when it was not, -EBADMSG when its file is corrupt (treat as not
 * hydrated, and say so), or -errno.
 */
int ledger_lookup(const char *state_dir, const char *volume, uint64_t size,
		  struct ledger_entry *e);

/*
 * Call @cb for every ledger file, sorted by name: with the entry and err 0,
 * or with err -EBADMSG (corrupt) or -errno and the file's path. Returns 0,
 * the first non-zero return of @cb, or -errno when the directory cannot be
 * read (-ENOENT: no ledger yet).
 */
int ledger_list(const char *state_dir,
		int (*cb)(const struct ledger_entry *e, const char *path, int err, void *arg),
		void *arg);

#endif
