/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkhydrate: read every block of a cloud volume restored from a snapshot
 * once, fast, so that the first real read of each block is not the slow one.
 *
 * This file is the command line: options, subcommands, messages and exit
 * statuses. It is the only place that prints to the user or exits.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "options.h"
#include "range.h"
#include "report.h"
#include "size.h"
#include "target.h"

/* Exit statuses; documented in blkhydrate(8) and README. */
enum {
	EXIT_DONE = 0,
	EXIT_USAGE = 1,		/* bad option or bad target: nothing was read */
	EXIT_READ_ERRORS = 2,	/* finished, but some blocks could not be read */
	EXIT_INTERRUPTED = 3,	/* stopped by SIGINT or SIGTERM */
	EXIT_SYSTEM = 4,	/* could not run: io_uring unavailable, out of memory */
	EXIT_VANISHED = 5,	/* a target went away during the run */
};

#define PROGRESS_BAR_MS 200
#define PROGRESS_LOG_MS 5000

static volatile sig_atomic_t stop_requested;

struct hydrate_ctl {
	struct run_settings rs;
	enum progress_mode progress;
	bool json;
	bool quiet;
	bool bar;
};

static void __attribute__((noreturn)) usage_main(void)
{
	fputs("Usage:\n"
	      " blkhydrate <command> [options] [<target>...]\n"
	      "\n"
	      "Hydrate block volumes restored from snapshots: read every block once, fast.\n"
	      "\n"
	      "Commands:\n"
	      " hydrate      read each target whole\n"
	      "\n"
	      "Options:\n"
	      " -h, --help     display this help\n"
	      " -V, --version  display version\n"
	      "\n"
	      "Run 'blkhydrate <command> --help' for a command's options.\n",
	      stdout);
	exit(EXIT_DONE);
}

static void __attribute__((noreturn)) usage_hydrate(void)
{
	printf("Usage:\n"
	       " blkhydrate hydrate [options] <target>...\n"
	       "\n"
	       "Read every block of each target (a block device or a disk image) once,\n"
	       "read-only, so that a volume restored from a snapshot is fully fetched.\n"
	       "\n"
	       "Options:\n"
	       " -d, --queue-depth <n>     reads in flight (default %u)\n"
	       " -b, --block-size <size>   bytes per read (default %uK)\n"
	       " -s, --strides <n>         parts of a target read side by side (default %u)\n"
	       " -r, --rate <size>         at most this many bytes per second (default: no cap)\n"
	       "     --progress <when>     auto, always or never (default auto)\n"
	       "     --json                print a JSON summary on standard output\n"
	       " -q, --quiet               no progress and no summary on standard error\n"
	       "\n"
	       " -h, --help                display this help\n"
	       "\n"
	       "Sizes take the suffixes K, M, G, T (powers of 1024) or KB, MB, GB, TB.\n",
	       DEFAULT_QUEUE_DEPTH, DEFAULT_BLOCK_SIZE / 1024, DEFAULT_STRIDES);
	exit(EXIT_DONE);
}

