/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkhydrate: read every block of a cloud volume restored from a snapshot
 * once, fast, so that the first real read of each block is not the slow one;
 * the blocks of chosen files (model weights) first.
 *
 * This file is the table of commands; each command is cmd-<verb>.c, the
 * settings they share are settings.c, and cli.h maps the rest.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"hydrate", cmd_hydrate, "read each target, priority files first"},
    {"plan", cmd_plan, "show what hydrate would read, in order, without reading"},
    {"list", cmd_list, "show every whole disk, what is on it, and whether it would be hydrated"},
    {"status", cmd_status, "show running and finished attach hydrations"},
    {"discover", cmd_discover, "decide one disk, as KEY=VALUE lines (the udev rule calls it)"},
    {"probe", cmd_probe, "estimate how cold a target is from a few small timed reads"},
    {"record", cmd_record, "note what a run of the workload reads, to read it first next time"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void __attribute__((noreturn)) usage(void)
{
	size_t i;

	fputs("Usage:\n"
	      " blkhydrate <command> [options] [<target>...]\n"
	      "\n"
	      "Hydrate block volumes restored from snapshots: read every block once, fast,\n"
	      "the blocks of chosen files first.\n"
	      "\n"
	      "Commands:\n",
	      stdout);
	for (i = 0; i < NCOMMANDS; i++)
		printf(" %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      " -h, --help     display this help\n"
	      " -V, --version  display version\n"
	      "\n"
	      "Run 'blkhydrate <command> --help' for a command's options.\n",
	      stdout);
	exit(EXIT_DONE);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	size_t i;
	int c;

	opterr = 0;
	/* Stop at the subcommand: its options are its own. */
	while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
		case 'V':
			printf("blkhydrate %s\n", PACKAGE_VERSION);
			return EXIT_DONE;
		default:
			die_usage(NULL, "unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_usage(NULL, "no command given");

	argc -= optind;
	argv += optind;
	optind = 0; /* reset getopt, also its GNU internal state, for the subcommand */
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].run(argc, argv);
	die_usage(NULL, "unknown command '%s'", argv[0]);
}
