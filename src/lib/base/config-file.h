/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file: "key = value" lines, '#' comments. Keys are the
 * long option names of hydrate; "priority" may repeat and keeps its order.
 */
#ifndef BLKHYDRATE_CONFFILE_H
#define BLKHYDRATE_CONFFILE_H

#include <stdbool.h>
#include <stddef.h>

#define DEFAULT_CONFIG_FILE SYSCONFDIR "/blkhydrate.conf"

struct config_item {
	char *key;
	char *value;
	unsigned int line;
};

struct config {
	struct config_item *v;
	size_t n;
};

/* True when @key is a key of the configuration. */
typedef bool (*config_known_fn)(const char *key);

struct config_error {
	unsigned int line;	/* 0: about the file as a whole */
	char reason[160];
};

/*
 * Parse @path. Returns 0, -ENOENT when it does not exist, -EPERM when root
 * would run a file another user can change, -EINVAL on a syntax error or an
 * key @known refuses (@err says where and why), or -errno.
 */
int config_load(const char *path, config_known_fn known, struct config *cfg,
		struct config_error *err);

/* Parse a configuration held in memory (the fuzz harness and tests use it). */
int config_parse(const char *text, size_t len, config_known_fn known, struct config *cfg,
		 struct config_error *err);

void config_free(struct config *cfg);

#endif
