/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sd_notify() when blkhydrate was built with libsystemd.
 */
#include "config.h"

#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

int notify_systemd(const char *state)
{
	return sd_notify(0, state);
}
#else
int notify_systemd(const char *state)
{
	(void)state;
	return 0;
}
#endif
