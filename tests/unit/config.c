/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: configuration syntax. Comments, blank lines, spaces and
 * repeated priority keys are read in order; unknown keys, lines without '=',
 * empty values and NUL bytes are refused with the line number and a reason.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "base/config-file.h"
#include "cli/cli.h"
#include "../lib/tap.h"

static const struct {
	const char *text;
	int rc;
	unsigned int line;
	const char *reason;
} bad[] = {
	{ "queue-depth 64\n", -EINVAL, 1, "'queue-depth 64' is not 'key = value'" },
	{ "# ok\n\nqueu-depth = 64\n", -EINVAL, 3, "unknown key 'queu-depth'" },
	{ "rate =\n", -EINVAL, 1, "'rate' has no value" },
	{ "= 5\n", -EINVAL, 1, "a value without a key" },
	{ "rate = 1M # cap\nmode = used\npriority = # nothing\n", -EINVAL, 3,
	  "'priority' has no value" },
};

int main(void)
{
	static const char good[] = "# blkhydrate.conf\n"
				   "\n"
				   "priority = /opt/models/**/*.safetensors\n"
				   "  priority=/opt/models/tokenizer.json   # second\n"
				   "queue-depth = 32\n"
				   "mode = used\n"
				   "priority = /srv/a#b\n";
	struct config cfg;
	struct config_error err;
	size_t i;
	int rc;

	plan(8 + sizeof(bad) / sizeof(bad[0]));
	rc = config_parse(good, strlen(good), setting_known, &cfg, &err);
	ok(rc == 0 && cfg.n == 5, "a good file gives 5 items (rc %d)", rc);
	ok(cfg.n == 5 && !strcmp(cfg.v[0].key, "priority") &&
		   !strcmp(cfg.v[0].value, "/opt/models/**/*.safetensors") && cfg.v[0].line == 3,
	   "first priority, with its line");
	ok(cfg.n == 5 && !strcmp(cfg.v[1].value, "/opt/models/tokenizer.json"),
	   "spaces and a trailing comment are trimmed");
	ok(cfg.n == 5 && !strcmp(cfg.v[2].key, "queue-depth") && !strcmp(cfg.v[2].value, "32"),
	   "queue-depth = 32");
	ok(cfg.n == 5 && !strcmp(cfg.v[4].value, "/srv/a#b"), "a '#' inside a word is kept");
	config_free(&cfg);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = config_parse(bad[i].text, strlen(bad[i].text), setting_known, &cfg, &err);
		ok(rc == bad[i].rc && err.line == bad[i].line && !strcmp(err.reason, bad[i].reason),
		   "refused at line %u: %s", err.line, rc ? err.reason : "(accepted)");
	}
	rc = config_parse("rate = 1\0M\n", 11, setting_known, &cfg, &err);
	ok(rc == -EINVAL && err.line == 1, "a NUL byte is refused");
	rc = config_parse("", 0, setting_known, &cfg, &err);
	ok(rc == 0 && cfg.n == 0, "an empty file is fine");
	ok(config_load("/nonexistent/blkhydrate.conf", setting_known, &cfg, &err) == -ENOENT,
	   "a missing file is -ENOENT");
	return exit_status();
}
