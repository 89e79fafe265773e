/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hydrate --attach, as blkhydrate@.service runs it for one device: skipped
 * when the ledger has the volume, its file systems' saved plans read first,
 * progress in the run directory for "status", and a ledger entry when done.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "device/disk.h"
#include "device/target.h"
#include "io/engine.h"
#include "plan/saved.h"
#include "state/ledger.h"
#include "state/runstate.h"

struct attach {
	struct disk_info di;
	struct saved_set saved;
	struct run_state state;
	const struct ctl *ctl;
	const char *path;
};

static void saved_note(void *arg, enum saved_event ev, const char *uuid, int err, const char *why)
{
	const struct attach *at = arg;

	if (ev == SAVED_BAD)
		warn_user("%s: saved plan for UUID %s %s: ignored", at->path, uuid,
			  err == -EBADMSG ? "is corrupt" : strerror(-err));
	else if (ev == SAVED_STALE)
		warn_user("%s: saved plan for UUID %s is stale (%s): ignored", at->path, uuid, why);
	else if (!at->ctl->quiet)
		warn_user("%s: using the saved plan for UUID %s", at->path, uuid);
}

int attach_prepare(const struct ctl *ctl, const struct target *t, struct attach **atp)
{
	struct attach *at = calloc(1, sizeof(*at));
	struct ledger_entry e;
	int rc;

	if (!at)
		die_oom();
	*atp = at;
	at->ctl = ctl;
	at->path = t->path;
	disk_info_of_target(t, &at->di);
	if (at->di.identity[0]) {
		rc = ledger_lookup(ctl->state_dir, at->di.identity, t->size, &e);
		if (!rc) {
			if (!ctl->quiet)
				warn_user("%s: %s was hydrated already (ledger): nothing to do",
					  t->path, e.volume);
			return 1;
		}
		if (rc != -ENOENT)
			warn_user("%s: ledger entry for %s %s: ignored", t->path, at->di.identity,
				  rc == -EBADMSG ? "is corrupt" : strerror(-rc));
	}
	if (saved_set_load(&at->saved, ctl->state_dir, &at->di.contents, t->size, saved_note, at))
		die_oom();
	snprintf(at->state.device, sizeof(at->state.device), "%s", at->di.name);
	snprintf(at->state.volume, sizeof(at->state.volume), "%s", at->di.identity);
	at->state.pid = getpid();
	at->state.started = (int64_t)time(NULL);
	return 0;
}

void attach_presets(const struct attach *at, const struct plan_preset **presets, size_t *n)
{
	*presets = at ? at->saved.presets : NULL;
	*n = at ? at->saved.npresets : 0;
}

struct run_state *attach_run_state(struct attach *at)
{
	return &at->state;
}

void attach_record(const struct ctl *ctl, const struct attach *at, const struct job *j)
{
	struct ledger_entry e;
	int rc;

	if (!at->di.identity[0]) {
		warn_user("%s: no volume id, serial or UUID: not recorded in the ledger",
			  j->target->path);
		return;
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.volume, sizeof(e.volume), "%s", at->di.identity);
	snprintf(e.device, sizeof(e.device), "%s", at->di.name);
	e.size = j->target->size;
	e.finished = (int64_t)time(NULL);
	e.bytes = j->done;
	e.ms = j->end_ns / 1000000;
	rc = ledger_record(ctl->state_dir, &e);
	if (rc)
		warn_user("%s: cannot record %s in the ledger: %s", ctl->state_dir, e.volume,
			  strerror(-rc));
}

void attach_free(struct attach *at)
{
	if (!at)
		return;
	saved_set_free(&at->saved);
	free(at);
}
