/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for config_parse(): any bytes give either a list of
 * items whose keys are known and whose values are NUL-free, or an error with
 * a line number inside the input; never a crash, leak or overflow.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/config-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two of the real keys (the table is src/cli/settings.c's): enough to reach both paths. */
static bool known(const char *key)
{
	return !strcmp(key, "priority") || !strcmp(key, "rate");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct config_error err;
	size_t i, lines = 1;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = config_parse((const char *)data, size, known, &cfg, &err);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (rc && rc != -ENOMEM && (err.line > lines || !memchr(err.reason, '\0', sizeof(err.reason))))
		abort();
	for (i = 0; !rc && i < cfg.n; i++)
		if (!cfg.v[i].key[0] || cfg.v[i].line == 0 || cfg.v[i].line > lines)
			abort();
	if (!rc)
		config_free(&cfg);
	return 0;
}
