/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Telling systemd how a hydration goes when it runs as a Type=notify unit:
 * READY=1 once the priority extents are read (units ordered After= it may
 * start), STATUS= with progress. Without libsystemd, or outside a unit
 * (no $NOTIFY_SOCKET), these do nothing.
 */
#ifndef BLKHYDRATE_NOTIFY_H
#define BLKHYDRATE_NOTIFY_H

/* Send @state ("READY=1\nSTATUS=..."). Returns >0 sent, 0 not under systemd, or -errno. */
int notify_systemd(const char *state);

#include <stddef.h>

/*
 * The ActiveState of systemd unit @unit ("active", "activating", "failed",
 * ...) into @buf, over the system bus. Returns 0, -EOPNOTSUPP without
 * libsystemd, or -errno (no bus: not booted with systemd).
 */
int unit_active_state(const char *unit, char *buf, size_t len);

#endif