static void __attribute__((format(printf, 2, 3), noreturn))
errx_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("blkhydrate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'blkhydrate%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	exit(EXIT_USAGE);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void progress_cb(const struct job *jobs, size_t njobs, uint64_t elapsed_ns, void *arg)
{
	const struct hydrate_ctl *ctl = arg;

	report_progress(stderr, jobs, njobs, elapsed_ns, ctl->bar);
}

static void parse_hydrate(int argc, char **argv, struct hydrate_ctl *ctl)
{
	enum { OPT_PROGRESS = 256, OPT_JSON };
	static const struct option longopts[] = {
		{ "queue-depth", required_argument, NULL, 'd' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "strides", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int c;

	ctl->rs.queue_depth = DEFAULT_QUEUE_DEPTH;
	ctl->rs.block_size = DEFAULT_BLOCK_SIZE;
	ctl->rs.strides = DEFAULT_STRIDES;
	ctl->rs.rate = 0;
	ctl->progress = PROGRESS_AUTO;

	while ((c = getopt_long(argc, argv, ":d:b:s:r:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (opt_count(optarg, 1, MAX_QUEUE_DEPTH, &ctl->rs.queue_depth, &why))
				errx_usage("hydrate", "invalid queue depth '%s': %s", optarg, why);
			break;
		case 'b':
			if (opt_block_size(optarg, &ctl->rs.block_size, &why))
				errx_usage("hydrate", "invalid block size '%s': %s", optarg, why);
			break;
		case 's':
			if (opt_count(optarg, 1, MAX_STRIDES, &ctl->rs.strides, &why))
				errx_usage("hydrate", "invalid strides '%s': %s", optarg, why);
			break;
		case 'r':
			if (opt_rate(optarg, &ctl->rs.rate, &why))
				errx_usage("hydrate", "invalid rate '%s': %s", optarg, why);
			break;
		case OPT_PROGRESS:
			if (opt_progress(optarg, &ctl->progress, &why))
				errx_usage("hydrate", "invalid progress '%s': %s", optarg, why);
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case 'q':
			ctl->quiet = true;
			break;
		case 'h':
			usage_hydrate();
		case ':':
			errx_usage("hydrate", "option '%s' requires an argument", argv[optind - 1]);
		default:
			errx_usage("hydrate", "unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (opt_check_memory(ctl->rs.queue_depth, ctl->rs.block_size, &why))
		errx_usage("hydrate", "invalid queue depth %u with block size %llu: %s",
			   ctl->rs.queue_depth, (unsigned long long)ctl->rs.block_size, why);
	if (optind >= argc)
		errx_usage("hydrate", "no target given");
	if (ctl->quiet)
		ctl->progress = PROGRESS_NEVER;
	ctl->bar = ctl->progress == PROGRESS_ALWAYS ||
		   (ctl->progress == PROGRESS_AUTO && isatty(STDERR_FILENO));
}

/* Open every target; on the first bad one say why and exit before reading anything. */
static void open_targets(char **paths, size_t n, struct target *t)
{
	size_t i, k;
	int rc;

	for (i = 0; i < n; i++) {
		rc = target_open(&t[i], paths[i]);
		if (rc) {
			fprintf(stderr, "blkhydrate: %s: %s\n", paths[i], target_strerror(rc));
			exit(EXIT_USAGE);
		}
		for (k = 0; k < i; k++) {
			if (target_same(&t[k], &t[i])) {
				fprintf(stderr, "blkhydrate: %s: the same %s as %s\n", paths[i],
					t[i].blockdev ? "device" : "file", paths[k]);
				exit(EXIT_USAGE);
			}
		}
	}
}

static int exit_status(const struct job *jobs, size_t n, const struct engine_info *info)
{
	bool errors = false, vanished = false;
	size_t i;

	for (i = 0; i < n; i++) {
		errors = errors || jobs[i].errors;
		vanished = vanished || jobs[i].vanished;
	}
	if (info->interrupted)
		return EXIT_INTERRUPTED;
	if (vanished)
		return EXIT_VANISHED;
	return errors ? EXIT_READ_ERRORS : EXIT_DONE;
}

static int cmd_hydrate(int argc, char **argv)
{
	struct hydrate_ctl ctl = { 0 };
	struct engine_opts eo = { 0 };
	struct engine_info info;
	struct sigaction sa = { 0 };
	struct target *targets;
	struct rangelist *whole;
	struct job *jobs;
	size_t n, i;
	int rc, status;

	parse_hydrate(argc, argv, &ctl);
	n = (size_t)(argc - optind);
	targets = calloc(n, sizeof(*targets));
	whole = calloc(n, sizeof(*whole));
	jobs = calloc(n, sizeof(*jobs));
	if (!targets || !whole || !jobs) {
		fputs("blkhydrate: out of memory\n", stderr);
		exit(EXIT_SYSTEM);
	}
	open_targets(argv + optind, n, targets);

	for (i = 0; i < n; i++) {
		struct target *t = &targets[i];

		if (!t->direct && !ctl.quiet)
			fprintf(stderr, "blkhydrate: %s: O_DIRECT refused, reading through the page cache\n",
				t->path);
		rangelist_init(&whole[i]);
		if (rangelist_add(&whole[i], 0, t->size)) {
			fputs("blkhydrate: out of memory\n", stderr);
			exit(EXIT_SYSTEM);
		}
		rangelist_align(&whole[i], t->align, t->size);
		jobs[i].target = t;
		jobs[i].phases = &whole[i];
		jobs[i].nphases = 1;
	}

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	eo.queue_depth = ctl.rs.queue_depth;
	eo.block_size = ctl.rs.block_size;
	eo.strides = ctl.rs.strides;
	eo.rate = ctl.rs.rate;
	eo.stop = &stop_requested;
	if (ctl.progress != PROGRESS_NEVER) {
		eo.tick_ms = ctl.bar ? PROGRESS_BAR_MS : PROGRESS_LOG_MS;
		eo.progress = progress_cb;
		eo.arg = &ctl;
	}
	rc = engine_run(jobs, n, &eo, &info);
	if (ctl.bar)
		report_progress_end(stderr);
	if (rc) {
		fprintf(stderr, "blkhydrate: cannot read with io_uring: %s\n", strerror(-rc));
		status = EXIT_SYSTEM;
		goto done;
	}
	status = exit_status(jobs, n, &info);
	if (!ctl.quiet) {
		for (i = 0; i < n; i++)
			report_summary(stderr, &jobs[i]);
		if (info.interrupted)
			fputs("blkhydrate: interrupted: in-flight reads drained, stopping\n", stderr);
	}
	if (ctl.json)
		report_json(stdout, jobs, n, &info, &ctl.rs, status);
done:
	for (i = 0; i < n; i++) {
		job_release(&jobs[i]);
		rangelist_free(&whole[i]);
		target_close(&targets[i]);
	}
	free(jobs);
	free(whole);
	free(targets);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	/* Stop at the subcommand: its options are its own. */
	while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage_main();
		case 'V':
			printf("blkhydrate %s\n", PACKAGE_VERSION);
			return EXIT_DONE;
		default:
			errx_usage(NULL, "unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		errx_usage(NULL, "no command given");

	argc -= optind;
	argv += optind;
	optind = 0;	/* reset getopt, also its GNU internal state, for the subcommand */
	if (!strcmp(argv[0], "hydrate"))
		return cmd_hydrate(argc, argv);
	errx_usage(NULL, "unknown command '%s'", argv[0]);
}
