/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sd_notify() when blkhydrate was built with libsystemd.
 */
#include "config.h"

#include "cli/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#define SYSTEMD_PRIVATE "/run/systemd/private"

int notify_systemd(const char *state)
{
	return sd_notify(0, state);
}

/*
 * A connection to systemd: PID 1's own socket first, for root. It is
 * there from the start of the boot, where the system bus is not yet (its
 * socket comes with sockets.target, after sysinit.target), as for the AMI
 * recipe's unit recording from before sysinit.target; else the system bus.
 */
static int open_manager(sd_bus **bus)
{
	int rc;

	if (!geteuid() && !access(SYSTEMD_PRIVATE, F_OK)) {
		rc = sd_bus_new(bus);
		if (rc < 0)
			return rc;
		rc = sd_bus_set_address(*bus, "unix:path=" SYSTEMD_PRIVATE);
		if (rc >= 0)
			rc = sd_bus_start(*bus);
		if (rc >= 0)
			return 0;
		*bus = sd_bus_unref(*bus);
	}
	return sd_bus_open_system(bus);
}

int unit_active_state(const char *unit, char *buf, size_t len)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	const char *path, *state;
	int rc;

	rc = open_manager(&bus);
	if (rc < 0)
		return rc;
	/* LoadUnit, not GetUnit: a unit not loaded yet is "inactive", not an error. */
	rc = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				"org.freedesktop.systemd1.Manager", "LoadUnit", &err, &reply, "s",
				unit);
	if (rc >= 0)
		rc = sd_bus_message_read(reply, "o", &path);
	if (rc >= 0) {
		char *s = NULL;

		rc = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path,
						"org.freedesktop.systemd1.Unit", "ActiveState",
						&err, &s);
		state = s;
		if (rc >= 0)
			snprintf(buf, len, "%s", state);
		free(s);
	}
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	sd_bus_unref(bus);
	return rc < 0 ? rc : 0;
}
#else
int notify_systemd(const char *state)
{
	(void)state;
	return 0;
}

int unit_active_state(const char *unit, char *buf, size_t len)
{
	(void)unit, (void)buf, (void)len;
	return -EOPNOTSUPP;
}
#endif
