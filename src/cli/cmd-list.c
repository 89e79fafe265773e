/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkhydrate list: every whole disk, what is on it, and whether it would be hydrated. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/listing.h"
#include "device/disk.h"

static void describe(void)
{
	fputs("Show every whole disk: size, vendor, model and serial, the EBS volume id and\n"
	      "the name it was attached as, what libblkid finds on it, and whether it would\n"
	      "be hydrated on attach, and why.\n",
	      stdout);
}

static const struct cmd_option options[] = {
    {S_JSON, NULL},
    {S_CONFIG, NULL},
    {S_STATE_DIR, NULL},
};

static const struct cmd_spec spec = {
    "list", "[options]", describe, options, sizeof(options) / sizeof(options[0]), 27, NULL,
};

static int list_one(struct udev_device *d, void *arg)
{
	struct disks_ctx *dx = arg;
	struct disk_info *di = malloc(sizeof(*di));
	struct decide_out out;

	if (!di)
		return -ENOMEM;
	/* A disk that went away while we looked is no longer worth a line. */
	if (decide_disk(dx, d, di, &out)) {
		free(di);
		return 0;
	}
	if (dx->ctl->json)
		listing_disk_json(stdout, di, out, !dx->n);
	else
		listing_disk(stdout, di, out);
	dx->n++;
	free(di);
	return 0;
}

int cmd_list(int argc, char **argv)
{
	struct ctl ctl = {0};
	struct disks_ctx dx = {.ctl = &ctl};
	int rc;

	settings_parse(&ctl, &spec, argc, argv);
	if (optind < argc)
		die_usage(ctl.cmd, "unexpected argument '%s'", argv[optind]);
	settings_load_config(&ctl);
	dx.pol = load_policy(&ctl);
	if (ctl.json)
		fputs("{\"disks\": [", stdout);
	rc = discover_disks(list_one, &dx);
	if (ctl.json)
		fputs(dx.n ? "\n]}\n" : "]}\n", stdout);
	if (rc)
		die(rc == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, "cannot list disks: %s",
		    strerror(-rc));
	free_policy(dx.pol);
	settings_free(&ctl);
	return EXIT_DONE;
}
