/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One hydration per disk: an flock()ed file per whole disk in a lock
 * directory, holding the pid of its holder. The kernel drops the lock when
 * the holder exits, however it exits.
 */
#ifndef BLKHYDRATE_LOCK_H
#define BLKHYDRATE_LOCK_H

#include <stdbool.h>
#include <sys/types.h>

#define DEFAULT_LOCK_DIR "/run/blkhydrate/lock"

/*
 * Lock @disk (a volid disk key) under @dir, creating @dir if needed. With
 * @wait, block until the holder lets go. Returns an fd to keep open while
 * hydrating, -EBUSY with *@holder set (0: unknown) when another process
 * holds it, -EINTR when a signal ended the wait, or -errno.
 */
int disk_lock(const char *dir, const char *disk, bool wait, pid_t *holder);

#endif
