/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration syntax. Which keys exist and what their values mean is the
 * caller's (src/cli/settings.c, the same table as the command line); here
 * we only split lines.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/config-file.h"
#include "base/value.h"

#define MAX_CONFIG_SIZE (1024 * 1024)

static char *trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

static int add_item(struct config *cfg, const char *key, const char *value, unsigned int line)
{
	struct config_item *v;

	if (ARRAY_GROW(cfg->v, cfg->n, NULL))
		return -ENOMEM;
	v = cfg->v;
	v[cfg->n].key = strdup(key);
	v[cfg->n].value = strdup(value);
	v[cfg->n].line = line;
	if (!v[cfg->n].key || !v[cfg->n].value) {
		free(v[cfg->n].key);
		free(v[cfg->n].value);
		return -ENOMEM;
	}
	cfg->n++;
	return 0;
}

static int __attribute__((format(printf, 3, 4)))
syntax(struct config_error *err, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int config_parse(const char *text, size_t len, config_known_fn known, struct config *cfg,
		 struct config_error *err)
{
	char *buf, *p, *end;
	unsigned int line = 0;
	int rc = 0;

	cfg->v = NULL;
	cfg->n = 0;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (p = buf; p < buf + len && !rc; p = end + 1) {
		char *eq, *key, *value, *hash;

		line++;
		end = memchr(p, '\n', (size_t)(buf + len - p));
		if (!end)
			end = buf + len;
		*end = '\0';
		if (strlen(p) != (size_t)(end - p)) {
			rc = syntax(err, line, "%s", "a NUL byte in the line");
			break;
		}
		/* A '#' starts a comment where a word could start. */
		for (hash = p; (hash = strchr(hash, '#')); hash++)
			if (hash == p || isspace((unsigned char)hash[-1]))
				break;
		if (hash)
			*hash = '\0';
		key = trim(p, p + strlen(p));
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			rc = syntax(err, line, "'%s' is not 'key = value'", key);
			break;
		}
		value = trim(eq + 1, eq + 1 + strlen(eq + 1));
		key = trim(key, eq);
		if (!*key) {
			rc = syntax(err, line, "%s", "a value without a key");
			break;
		}
		if (!known(key)) {
			rc = syntax(err, line, "unknown key '%s'", key);
			break;
		}
		if (!*value) {
			rc = syntax(err, line, "'%s' has no value", key);
			break;
		}
		rc = add_item(cfg, key, value, line);
	}
	free(buf);
	if (rc)
		config_free(cfg);
	return rc;
}

int config_load(const char *path, config_known_fn known, struct config *cfg,
		struct config_error *err)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, rc;

	err->line = 0;
	err->reason[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err->reason, sizeof(err->reason), "not a regular file");
		return -EINVAL;
	}
	/* Root reads its settings only from a file no one else can change. */
	if (geteuid() == 0 && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		close(fd);
		snprintf(err->reason, sizeof(err->reason),
			 "refused: not owned by root, or writable by group or others");
		return -EPERM;
	}
	if (st.st_size > MAX_CONFIG_SIZE) {
		close(fd);
		snprintf(err->reason, sizeof(err->reason), "larger than 1 MiB");
		return -EFBIG;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, text, (size_t)st.st_size);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (!rc)
		rc = config_parse(text, (size_t)n, known, cfg, err);
	free(text);
	return rc;
}

void config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n; i++) {
		free(cfg->v[i].key);
		free(cfg->v[i].value);
	}
	free(cfg->v);
	cfg->v = NULL;
	cfg->n = 0;
}
