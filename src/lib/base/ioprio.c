/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * I/O priority names and values. The kernel's classes are RT (1), BE (2)
 * and IDLE (3), each but IDLE with levels 0 (first) to 7; an SQE's ioprio is
 * class << 13 | level, the encoding of ioprio_set(2).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/ioprio.h"

#define CLASS_SHIFT 13
enum { CLASS_RT = 1, CLASS_BE = 2, CLASS_IDLE = 3 };

static const char *const class_names[] = { NULL, "rt", "be", "idle" };

int ioprio_parse(const char *str, uint16_t *res, const char **why)
{
	const char *colon = strchr(str, ':');
	size_t n = colon ? (size_t)(colon - str) : strlen(str);
	unsigned int cls, level = 4;

	for (cls = CLASS_RT; cls <= CLASS_IDLE; cls++)
		if (strlen(class_names[cls]) == n && !strncmp(str, class_names[cls], n))
			break;
	if (cls > CLASS_IDLE) {
		*why = "not one of idle, be[:level], rt[:level]";
		return -EINVAL;
	}
	if (colon) {
		if (cls == CLASS_IDLE) {
			*why = "the idle class has no levels";
			return -EINVAL;
		}
		if (colon[1] < '0' || colon[1] > '7' || colon[2]) {
			*why = "the level is a digit from 0 (first) to 7";
			return -EINVAL;
		}
		level = (unsigned int)(colon[1] - '0');
	}
	if (cls == CLASS_IDLE)
		level = 0;
	*res = (uint16_t)(cls << CLASS_SHIFT | level);
	return 0;
}

const char *ioprio_name(uint16_t prio, char *buf, unsigned int len)
{
	unsigned int cls = prio >> CLASS_SHIFT;

	if (cls == CLASS_IDLE)
		snprintf(buf, len, "idle");
	else if (cls == CLASS_RT || cls == CLASS_BE)
		snprintf(buf, len, "%s:%u", class_names[cls], prio & 7u);
	else
		snprintf(buf, len, "none");
	return buf;
}
