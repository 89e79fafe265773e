/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Disk locks. The lock file is never removed: unlinking a file others may be
 * waiting on would let two holders lock two different files of one name.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/lock.h"
#include "base/statefile.h"

static pid_t read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

int disk_lock(const char *dir, const char *disk, bool wait, pid_t *holder)
{
	char path[PATH_MAX], pid[32];
	int fd, rc, len;

	*holder = 0;
	rc = state_mkdir(dir);
	if (rc)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s.lock", dir, disk) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		if (rc == -EWOULDBLOCK) {
			*holder = read_holder(fd);
			rc = -EBUSY;
			if (wait)
				rc = flock(fd, LOCK_EX) < 0 ? -errno : 0;
		}
		if (rc) {
			close(fd);
			return rc;
		}
	}
	len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}
