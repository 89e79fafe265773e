/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * State files. Readers never see a partial file: a writer fills a temporary
 * file beside the real one and renames it over.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/statefile.h"

int state_mkdir(const char *path)
{
	char buf[PATH_MAX], *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_write(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd, dfd, rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	rc = state_mkdir(dir);
	if (rc)
		return rc;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, data, len);
	if (!rc && fchmod(fd, 0644) < 0)
		rc = -errno;
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* The rename itself must survive a crash too. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int state_read(const char *path, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *buf;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto done;
	}
	if (st.st_size > STATE_FILE_MAX) {
		rc = -EFBIG;
		goto done;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto done;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	if (rc) {
		free(buf);
		goto done;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
done:
	close(fd);
	return rc;
}

int state_load(const char *dir, const char *name, int (*parse)(const char *text, void *obj),
	       void *obj)
{
	char path[PATH_MAX], *text;
	size_t len;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	rc = state_read(path, &text, &len);
	if (rc == -EINVAL || rc == -EFBIG)
		return -EBADMSG;
	if (rc)
		return rc;
	/* A NUL byte inside: not text we wrote. */
	rc = strlen(text) == len ? parse(text, obj) : -EBADMSG;
	free(text);
	return rc;
}

int state_name(const char *key, const char *suffix, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	const unsigned char *k;

	for (k = (const unsigned char *)key; *k; k++) {
		bool plain = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
			     (*k >= '0' && *k <= '9') || *k == '_' || *k == '-' ||
			     (*k == '.' && k != (const unsigned char *)key);

		if (o + 4 > outlen)
			return -ENAMETOOLONG;
		if (plain) {
			out[o++] = (char)*k;
		} else {
			out[o++] = '%';
			out[o++] = hex[*k >> 4];
			out[o++] = hex[*k & 15];
		}
	}
	if (o + strlen(suffix) + 1 > outlen || o + strlen(suffix) > NAME_MAX)
		return -ENAMETOOLONG;
	strcpy(out + o, suffix);
	return 0;
}

int state_parse_kv(const char *text, const char *magic,
		   int (*fn)(const char *key, const char *value, void *arg), void *arg)
{
	const char *p, *nl;
	char line[1024], *eq;
	size_t n;
	int rc;

	if (strncmp(text, magic, strlen(magic)))
		return -EBADMSG;
	for (p = text + strlen(magic); *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			return -EBADMSG;
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			return -EBADMSG;
		memcpy(line, p, n);
		line[n] = '\0';
		eq = strchr(line, '=');
		if (!eq)
			return -EBADMSG;
		*eq++ = '\0';
		rc = fn(line, eq, arg);
		if (rc)
			return rc;
	}
	return 0;
}

int state_parse_u64_at(const char *s, uint64_t *v, char **end)
{
	if (*s < '0' || *s > '9')
		return -EBADMSG;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -EBADMSG : 0;
}

int state_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	return state_parse_u64_at(s, v, &end) || *end ? -EBADMSG : 0;
}

static bool wanted(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	/* Hidden names are the temporary files of writers in progress. */
	return name[0] != '.' && n > k && !strcmp(name + n - k, suffix);
}

int state_scan(const char *dir, const char *suffix,
	       int (*cb)(const char *path, const char *text, int err, void *arg), void *arg)
{
	char path[PATH_MAX], *text;
	struct dirent **names;
	size_t len;
	int i, n, rc = 0, err;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		if (!rc && wanted(names[i]->d_name, suffix)) {
			text = NULL;
			if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
			    (int)sizeof(path))
				err = -ENAMETOOLONG;
			else
				err = state_read(path, &text, &len);
			if (!err && strlen(text) != len)
				err = -EBADMSG;
			rc = cb(path, err ? NULL : text, err, arg);
			free(text);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}
