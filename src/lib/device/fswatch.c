/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fanotify in notification class: every open of a file on the watched file
 * systems hands us an event with a descriptor of the file. We note each
 * file once, by (device, inode), with its path and the time of its first
 * open, and close the descriptor at once. The descriptors the kernel gives
 * us are opened without notification, so reading them makes no events.
 * Directories are not asked for (no FAN_ONDIR); other non-regular files
 * are skipped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/value.h"
#include "device/devmap.h"
#include "device/fswatch.h"

#define EVENT_BUF 65536

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t hash_of(dev_t dev, ino_t ino, size_t nslot)
{
	uint64_t h =
	    ((uint64_t)dev * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)ino * 0xff51afd7ed558ccdull);

	return (size_t)(h ^ (h >> 29)) & (nslot - 1);
}

/* Double the table; kept at most half full. Returns 0 or -ENOMEM. */
static int rehash(struct fswatch *w)
{
	size_t nslot = w->nslot ? w->nslot * 2 : 1024, i, h;
	size_t *slot = calloc(nslot, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (i = 0; i < w->n; i++) {
		for (h = hash_of(w->v[i].dev, w->v[i].ino, nslot); slot[h];
		     h = (h + 1) & (nslot - 1))
			;
		slot[h] = i + 1;
	}
	free(w->slot);
	w->slot = slot;
	w->nslot = nslot;
	return 0;
}

/* The file behind @fd, noted once. Returns 0 or -ENOMEM. */
static int note_file(struct fswatch *w, int fd)
{
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t len;
	size_t h;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (2 * (w->n + 1) > w->nslot && rehash(w))
		return -ENOMEM;
	for (h = hash_of(st.st_dev, st.st_ino, w->nslot); w->slot[h];
	     h = (h + 1) & (w->nslot - 1)) {
		const struct fswatch_file *f = &w->v[w->slot[h] - 1];

		if (f->dev == st.st_dev && f->ino == st.st_ino)
			return 0;
	}
	if (w->max_files && w->n >= w->max_files) {
		w->dropped++;
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, path, sizeof(path) - 1);
	if (len <= 0 || path[0] != '/')
		return 0;
	path[len] = '\0';
	if (ARRAY_GROW(w->v, w->n, NULL))
		return -ENOMEM;
	w->v[w->n].path = strdup(path);
	if (!w->v[w->n].path)
		return -ENOMEM;
	w->v[w->n].dev = st.st_dev;
	w->v[w->n].ino = st.st_ino;
	w->v[w->n].first_ns = now_ns() - w->t0_ns;
	w->slot[h] = ++w->n;
	return 0;
}

int fswatch_start(struct fswatch *w, dev_t disk, size_t max_files)
{
	struct mountlist ml;
	size_t i;
	int rc;

	memset(w, 0, sizeof(*w));
	w->max_files = max_files;
	w->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
			      O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
	if (w->fd < 0)
		return -errno;
	rc = devmap_mounts_of(disk, true, &ml);
	if (rc)
		goto fail;
	for (i = 0; i < ml.n; i++) {
		rc = fanotify_mark(w->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN, AT_FDCWD,
				   ml.v[i].dir);
		/* Kernels before 4.20 know only mounts. */
		if (rc && errno == EINVAL)
			rc = fanotify_mark(w->fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN, AT_FDCWD,
					   ml.v[i].dir);
		if (rc) {
			rc = -errno;
			mountlist_free(&ml);
			goto fail;
		}
		w->marks++;
	}
	mountlist_free(&ml);
	if (!w->marks) {
		rc = -ENOENT;
		goto fail;
	}
	w->t0_ns = now_ns();
	return 0;
fail:
	close(w->fd);
	w->fd = -1;
	return rc;
}

int fswatch_drain(struct fswatch *w)
{
	char *buf;
	ssize_t len;
	int rc = 0;

	if (w->fd < 0)
		return 0;
	buf = malloc(EVENT_BUF);
	if (!buf)
		return -ENOMEM;
	while ((len = read(w->fd, buf, EVENT_BUF)) > 0) {
		struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;

		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->mask & FAN_Q_OVERFLOW)
				w->dropped++;
			if (m->fd < 0)
				continue;
			if (!rc)
				rc = note_file(w, m->fd);
			close(m->fd);
		}
	}
	free(buf);
	return rc;
}

void fswatch_stop(struct fswatch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void fswatch_free(struct fswatch *w)
{
	size_t i;

	fswatch_stop(w);
	for (i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
	free(w->slot);
	w->v = NULL;
	w->slot = NULL;
	w->n = w->nslot = 0;
}
