/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What "list", "discover" and "status" print: disks with what discovery
 * found and the decision, for people, as JSON, and as KEY=VALUE lines for
 * a udev rule's IMPORT{program}; running and finished hydrations.
 */
#ifndef BLKHYDRATE_LISTING_H
#define BLKHYDRATE_LISTING_H

#include <stdbool.h>
#include <stdio.h>

#include "policy/decide.h"
#include "device/disk.h"
#include "state/ledger.h"
#include "state/runstate.h"

void listing_disk(FILE *f, const struct disk_info *di, struct decide_out d);
void listing_disk_json(FILE *f, const struct disk_info *di, struct decide_out d, bool first);
void listing_disk_udev(FILE *f, const struct disk_info *di, struct decide_out d);

/* @alive: its process still runs; otherwise it is shown as stopped. */
void listing_running(FILE *f, const struct run_state *st, bool alive);
void listing_running_json(FILE *f, const struct run_state *st, bool alive, bool first);
void listing_finished(FILE *f, const struct ledger_entry *e);
void listing_finished_json(FILE *f, const struct ledger_entry *e, bool first);

#endif
