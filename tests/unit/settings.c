/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the settings table (src/cli/settings.c). Every boolean key
 * of the configuration takes what hydrate-ebs takes (yes/no, true/false,
 * 1/0, any case), and the configuration knows exactly the table's keys:
 * the options' keys, "mode" for --used, and the policy's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "../lib/tap.h"

static const struct {
	const char *text;
	bool yield;
	bool only_priority;
} bools[] = {
    {"yield = 1\n", true, false},
    {"yield = 0\n", false, false},
    {"yield = yes\n", true, false},
    {"yield = TRUE\n", true, false},
    {"only-priority = 1\npriority = /x\n", false, true},
    {"only-priority = No\n", false, false},
};

static const struct {
	const char *key;
	bool known;
} keys[] = {
    {"priority", true},	     {"queue-depth", true},   {"block-size", true},
    {"strides", true},	     {"rate", true},	      {"mode", true},
    {"progress", true},	     {"only-priority", true}, {"hydrate-ebs", true},
    {"hydrate-match", true}, {"skip-match", true},    {"ioprio", true},
    {"yield", true},	     {"used", false},	      {"json", false},
    {"config", false},	     {"state-dir", false},    {"", false},
    {"read-mode", true},     {"snapshot-block", true}, {"granularity", false},
};

int main(void)
{
	char path[] = "/tmp/blkhydrate-settings-XXXXXX";
	size_t i;
	int fd;

	plan(sizeof(bools) / sizeof(bools[0]) + sizeof(keys) / sizeof(keys[0]));
	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		struct ctl ctl = {0};

		fd = mkstemp(path);
		if (fd < 0 || write(fd, bools[i].text, strlen(bools[i].text)) < 0)
			return 99;
		close(fd);
		ctl.config = path;
		ctl.config_given = true;
		settings_load_config(&ctl);
		ok(ctl.rs.yield == bools[i].yield && ctl.only_priority == bools[i].only_priority,
		   "configuration '%.*s' reads as yield %d, only-priority %d",
		   (int)strcspn(bools[i].text, "\n"), bools[i].text, bools[i].yield,
		   bools[i].only_priority);
		settings_free(&ctl);
		unlink(path);
		strcpy(path + strlen(path) - 6, "XXXXXX");
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ok(setting_known(keys[i].key) == keys[i].known, "'%s' is %sa configuration key",
		   keys[i].key, keys[i].known ? "" : "not ");
	return exit_status();
}
