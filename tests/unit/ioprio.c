/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: --ioprio values: each class and level becomes the SQE ioprio
 * encoding of ioprio_set(2) (class << 13 | level), names round-trip, and bad
 * values are refused with a reason.
 */
#include "config.h"

#include <string.h>

#include "base/ioprio.h"
#include "../lib/tap.h"

int main(void)
{
	static const struct {
		const char *in;
		int rc;
		uint16_t want;
		const char *name;
	} rows[] = {
		{ "idle", 0, 3 << 13, "idle" },
		{ "be", 0, 2 << 13 | 4, "be:4" },
		{ "be:0", 0, 2 << 13, "be:0" },
		{ "be:7", 0, 2 << 13 | 7, "be:7" },
		{ "rt", 0, 1 << 13 | 4, "rt:4" },
		{ "rt:1", 0, 1 << 13 | 1, "rt:1" },
		{ "", -22, 0, NULL },
		{ "low", -22, 0, NULL },
		{ "idle:3", -22, 0, NULL },
		{ "be:8", -22, 0, NULL },
		{ "be:", -22, 0, NULL },
		{ "be:12", -22, 0, NULL },
		{ "bee", -22, 0, NULL },
	};
	const char *why;
	char buf[16];
	uint16_t v;
	size_t i;

	plan(sizeof(rows) / sizeof(rows[0]) + 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc;

		v = 0;
		why = NULL;
		rc = ioprio_parse(rows[i].in, &v, &why);
		if (rows[i].rc)
			ok(rc == rows[i].rc && why, "'%s' refused: %s", rows[i].in, why ? why : "?");
		else
			ok(!rc && v == rows[i].want &&
				   !strcmp(ioprio_name(v, buf, sizeof(buf)), rows[i].name),
			   "'%s' is 0x%04x, named %s", rows[i].in, v, buf);
	}
	ok(!ioprio_parse(DEFAULT_IOPRIO, &v, &why) && v == (2 << 13 | 4),
	   "the default is best effort, level 4");
	return exit_status();
}
