/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkhydrate discover: one disk's decision as KEY=VALUE lines, for the udev rule. */
#include "config.h"

#include <getopt.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/listing.h"
#include "device/disk.h"

static void describe(void)
{
	fputs("Decide whether the whole disk <device> should be hydrated and print the\n"
	      "result as KEY=VALUE lines (BLKHYDRATE_DECISION=hydrate or skip,\n"
	      "BLKHYDRATE_REASON=...), for a udev rule's IMPORT{program}.\n",
	      stdout);
}

static const struct cmd_option options[] = {
    {S_UDEV, NULL},
    {S_CONFIG, NULL},
    {S_STATE_DIR, NULL},
};

static const struct cmd_spec spec = {
    "discover", "[options] <device>", describe, options, sizeof(options) / sizeof(options[0]), 27,
    NULL,
};

int cmd_discover(int argc, char **argv)
{
	struct ctl ctl = {0};
	struct disks_ctx dx = {.ctl = &ctl};
	struct udev_device *d;
	struct decide_out out;
	struct disk_info *di;
	struct udev *udev;
	char why[160];
	const char *path;

	settings_parse(&ctl, &spec, argc, argv);
	if (optind != argc - 1)
		die_usage(ctl.cmd,
			  optind >= argc ? "no device given" : "more than one device given");
	settings_load_config(&ctl);
	dx.pol = load_policy(&ctl);
	path = argv[optind];
	udev = udev_new();
	di = malloc(sizeof(*di));
	if (!udev || !di)
		die_oom();
	if (disk_find(udev, path, ctl.udev, &d, why, sizeof(why)))
		die(EXIT_USAGE, "%s: %s", path, why);
	if (decide_disk(&dx, d, di, &out))
		die(EXIT_USAGE, "%s: has no device node", path);
	listing_disk_udev(stdout, di, out);
	udev_device_unref(d);
	udev_unref(udev);
	free(di);
	free_policy(dx.pol);
	settings_free(&ctl);
	return EXIT_DONE;
}
