/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkhydrate: read every block of a cloud volume restored from a snapshot
 * once, fast, so that the first real read of each block is not the slow one;
 * the blocks of chosen files (model weights) first.
 *
 * This file is the command line: options, the configuration file,
 * subcommands, messages and exit statuses. It is the only place that prints
 * to the user or exits.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libudev.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "conffile.h"
#include "decide.h"
#include "discover.h"
#include "engine.h"
#include "ledger.h"
#include "listing.h"
#include "notify.h"
#include "ioprio.h"
#include "lock.h"
#include "options.h"
#include "pace.h"
#include "plan.h"
#include "policy.h"
#include "probe.h"
#include "range.h"
#include "report.h"
#include "runstate.h"
#include "savedplan.h"
#include "size.h"
#include "target.h"
#include "volid.h"

/* Exit statuses; documented in blkhydrate(8) and README. */
enum {
	EXIT_DONE = 0,
	EXIT_USAGE = 1,		/* bad option, configuration or target: nothing was read */
	EXIT_READ_ERRORS = 2,	/* finished, but some blocks could not be read */
	EXIT_INTERRUPTED = 3,	/* stopped by SIGINT or SIGTERM */
	EXIT_SYSTEM = 4,	/* could not run: io_uring unavailable, out of memory */
	EXIT_VANISHED = 5,	/* a target went away during the run */
	EXIT_UNMAPPED = 6,	/* plan: a priority path matched nothing or could not be mapped */
	EXIT_BUSY = 7,		/* another process is hydrating the same disk */
};

#define PROGRESS_BAR_MS 200
#define PROGRESS_LOG_MS 5000
#define MAX_BAD_LINES 20	/* the JSON summary lists them all */
#define CHECKPOINT_MS 2000	/* how often progress is saved while reading */

static volatile sig_atomic_t stop_requested;

/* Which settings the command line gave: those win over the configuration file. */
enum {
	SET_DEPTH = 1 << 0,
	SET_BLOCK = 1 << 1,
	SET_STRIDES = 1 << 2,
	SET_RATE = 1 << 3,
	SET_PROGRESS = 1 << 4,
	SET_MODE = 1 << 5,
	SET_ONLY = 1 << 6,
	SET_IOPRIO = 1 << 7,
	SET_YIELD = 1 << 8,
};

struct ctl {
	const char *cmd;
	struct run_settings rs;
	enum progress_mode progress;
	bool json;
	bool quiet;
	bool verbose;
	bool bar;
	bool used;
	bool only_priority;
	const char *config;
	bool config_given;
	char **patterns;	/* --priority, or the configuration's when none given */
	size_t npatterns;
	unsigned int set;
	struct config cfg;
	const char *state_dir;	/* the ledger and saved plans */
	const char *run_dir;	/* progress of running attach hydrations */
	bool attach;		/* hydrate: run as the attach unit */
	bool save;		/* plan: store it for attach */
	bool udev;		/* discover: called by a udev rule */
	char *progress_dir;	/* checkpoints for --resume: STATE_DIR/progress */
	bool resume;		/* read only what the state file says is left */
	bool wait;		/* wait for another hydration of the disk to end */
	const char *lock_dir;
};

static void __attribute__((noreturn)) usage_main(void)
{
	fputs("Usage:\n"
	      " blkhydrate <command> [options] [<target>...]\n"
	      "\n"
	      "Hydrate block volumes restored from snapshots: read every block once, fast,\n"
	      "the blocks of chosen files first.\n"
	      "\n"
	      "Commands:\n"
	      " hydrate      read each target, priority files first\n"
	      " plan         show what hydrate would read, in order, without reading\n"
	      " list         show every whole disk, what is on it, and whether it would be hydrated\n"
	      " status       show running and finished attach hydrations\n"
	      " discover     decide one disk, as KEY=VALUE lines (the udev rule calls it)\n"
	      " probe        estimate how cold a target is from a few small timed reads\n"
	      "\n"
	      "Options:\n"
	      " -h, --help     display this help\n"
	      " -V, --version  display version\n"
	      "\n"
	      "Run 'blkhydrate <command> --help' for a command's options.\n",
	      stdout);
	exit(EXIT_DONE);
}

static void __attribute__((noreturn)) usage_cmd(const char *cmd)
{
	bool hydrate = !strcmp(cmd, "hydrate");

	printf("Usage:\n"
	       " blkhydrate %s [options] <target>...\n"
	       "\n",
	       cmd);
	if (hydrate)
		fputs("Read every block of each target (a block device or a disk image) once,\n"
		      "read-only, the extents of the priority files first, so that a volume\n"
		      "restored from a snapshot is fully fetched.\n",
		      stdout);
	else
		fputs("Show what 'blkhydrate hydrate' would read, in order, without reading:\n"
		      "each priority class with its files, extents and bytes, then the rest.\n",
		      stdout);
	printf("\n"
	       "Options:\n"
	       " -p, --priority <path>     read this file, directory or glob first (repeatable)\n"
	       " -u, --used                read only the space the mounted file systems use\n"
	       "     --only-priority       read the priority files only\n"
	       " -c, --config <file>       configuration file (default %s)\n"
	       " -d, --queue-depth <n>     reads in flight, or auto: measured (default auto)\n"
	       " -b, --block-size <size>   bytes per read (default %uK)\n"
	       " -s, --strides <n>         parts of a target read side by side (default %u)\n",
	       DEFAULT_CONFIG_FILE, DEFAULT_BLOCK_SIZE / 1024,
	       DEFAULT_STRIDES);
	if (hydrate)
		printf(" -r, --rate <size>         at most this many bytes per second (default: no cap)\n"
		       "     --ioprio <class>      I/O priority of the reads: idle, be[:0-7] or\n"
		       "                             rt[:0-7] (default " DEFAULT_IOPRIO ")\n"
		       "     --yield               slow down while others use the device\n"
		       "     --progress <when>     auto, always or never (default auto)\n"
		       "     --json                print a JSON summary on standard output\n"
		       " -q, --quiet               no progress and no summary on standard error\n"
		       "     --resume              read only what an earlier run left unread\n"
		       "     --wait                wait while another run hydrates the same disk\n"
		       "     --lock-dir <dir>      where disk locks live (default " DEFAULT_LOCK_DIR ")\n"
		       "     --attach              run as blkhydrate@.service: one device, skipped if\n"
		       "                             the ledger has it; its saved plan first; progress\n"
		       "                             in the run directory; recorded in the ledger when done\n"
		       "     --state-dir <dir>     ledger, saved plans and progress (default %s)\n"
		       "     --run-dir <dir>       progress of running hydrations (default %s)\n",
		       DEFAULT_STATE_DIR, DEFAULT_RUN_DIR);
	else
		printf("     --json                print the plan as JSON\n"
		       " -v, --verbose             list every range of every phase\n"
		       "     --save                store the priority extents of each file system, keyed\n"
		       "                             by its UUID, for hydrate --attach\n"
		       "     --state-dir <dir>     where --save stores plans (default %s)\n",
		       DEFAULT_STATE_DIR);
	fputs("\n"
	      " -h, --help                display this help\n"
	      "\n"
	      "Sizes take the suffixes K, M, G, T (powers of 1024) or KB, MB, GB, TB.\n",
	      stdout);
	exit(EXIT_DONE);
}

static void __attribute__((noreturn)) usage_disks(const char *cmd)
{
	if (!strcmp(cmd, "list"))
		fputs("Usage:\n"
		      " blkhydrate list [options]\n"
		      "\n"
		      "Show every whole disk: size, vendor, model and serial, the EBS volume id and\n"
		      "the name it was attached as, what libblkid finds on it, and whether it would\n"
		      "be hydrated on attach, and why.\n",
		      stdout);
	else if (!strcmp(cmd, "discover"))
		fputs("Usage:\n"
		      " blkhydrate discover [options] <device>\n"
		      "\n"
		      "Decide whether the whole disk <device> should be hydrated and print the\n"
		      "result as KEY=VALUE lines (BLKHYDRATE_DECISION=hydrate or skip,\n"
		      "BLKHYDRATE_REASON=...), for a udev rule's IMPORT{program}.\n",
		      stdout);
	else
		fputs("Usage:\n"
		      " blkhydrate status [options]\n"
		      "\n"
		      "Show the attach hydrations running now, with their progress, and the volumes\n"
		      "hydrated before (the ledger).\n",
		      stdout);
	fputs("\nOptions:\n", stdout);
	if (strcmp(cmd, "discover"))
		fputs("     --json                print JSON\n", stdout);
	else
		fputs("     --udev                take the disk's properties from the udev event\n", stdout);
	if (strcmp(cmd, "status"))
		printf(" -c, --config <file>       configuration file (default %s)\n",
		       DEFAULT_CONFIG_FILE);
	printf("     --state-dir <dir>     the ledger (default %s)\n", DEFAULT_STATE_DIR);
	if (!strcmp(cmd, "status"))
		printf("     --run-dir <dir>       progress of running hydrations (default %s)\n",
		       DEFAULT_RUN_DIR);
	fputs("\n -h, --help                display this help\n", stdout);
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

static void __attribute__((format(printf, 2, 3), noreturn)) errx_status(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("blkhydrate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* A directory option's value: refuse an empty one rather than use the current directory. */
static const char *opt_dir(const struct ctl *ctl, const char *name, const char *arg)
{
	if (!*arg)
		errx_usage(ctl->cmd, "option '--%s' needs a directory", name);
	return arg;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void add_pattern(struct ctl *ctl, char *pattern)
{
	char **v = realloc(ctl->patterns, (ctl->npatterns + 1) * sizeof(*v));

	if (!v)
		errx_status(EXIT_SYSTEM, "out of memory");
	ctl->patterns = v;
	v[ctl->npatterns++] = pattern;
}

/*
 * Apply one setting from the command line (@where NULL) or the configuration
 * file (@where "FILE:LINE"). Both go through the same checks.
 */
static void apply(struct ctl *ctl, const char *key, char *value, const char *where)
{
	const char *why = NULL;
	char name[32];
	size_t i;
	int bad = 0;

	if (!strcmp(key, "queue-depth"))
		bad = opt_queue_depth(value, &ctl->rs.queue_depth, &why);
	else if (!strcmp(key, "ioprio"))
		bad = ioprio_parse(value, &ctl->rs.ioprio, &why);
	else if (!strcmp(key, "block-size"))
		bad = opt_block_size(value, &ctl->rs.block_size, &why);
	else if (!strcmp(key, "strides"))
		bad = opt_count(value, 1, MAX_STRIDES, &ctl->rs.strides, &why);
	else if (!strcmp(key, "rate"))
		bad = opt_rate(value, &ctl->rs.rate, &why);
	else if (!strcmp(key, "progress"))
		bad = opt_progress(value, &ctl->progress, &why);
	else if (!strcmp(key, "priority"))
		add_pattern(ctl, value);
	else if (!strcmp(key, "mode")) {
		if (!strcmp(value, "whole") || !strcmp(value, "used"))
			ctl->used = !strcmp(value, "used");
		else
			bad = -EINVAL, why = "not one of whole, used";
	} else if (!strcmp(key, "only-priority") || !strcmp(key, "yield")) {
		bool *flag = key[0] == 'y' ? &ctl->rs.yield : &ctl->only_priority;

		if (!strcasecmp(value, "yes") || !strcasecmp(value, "true"))
			*flag = true;
		else if (!strcasecmp(value, "no") || !strcasecmp(value, "false"))
			*flag = false;
		else
			bad = -EINVAL, why = "not yes or no";
	}
	if (!bad)
		return;
	/* "queue-depth" names the key in the file, "queue depth" the setting in words. */
	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = key[i] == '-' ? ' ' : key[i];
	name[i] = '\0';
	if (where)
		errx_status(EXIT_USAGE, "%s: invalid %s '%s': %s", where, name, value, why);
	errx_usage(ctl->cmd, "invalid %s '%s': %s", name, value, why);
}

static unsigned int key_flag(const char *key)
{
	static const struct {
		const char *key;
		unsigned int flag;
	} flags[] = {
		{ "queue-depth", SET_DEPTH }, { "block-size", SET_BLOCK },
		{ "strides", SET_STRIDES },   { "rate", SET_RATE },
		{ "progress", SET_PROGRESS }, { "mode", SET_MODE },
		{ "only-priority", SET_ONLY }, { "ioprio", SET_IOPRIO },
		{ "yield", SET_YIELD },
	};
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strcmp(key, flags[i].key))
			return flags[i].flag;
	return 0;
}

/* The configuration file fills in what the command line left unset. */
static void load_config(struct ctl *ctl)
{
	struct config_error err;
	bool patterns_given = ctl->npatterns > 0;
	char where[4200];
	size_t i;
	int rc;

	rc = config_load(ctl->config, &ctl->cfg, &err);
	if (rc == -ENOENT && !ctl->config_given)
		return;
	if (rc == -ENOMEM)
		errx_status(EXIT_SYSTEM, "out of memory");
	if (rc && err.line)
		errx_status(EXIT_USAGE, "%s:%u: %s", ctl->config, err.line, err.reason);
	if (rc)
		errx_status(EXIT_USAGE, "%s: %s", ctl->config, err.reason[0] ? err.reason : strerror(-rc));
	for (i = 0; i < ctl->cfg.n; i++) {
		const struct config_item *it = &ctl->cfg.v[i];

		if (!strcmp(it->key, "priority") ? patterns_given : (ctl->set & key_flag(it->key)))
			continue;
		snprintf(where, sizeof(where), "%s:%u", ctl->config, it->line);
		apply(ctl, it->key, it->value, where);
	}
}

/* Where state and configuration live: the environment may move them (tests do). */
static void set_paths(struct ctl *ctl)
{
	const char *env;

	ctl->config = DEFAULT_CONFIG_FILE;
	env = getenv("BLKHYDRATE_CONFIG");
	if (env && *env) {
		ctl->config = env;
		ctl->config_given = true;
	}
	env = getenv("BLKHYDRATE_STATE_DIR");
	ctl->state_dir = env && *env ? env : DEFAULT_STATE_DIR;
	env = getenv("BLKHYDRATE_RUN_DIR");
	ctl->run_dir = env && *env ? env : DEFAULT_RUN_DIR;
}

static void parse_cmd(int argc, char **argv, struct ctl *ctl)
{
	enum { OPT_PROGRESS = 256, OPT_JSON, OPT_ONLY, OPT_STATE_DIR, OPT_RUN_DIR, OPT_ATTACH,
	       OPT_SAVE, OPT_IOPRIO, OPT_YIELD, OPT_RESUME, OPT_WAIT, OPT_LOCK_DIR };
	static const struct option longopts[] = {
		{ "priority", required_argument, NULL, 'p' },
		{ "used", no_argument, NULL, 'u' },
		{ "only-priority", no_argument, NULL, OPT_ONLY },
		{ "config", required_argument, NULL, 'c' },
		{ "queue-depth", required_argument, NULL, 'd' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "strides", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "ioprio", required_argument, NULL, OPT_IOPRIO },
		{ "yield", no_argument, NULL, OPT_YIELD },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "lock-dir", required_argument, NULL, OPT_LOCK_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
		{ "attach", no_argument, NULL, OPT_ATTACH },
		{ "save", no_argument, NULL, OPT_SAVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool hydrate = !strcmp(ctl->cmd, "hydrate");
	const char *optstr = hydrate ? ":p:uc:d:b:s:r:qh" : ":p:uc:d:b:s:vh";
	const char *key;
	int c;

	ctl->rs.queue_depth = QUEUE_DEPTH_AUTO;
	ioprio_parse(DEFAULT_IOPRIO, &ctl->rs.ioprio, &key);
	ctl->rs.block_size = DEFAULT_BLOCK_SIZE;
	ctl->rs.strides = DEFAULT_STRIDES;
	ctl->progress = PROGRESS_AUTO;
	set_paths(ctl);
	ctl->lock_dir = getenv("BLKHYDRATE_LOCK_DIR");
	if (!ctl->lock_dir || !*ctl->lock_dir)
		ctl->lock_dir = DEFAULT_LOCK_DIR;

	while ((c = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		key = NULL;
		switch (c) {
		case 'p':
			key = "priority";
			break;
		case 'u':
			ctl->used = true;
			ctl->set |= SET_MODE;
			break;
		case OPT_ONLY:
			ctl->only_priority = true;
			ctl->set |= SET_ONLY;
			break;
		case 'c':
			ctl->config = optarg;
			ctl->config_given = true;
			break;
		case 'd':
			key = "queue-depth";
			break;
		case 'b':
			key = "block-size";
			break;
		case 's':
			key = "strides";
			break;
		case 'r':
			if (!hydrate)
				goto unknown;
			key = "rate";
			break;
		case OPT_PROGRESS:
			if (!hydrate)
				goto unknown;
			key = "progress";
			break;
		case OPT_IOPRIO:
			if (!hydrate)
				goto unknown;
			key = "ioprio";
			break;
		case OPT_YIELD:
			if (!hydrate)
				goto unknown;
			ctl->rs.yield = true;
			ctl->set |= SET_YIELD;
			break;
		case OPT_JSON:
			ctl->json = true;
			break;
		case OPT_RESUME:
			if (!hydrate)
				goto unknown;
			ctl->resume = true;
			break;
		case OPT_WAIT:
			if (!hydrate)
				goto unknown;
			ctl->wait = true;
			break;
		case OPT_LOCK_DIR:
			if (!hydrate)
				goto unknown;
			ctl->lock_dir = opt_dir(ctl, "lock-dir", optarg);
			break;
		case 'q':
			ctl->quiet = true;
			break;
		case 'v':
			ctl->verbose = true;
			break;
		case OPT_STATE_DIR:
			ctl->state_dir = opt_dir(ctl, "state-dir", optarg);
			break;
		case OPT_RUN_DIR:
			if (!hydrate)
				goto unknown;
			ctl->run_dir = opt_dir(ctl, "run-dir", optarg);
			break;
		case OPT_ATTACH:
			if (!hydrate)
				goto unknown;
			ctl->attach = true;
			break;
		case OPT_SAVE:
			if (hydrate)
				goto unknown;
			ctl->save = true;
			break;
		case 'h':
			usage_cmd(ctl->cmd);
		case ':':
			errx_usage(ctl->cmd, "option '%s' requires an argument", argv[optind - 1]);
		default:
unknown:
			errx_usage(ctl->cmd, "unrecognized option '%s'", argv[optind - 1]);
		}
		if (key) {
			apply(ctl, key, optarg, NULL);
			ctl->set |= key_flag(key);
		}
	}
	if (optind >= argc)
		errx_usage(ctl->cmd, "no target given");
	load_config(ctl);
	if (asprintf(&ctl->progress_dir, "%s/progress", ctl->state_dir) < 0)
		errx_status(EXIT_SYSTEM, "out of memory");
	if (ctl->rs.queue_depth &&
	    opt_check_memory(ctl->rs.queue_depth, ctl->rs.block_size, &key))
		errx_usage(ctl->cmd, "invalid queue depth %u with block size %llu: %s",
			   ctl->rs.queue_depth, (unsigned long long)ctl->rs.block_size, key);
	if (ctl->only_priority && !ctl->npatterns)
		errx_usage(ctl->cmd, "--only-priority needs at least one priority path");
	if (ctl->attach && argc - optind != 1)
		errx_usage(ctl->cmd, "--attach takes exactly one device");
	if (ctl->save && !ctl->npatterns)
		errx_usage(ctl->cmd, "--save needs at least one priority path");
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
		if (rc)
			errx_status(EXIT_USAGE, "%s: %s", paths[i], target_strerror(rc));
		for (k = 0; k < i; k++)
			if (target_same(&t[k], &t[i]))
				errx_status(EXIT_USAGE, "%s: the same %s as %s", paths[i],
					    t[i].blockdev ? "device" : "file", paths[k]);
	}
}

static void build_plan(struct ctl *ctl, struct plan *plan, struct target *targets, size_t n,
		       const struct plan_preset *presets, size_t npresets)
{
	struct plan_opts po = {
		.patterns = ctl->patterns,
		.npatterns = ctl->npatterns,
		.presets = presets,
		.npresets = npresets,
		.used = ctl->used,
		.only_priority = ctl->only_priority,
	};
	int rc = plan_build(plan, targets, n, &po);

	if (rc)
		errx_status(EXIT_SYSTEM, "cannot build the plan: %s", strerror(-rc));
}

/* Say, once each, what could not be put first and what fell back. */
static void report_plan_problems(const struct plan *plan)
{
	size_t c, i;

	for (c = 0; c < plan->nclasses; c++) {
		const struct plan_class *cl = &plan->classes[c];

		if (cl->error)
			fprintf(stderr, "blkhydrate: priority %s: %s\n", cl->pattern,
				cl->error == -ENOENT ? "matches no file" : strerror(-cl->error));
		for (i = 0; i < cl->nfiles; i++)
			if (cl->files[i].error)
				fprintf(stderr, "blkhydrate: priority file %s: %s\n",
					cl->files[i].path, cl->files[i].why);
	}
	for (i = 0; i < plan->nnotes; i++)
		fprintf(stderr, "blkhydrate: %s\n", plan->notes[i]);
}

struct phase_ctx {
	const struct ctl *ctl;
	const struct plan *plan;
	const struct job *jobs;
	size_t waiting;			/* jobs whose priority classes are not read yet */
	struct run_state *state;	/* --attach: progress for "status" */
	struct pace *pace;
	struct volstate *vs;
};

/* Units ordered After= the hydration start now: their files are warm. */
static void priority_ready(struct phase_ctx *px)
{
	if (px->state)
		px->state->priority_done = true;
	notify_systemd("READY=1\nSTATUS=priority files read, reading the rest");
}

static void phase_cb(const struct job *job, size_t phase, void *arg)
{
	struct phase_ctx *px = arg;
	size_t t = (size_t)(job - px->jobs);
	size_t npri = px->plan->per[t].npriority;

	if (!npri || phase + 1 != npri)
		return;
	if (!--px->waiting)
		priority_ready(px);
	if (px->ctl->quiet)
		return;
	if (px->ctl->bar)
		report_progress_end(stderr);
	report_priority_done(stderr, px->plan, t, job);
}

static void save_run_state(struct phase_ctx *px, const struct job *j)
{
	int rc;

	/* Before the engine starts, the plan's count stands. */
	if (j->planned)
		px->state->planned = j->planned;
	px->state->done = j->done;
	px->state->errors = (unsigned int)j->bad.n;
	if (px->pace) {
		px->state->depth = px->pace->depth;
		px->state->rate = (uint64_t)px->pace->rate;
		px->state->latency_us = (uint64_t)(px->pace->lat_ns / 1000.0);
	}
	rc = run_state_write(px->ctl->run_dir, px->state);
	if (rc)
		fprintf(stderr, "blkhydrate: %s: cannot write progress: %s\n", px->ctl->run_dir,
			strerror(-rc));
}

static void progress_cb(const struct job *jobs, size_t njobs, uint64_t elapsed_ns, void *arg)
{
	struct phase_ctx *px = arg;
	uint64_t done = 0, planned = 0;
	char status[128], sdone[32], splanned[32];
	size_t i;

	if (px->ctl->progress != PROGRESS_NEVER)
		report_progress(stderr, jobs, njobs, elapsed_ns, px->ctl->bar, px->pace);
	for (i = 0; i < njobs; i++) {
		done += jobs[i].done;
		planned += jobs[i].planned;
	}
	snprintf(status, sizeof(status), "STATUS=read %s of %s (%.0f%%)",
		 size_format(done, sdone, sizeof(sdone)),
		 size_format(planned, splanned, sizeof(splanned)),
		 planned ? 100.0 * (double)done / (double)planned : 100.0);
	notify_systemd(status);
	if (px->state)
		save_run_state(px, &jobs[0]);
}

static unsigned int pace_cb(const struct engine_pace *ep, const struct job *jobs, size_t njobs,
			    void *arg)
{
	const struct phase_ctx *px = arg;

	return pace_tick(ep, jobs, njobs, px->pace);
}

/* Per target: who it is, its disk lock, and what an earlier run read. */
struct volstate {
	struct volid vid;
	int lock_fd;
	struct rangelist prior;		/* read by earlier runs (--resume) */
	struct rangelist *left;		/* the plan's phases minus @prior; NULL: not resuming */
	bool save_failed;		/* said once that progress cannot be saved */
};

/*
 * Lock every target's disk, before anything is read. Two targets of one run
 * on the same disk (two partitions) share the first one's lock.
 */
static void lock_targets(const struct ctl *ctl, struct target *t, struct volstate *vs, size_t n)
{
	size_t i, k;
	pid_t holder;
	int rc;

	for (i = 0; i < n; i++) {
		vs[i].lock_fd = -1;
		rc = volid_get(&t[i], "/sys", &vs[i].vid);
		if (rc)
			errx_status(EXIT_SYSTEM, "%s: cannot identify the volume: %s", t[i].path,
				    strerror(-rc));
		for (k = 0; k < i; k++)
			if (!strcmp(vs[k].vid.disk, vs[i].vid.disk))
				break;
		if (k < i)
			continue;
		rc = disk_lock(ctl->lock_dir, vs[i].vid.disk, false, &holder);
		if (rc == -EBUSY && ctl->wait) {
			if (!ctl->quiet)
				fprintf(stderr, "blkhydrate: %s: waiting for pid %ld, which is hydrating the same disk\n",
					t[i].path, (long)holder);
			rc = disk_lock(ctl->lock_dir, vs[i].vid.disk, true, &holder);
			if (rc == -EINTR)
				errx_status(EXIT_INTERRUPTED, "%s: interrupted while waiting for the disk lock",
					    t[i].path);
		}
		if (rc == -EBUSY)
			errx_status(EXIT_BUSY, "%s: already being hydrated by pid %ld (lock %s/%s.lock); use --wait to wait",
				    t[i].path, (long)holder, ctl->lock_dir, vs[i].vid.disk);
		if (rc == -EACCES || rc == -EPERM || rc == -EROFS) {
			/* An unprivileged user hydrating an image: run, but say so. */
			if (!ctl->quiet)
				fprintf(stderr, "blkhydrate: %s: warning: cannot lock %s/%s.lock: %s; running unlocked\n",
					t[i].path, ctl->lock_dir, vs[i].vid.disk, strerror(-rc));
			continue;
		}
		if (rc < 0)
			errx_status(EXIT_SYSTEM, "%s: cannot lock %s/%s.lock: %s", t[i].path,
				    ctl->lock_dir, vs[i].vid.disk, strerror(-rc));
		vs[i].lock_fd = rc;
	}
}

/* With --resume, take each target's saved progress off its plan; a bad state file is ignored. */
static void resume_targets(const struct ctl *ctl, const struct plan *plan, struct target *t,
			   struct volstate *vs, size_t n)
{
	char path[4200], sread[32];
	size_t i, p;
	int rc;

	for (i = 0; i < n; i++) {
		rangelist_init(&vs[i].prior);
		vs[i].left = NULL;
		if (!ctl->resume)
			continue;
		rc = checkpoint_load(ctl->progress_dir, vs[i].vid.id, t[i].size, &vs[i].prior, NULL);
		if (rc == -ENOENT)
			continue;
		if (rc == -ENOMEM)
			errx_status(EXIT_SYSTEM, "out of memory");
		if (rc) {
			checkpoint_path(ctl->progress_dir, vs[i].vid.id, path, sizeof(path));
			fprintf(stderr, "blkhydrate: %s: warning: ignoring %s: %s; reading everything\n",
				t[i].path, path, checkpoint_strerror(rc));
			continue;
		}
		vs[i].left = calloc(plan->per[i].nphases ? plan->per[i].nphases : 1,
				    sizeof(*vs[i].left));
		if (!vs[i].left)
			errx_status(EXIT_SYSTEM, "out of memory");
		for (p = 0; p < plan->per[i].nphases; p++)
			if (rangelist_subtract(&vs[i].left[p], &plan->per[i].phases[p], &vs[i].prior))
				errx_status(EXIT_SYSTEM, "out of memory");
		if (!ctl->quiet) {
			size_format(rangelist_bytes(&vs[i].prior), sread, sizeof(sread));
			fprintf(stderr, "blkhydrate: %s: resuming: %s read before\n", t[i].path, sread);
		}
	}
}

static void save_one(const struct ctl *ctl, struct volstate *vs, const struct job *j)
{
	int rc;

	if (j->complete)
		rc = checkpoint_remove(ctl->progress_dir, vs->vid.id);
	else
		rc = checkpoint_save(ctl->progress_dir, vs->vid.id, j->target->size, &vs->prior,
				     &j->read, &j->bad);
	if (rc && !vs->save_failed) {
		vs->save_failed = true;
		fprintf(stderr, "blkhydrate: %s: warning: cannot save progress in %s: %s\n",
			j->target->path, ctl->state_dir, strerror(-rc));
	}
}

static void save_cb(const struct job *jobs, size_t njobs, void *arg)
{
	const struct phase_ctx *px = arg;
	size_t i;

	for (i = 0; i < njobs; i++)
		save_one(px->ctl, &px->vs[i], &jobs[i]);
}

static void free_volstate(struct volstate *vs, const struct plan *plan, size_t n)
{
	size_t i, p;

	for (i = 0; i < n; i++) {
		if (vs[i].left)
			for (p = 0; p < plan->per[i].nphases; p++)
				rangelist_free(&vs[i].left[p]);
		free(vs[i].left);
		rangelist_free(&vs[i].prior);
		if (vs[i].lock_fd >= 0)
			close(vs[i].lock_fd);
	}
	free(vs);
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

static void free_ctl(struct ctl *ctl)
{
	free(ctl->progress_dir);
	free(ctl->patterns);
	config_free(&ctl->cfg);
}

/* What --attach knows about its one device. */
struct attach {
	struct disk_info di;
	struct saved_plan saved[DISK_MAX_FS];
	uint64_t fs_offset[DISK_MAX_FS];	/* where each saved plan's file system starts */
	size_t nsaved;
	struct plan_preset *presets;
	size_t npresets;
	struct run_state state;
};

static void attach_free(struct attach *at)
{
	size_t i;

	for (i = 0; i < at->nsaved; i++)
		saved_plan_free(&at->saved[i]);
	free(at->presets);
}

/* The device's identity and content, through udev for a disk, libblkid alone for an image. */
static void attach_identify(const struct target *t, struct disk_info *di)
{
	struct udev_device *d = NULL;
	struct udev *udev = NULL;
	const char *base;

	if (t->blockdev && (udev = udev_new()))
		d = udev_device_new_from_devnum(udev, 'b', t->id_dev);
	if (d && !disk_info_from_udev(d, false, di)) {
		di->size = t->size;
		disk_identity(di);
	} else {
		memset(di, 0, sizeof(*di));
		base = strrchr(t->path, '/');
		snprintf(di->name, sizeof(di->name), "%s", base ? base + 1 : t->path);
		snprintf(di->devnode, sizeof(di->devnode), "%s", t->path);
		di->size = t->size;
		disk_probe(t->path, &di->probe);
		disk_identity(di);
	}
	udev_device_unref(d);
	udev_unref(udev);
}

/* Saved plans for the file systems on the device become the first priority classes. */
static void attach_saved_plans(const struct ctl *ctl, const struct target *t, struct attach *at)
{
	const struct disk_probe *pr = &at->di.probe;
	struct saved_plan *sp;
	const char *why;
	size_t i, c, n = 0;
	int rc;

	for (i = 0; i < pr->nfs; i++) {
		if (!pr->fs[i].uuid[0])
			continue;
		sp = &at->saved[at->nsaved];
		rc = saved_plan_load(ctl->state_dir, pr->fs[i].uuid, sp);
		if (rc == -ENOENT)
			continue;
		if (rc) {
			fprintf(stderr, "blkhydrate: %s: saved plan for UUID %s %s: ignored\n",
				t->path, pr->fs[i].uuid,
				rc == -EBADMSG ? "is corrupt" : strerror(-rc));
			continue;
		}
		if (saved_plan_check(sp, &pr->fs[i], t->size, &why)) {
			fprintf(stderr, "blkhydrate: %s: saved plan for UUID %s is stale (%s): ignored\n",
				t->path, pr->fs[i].uuid, why);
			saved_plan_free(sp);
			continue;
		}
		for (c = 0; c < sp->nclasses; c++)
			n += sp->classes[c].nfiles;
		if (!ctl->quiet)
			fprintf(stderr, "blkhydrate: %s: using the saved plan for UUID %s\n", t->path,
				sp->uuid);
		at->fs_offset[at->nsaved++] = pr->fs[i].offset;
	}
	if (!at->nsaved)
		return;
	at->presets = calloc(n ? n : 1, sizeof(*at->presets));
	if (!at->presets)
		errx_status(EXIT_SYSTEM, "out of memory");
	for (i = 0; i < at->nsaved; i++)
		for (c = 0; c < at->saved[i].nclasses; c++) {
			struct plan_preset *ps = &at->presets[at->npresets++];

			ps->pattern = at->saved[i].classes[c].pattern;
			ps->target = 0;
			ps->shift = at->fs_offset[i];
			ps->files = at->saved[i].classes[c].files;
			ps->nfiles = at->saved[i].classes[c].nfiles;
		}
}

/* Returns 1 when the ledger says the device was hydrated already, else 0. */
static int attach_prepare(const struct ctl *ctl, const struct target *t, struct attach *at)
{
	struct ledger_entry e;
	int rc;

	attach_identify(t, &at->di);
	if (at->di.identity[0]) {
		rc = ledger_lookup(ctl->state_dir, at->di.identity, t->size, &e);
		if (!rc) {
			if (!ctl->quiet)
				fprintf(stderr, "blkhydrate: %s: %s was hydrated already (ledger): nothing to do\n",
					t->path, e.volume);
			return 1;
		}
		if (rc != -ENOENT)
			fprintf(stderr, "blkhydrate: %s: ledger entry for %s %s: ignored\n", t->path,
				at->di.identity, rc == -EBADMSG ? "is corrupt" : strerror(-rc));
	}
	attach_saved_plans(ctl, t, at);
	snprintf(at->state.device, sizeof(at->state.device), "%s", at->di.name);
	snprintf(at->state.volume, sizeof(at->state.volume), "%s", at->di.identity);
	at->state.pid = getpid();
	at->state.started = (int64_t)time(NULL);
	return 0;
}

static void attach_record(const struct ctl *ctl, const struct attach *at, const struct job *j)
{
	struct ledger_entry e;
	int rc;

	if (!at->di.identity[0]) {
		fprintf(stderr, "blkhydrate: %s: no volume id, serial or UUID: not recorded in the ledger\n",
			j->target->path);
		return;
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.volume, sizeof(e.volume), "%s", at->di.identity);
	snprintf(e.device, sizeof(e.device), "%s", at->di.name);
	e.size = j->target->size;
	e.finished = (int64_t)time(NULL);
	e.bytes = j->done;
	e.ms = j->end_ns / 1000000;
	rc = ledger_record(ctl->state_dir, &e);
	if (rc)
		fprintf(stderr, "blkhydrate: %s: cannot record %s in the ledger: %s\n",
			ctl->state_dir, e.volume, strerror(-rc));
}

static int cmd_hydrate(int argc, char **argv)
{
	struct ctl ctl = { .cmd = "hydrate" };
	struct engine_opts eo = { 0 };
	struct engine_info info;
	struct sigaction sa = { 0 };
	struct phase_ctx px = { 0 };
	struct pace pace;
	struct target *targets;
	struct volstate *vs;
	struct plan plan;
	struct job *jobs;
	struct attach at;
	size_t n, i;
	unsigned int through_failed;
	int rc, status;

	parse_cmd(argc, argv, &ctl);
	n = (size_t)(argc - optind);
	targets = calloc(n, sizeof(*targets));
	jobs = calloc(n, sizeof(*jobs));
	vs = calloc(n, sizeof(*vs));
	if (!targets || !jobs || !vs)
		errx_status(EXIT_SYSTEM, "out of memory");
	open_targets(argv + optind, n, targets);
	memset(&at, 0, sizeof(at));
	if (ctl.attach && attach_prepare(&ctl, &targets[0], &at)) {
		notify_systemd("READY=1\nSTATUS=already hydrated");
		status = EXIT_DONE;
		free(vs);
		goto release;
	}
	/* From here a signal stops the run cleanly, also one that comes while we wait for a lock. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	lock_targets(&ctl, targets, vs, n);
	build_plan(&ctl, &plan, targets, n, at.presets, at.npresets);
	resume_targets(&ctl, &plan, targets, vs, n);
	if (!ctl.quiet) {
		report_plan_problems(&plan);
		for (i = 0; i < n; i++)
			if (!targets[i].direct)
				fprintf(stderr, "blkhydrate: %s: O_DIRECT refused, reading through the page cache\n",
					targets[i].path);
	}

	/* Bytes FIEMAP could not place (inline data) are few: read them through the files now. */
	through_failed = plan_read_through(&plan);
	if (through_failed && !ctl.quiet)
		fprintf(stderr, "blkhydrate: %u priority files could not be read through the file system\n",
			through_failed);

	for (i = 0; i < n; i++) {
		jobs[i].target = &targets[i];
		jobs[i].phases = vs[i].left ? vs[i].left : plan.per[i].phases;
		jobs[i].nphases = plan.per[i].nphases;
	}
	px.ctl = &ctl;
	px.plan = &plan;
	px.jobs = jobs;
	px.waiting = 0;
	px.state = ctl.attach ? &at.state : NULL;
	for (i = 0; i < n; i++)
		px.waiting += plan.per[i].npriority > 0;
	if (!px.waiting)
		priority_ready(&px);
	if (px.state) {
		for (i = 0; i < plan.per[0].nphases; i++)
			at.state.planned += plan_phase_bytes(&plan, 0, i);
		save_run_state(&px, &jobs[0]);
	}
	px.pace = &pace;
	if (pace_init(&pace, ctl.rs.queue_depth, pace_auto_max(ctl.rs.block_size), ctl.rs.yield,
		      targets, n))
		errx_status(EXIT_SYSTEM, "out of memory");
	if (ctl.rs.yield && !pace_watched(&pace) && !ctl.quiet)
		fputs("blkhydrate: --yield: no target is a block device with statistics in sysfs, "
		      "not yielding\n", stderr);
	eo.queue_depth = pace.max_depth;
	eo.start_depth = pace.depth;
	eo.ioprio = ctl.rs.ioprio;
	eo.pace_ms = PACE_TICK_MS;
	eo.pace = pace_cb;
	px.vs = vs;
	eo.block_size = ctl.rs.block_size;
	eo.strides = ctl.rs.strides;
	eo.rate = ctl.rs.rate;
	eo.stop = &stop_requested;
	eo.phase_done = phase_cb;
	eo.save = save_cb;
	eo.save_ms = CHECKPOINT_MS;
	eo.arg = &px;
	/* Under --attach progress also feeds "status" and systemd, even when quiet. */
	if (ctl.progress != PROGRESS_NEVER || ctl.attach) {
		eo.tick_ms = ctl.bar ? PROGRESS_BAR_MS : PROGRESS_LOG_MS;
		eo.progress = progress_cb;
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
	save_cb(jobs, n, &px);
	/* Errors are said even with --quiet: it silences progress, not trouble. */
	for (i = 0; i < n; i++) {
		report_bad_ranges(stderr, &jobs[i], MAX_BAD_LINES);
		if (jobs[i].vanished)
			fprintf(stderr, "blkhydrate: %s: the device went away (%s): stopped\n",
				targets[i].path, strerror(-jobs[i].vanish_err));
	}
	if (!ctl.quiet) {
		for (i = 0; i < n; i++)
			report_summary(stderr, &plan, i, &jobs[i]);
		if (info.interrupted)
			fputs("blkhydrate: interrupted: in-flight reads drained, stopping\n", stderr);
	}
	if (ctl.json)
		report_json(stdout, jobs, n, &plan, &info, &ctl.rs, &pace, status);
	if (ctl.attach && status == EXIT_DONE && !ctl.only_priority)
		attach_record(&ctl, &at, &jobs[0]);
done:
	pace_free(&pace);
	if (ctl.attach) {
		run_state_remove(ctl.run_dir, at.state.device);
		notify_systemd("READY=1\nSTATUS=finished");
	}
	for (i = 0; i < n; i++)
		job_release(&jobs[i]);
	free_volstate(vs, &plan, n);
	plan_free(&plan);
release:
	for (i = 0; i < n; i++)
		target_close(&targets[i]);
	attach_free(&at);
	free(jobs);
	free(targets);
	free_ctl(&ctl);
	return status;
}

/* plan --save: one saved plan per file system holding priority files. Returns how many. */
static size_t save_plans(const struct ctl *ctl, const struct plan *plan)
{
	struct disk_probe *pr;
	struct saved_plan sp;
	char path[4200];
	size_t t, i, c, files, saved = 0;
	int rc;

	pr = malloc(sizeof(*pr));
	if (!pr)
		errx_status(EXIT_SYSTEM, "out of memory");
	for (t = 0; t < plan->ntargets; t++) {
		disk_probe(plan->targets[t].path, pr);
		for (i = 0; i < pr->nfs; i++) {
			if (!pr->fs[i].uuid[0])
				continue;
			if (saved_plan_from_plan(plan, t, &pr->fs[i], &sp))
				errx_status(EXIT_SYSTEM, "out of memory");
			for (c = 0, files = 0; c < sp.nclasses; c++)
				files += sp.classes[c].nfiles;
			rc = files ? saved_plan_save(ctl->state_dir, &sp, path, sizeof(path)) : 0;
			if (rc)
				fprintf(stderr, "blkhydrate: %s: cannot save the plan for UUID %s: %s\n",
					ctl->state_dir, sp.uuid, strerror(-rc));
			else if (files) {
				fprintf(stderr, "blkhydrate: saved the plan for UUID %s (%zu file%s) as %s\n",
					sp.uuid, files, files == 1 ? "" : "s", path);
				saved++;
			}
			saved_plan_free(&sp);
		}
	}
	free(pr);
	if (!saved)
		fputs("blkhydrate: nothing saved: no priority file lies in a file system with a UUID on the targets\n",
		      stderr);
	return saved;
}

static void __attribute__((noreturn)) usage_probe(void)
{
	printf("Usage:\n"
	       " blkhydrate probe [options] <target>\n"
	       "\n"
	       "Estimate how cold a target is without reading it all: time small direct\n"
	       "reads at places spread over it (the same places for the same seed), count\n"
	       "those slower than the target's warm latency as cold, and print the cold\n"
	       "share with a 95%% confidence interval and a latency histogram. Reads\n"
	       "about (samples + %u) x 4 KiB, and warms the blocks it reads.\n"
	       "\n"
	       "Options:\n"
	       " -n, --samples <n>   reads to time (default %u, 1 to %u)\n"
	       "     --seed <n>      where to read (default %u)\n"
	       "     --json          print the estimate as JSON\n"
	       "\n"
	       " -h, --help          display this help\n",
	       PROBE_REREADS, PROBE_DEFAULT_SAMPLES, PROBE_MAX_SAMPLES, PROBE_DEFAULT_SEED);
	exit(EXIT_DONE);
}

static int cmd_probe(int argc, char **argv)
{
	enum { OPT_SEED = 256, OPT_JSON };
	static const struct option longopts[] = {
		{ "samples", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int samples = PROBE_DEFAULT_SAMPLES, seed = PROBE_DEFAULT_SEED;
	struct sigaction sa = { 0 };
	struct probe_result r;
	struct target t;
	const char *why;
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (opt_count(optarg, 1, PROBE_MAX_SAMPLES, &samples, &why))
				errx_usage("probe", "invalid samples '%s': %s", optarg, why);
			break;
		case OPT_SEED:
			if (opt_count(optarg, 0, 4294967295U, &seed, &why))
				errx_usage("probe", "invalid seed '%s': %s", optarg, why);
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			usage_probe();
		case ':':
			errx_usage("probe", "option '%s' requires an argument", argv[optind - 1]);
		default:
			errx_usage("probe", "unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		errx_usage("probe", "no target given");
	if (optind + 1 < argc)
		errx_usage("probe", "one target at a time");
	open_targets(argv + optind, 1, &t);
	if (!t.direct)
		fprintf(stderr, "blkhydrate: %s: O_DIRECT refused: cached reads will look warm\n",
			t.path);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = probe_run(&t, samples, seed, &stop_requested, &r);
	if (rc == -EINTR) {
		target_close(&t);
		errx_status(EXIT_INTERRUPTED, "%s: probe interrupted", argv[optind]);
	}
	if (rc == -ENODEV || rc == -ENXIO) {
		target_close(&t);
		errx_status(EXIT_VANISHED, "%s: the device went away", argv[optind]);
	}
	if (rc) {
		target_close(&t);
		errx_status(EXIT_SYSTEM, "%s: cannot probe: %s", argv[optind], strerror(-rc));
	}
	if (json)
		report_probe_json(stdout, &t, seed, &r);
	else
		report_probe(stdout, &t, seed, &r);
	target_close(&t);
	return r.errors ? EXIT_READ_ERRORS : EXIT_DONE;
}

static int cmd_plan(int argc, char **argv)
{
	struct ctl ctl = { .cmd = "plan" };
	struct target *targets;
	struct plan plan;
	size_t n, i;
	int status;

	parse_cmd(argc, argv, &ctl);
	n = (size_t)(argc - optind);
	targets = calloc(n, sizeof(*targets));
	if (!targets)
		errx_status(EXIT_SYSTEM, "out of memory");
	open_targets(argv + optind, n, targets);
	build_plan(&ctl, &plan, targets, n, NULL, 0);
	if (ctl.json)
		report_plan_json(stdout, &plan, &ctl.rs);
	else
		report_plan(stdout, &plan, &ctl.rs, ctl.verbose);
	report_plan_problems(&plan);
	status = plan.unmapped ? EXIT_UNMAPPED : EXIT_DONE;
	if (plan.unmapped)
		fprintf(stderr, "blkhydrate: %u priority paths or files could not be mapped\n",
			plan.unmapped);
	if (ctl.save && !save_plans(&ctl, &plan))
		status = EXIT_UNMAPPED;
	for (i = 0; i < n; i++)
		target_close(&targets[i]);
	plan_free(&plan);
	free(targets);
	free_ctl(&ctl);
	return status;
}

static void parse_disks_cmd(int argc, char **argv, struct ctl *ctl)
{
	enum { OPT_JSON = 256, OPT_STATE_DIR, OPT_RUN_DIR, OPT_UDEV };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "run-dir", required_argument, NULL, OPT_RUN_DIR },
		{ "udev", no_argument, NULL, OPT_UDEV },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool status = !strcmp(ctl->cmd, "status"), discover = !strcmp(ctl->cmd, "discover");
	int c;

	set_paths(ctl);
	while ((c = getopt_long(argc, argv, status ? ":h" : ":c:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			if (discover)
				goto unknown;
			ctl->json = true;
			break;
		case 'c':
			if (status)
				goto unknown;
			ctl->config = optarg;
			ctl->config_given = true;
			break;
		case OPT_STATE_DIR:
			ctl->state_dir = opt_dir(ctl, "state-dir", optarg);
			break;
		case OPT_RUN_DIR:
			if (!status)
				goto unknown;
			ctl->run_dir = opt_dir(ctl, "run-dir", optarg);
			break;
		case OPT_UDEV:
			if (!discover)
				goto unknown;
			ctl->udev = true;
			break;
		case 'h':
			usage_disks(ctl->cmd);
		case ':':
			errx_usage(ctl->cmd, "option '%s' requires an argument", argv[optind - 1]);
		default:
unknown:
			errx_usage(ctl->cmd, "unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (discover && optind != argc - 1)
		errx_usage(ctl->cmd, optind >= argc ? "no device given" : "more than one device given");
	if (!discover && optind < argc)
		errx_usage(ctl->cmd, "unexpected argument '%s'", argv[optind]);
	if (!status)
		load_config(ctl);
}

struct disks_ctx {
	const struct ctl *ctl;
	struct policy pol;
	size_t n;
};

/* Discovery and the decision for one disk. Returns 0 or -ENODEV (no device node). */
static int decide_disk(struct disks_ctx *dx, struct udev_device *d, struct disk_info *di,
		       struct decide_out *out)
{
	struct decide_in in = { 0 };
	struct ledger_entry e;
	int rc;

	rc = disk_info_from_udev(d, !dx->ctl->udev, di);
	if (rc)
		return rc;
	in.kind = di->kind;
	in.probe = di->probe.result;
	in.hydrate_ebs = dx->pol.hydrate_ebs;
	in.matched_hydrate = policy_match(dx->pol.hydrate_match, dx->pol.nhydrate, disk_property, d);
	in.matched_skip = policy_match(dx->pol.skip_match, dx->pol.nskip, disk_property, d);
	if (di->identity[0]) {
		rc = ledger_lookup(dx->ctl->state_dir, di->identity, di->size, &e);
		in.in_ledger = !rc;
		if (rc && rc != -ENOENT)
			fprintf(stderr, "blkhydrate: %s: ledger entry for %s %s: ignored\n",
				di->devnode, di->identity,
				rc == -EBADMSG ? "is corrupt" : strerror(-rc));
	}
	*out = decide(&in);
	return 0;
}

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

static void load_policy(struct ctl *ctl, struct policy *pol)
{
	struct config_error err;
	int rc = policy_from_config(&ctl->cfg, pol, &err);

	if (rc == -ENOMEM)
		errx_status(EXIT_SYSTEM, "out of memory");
	if (rc)
		errx_status(EXIT_USAGE, "%s:%u: %s", ctl->config, err.line, err.reason);
}

static int cmd_list(int argc, char **argv)
{
	struct ctl ctl = { .cmd = "list" };
	struct disks_ctx dx = { .ctl = &ctl };
	int rc;

	parse_disks_cmd(argc, argv, &ctl);
	load_policy(&ctl, &dx.pol);
	if (ctl.json)
		fputs("{\"disks\": [", stdout);
	rc = discover_disks(list_one, &dx);
	if (ctl.json)
		fputs(dx.n ? "\n]}\n" : "]}\n", stdout);
	if (rc)
		errx_status(rc == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE, "cannot list disks: %s",
			    strerror(-rc));
	policy_free(&dx.pol);
	free_ctl(&ctl);
	return EXIT_DONE;
}

static int cmd_discover(int argc, char **argv)
{
	struct ctl ctl = { .cmd = "discover" };
	struct disks_ctx dx = { .ctl = &ctl };
	struct udev_device *d = NULL;
	struct decide_out out;
	struct disk_info *di;
	const char *path, *node;
	struct udev *udev;
	struct stat st;

	parse_disks_cmd(argc, argv, &ctl);
	load_policy(&ctl, &dx.pol);
	path = argv[optind];
	udev = udev_new();
	di = malloc(sizeof(*di));
	if (!udev || !di)
		errx_status(EXIT_SYSTEM, "out of memory");
	/* Under udev the event's properties are newer than its database. */
	if (ctl.udev) {
		d = udev_device_new_from_environment(udev);
		node = d ? udev_device_get_devnode(d) : NULL;
		if (d && (!node || strcmp(node, path))) {
			udev_device_unref(d);
			d = NULL;
		}
	}
	if (!d) {
		if (stat(path, &st) < 0)
			errx_status(EXIT_USAGE, "%s: %s", path, strerror(errno));
		if (!S_ISBLK(st.st_mode))
			errx_status(EXIT_USAGE, "%s: not a block device", path);
		d = udev_device_new_from_devnum(udev, 'b', st.st_rdev);
		if (!d)
			errx_status(EXIT_USAGE, "%s: unknown to udev: %s", path, strerror(errno));
	}
	if (!udev_device_get_devtype(d) || strcmp(udev_device_get_devtype(d), "disk"))
		errx_status(EXIT_USAGE, "%s: not a whole disk", path);
	if (decide_disk(&dx, d, di, &out))
		errx_status(EXIT_USAGE, "%s: has no device node", path);
	listing_disk_udev(stdout, di, out);
	udev_device_unref(d);
	udev_unref(udev);
	free(di);
	policy_free(&dx.pol);
	free_ctl(&ctl);
	return EXIT_DONE;
}

struct status_ctx {
	bool json;
	size_t n;
};

static int status_running(const struct run_state *st, const char *path, int err, void *arg)
{
	struct status_ctx *sx = arg;
	bool alive;

	if (err) {
		fprintf(stderr, "blkhydrate: %s: %s: ignored\n", path,
			err == -EBADMSG ? "corrupt" : strerror(-err));
		return 0;
	}
	alive = !kill(st->pid, 0) || errno == EPERM;
	if (sx->json)
		listing_running_json(stdout, st, alive, !sx->n);
	else
		listing_running(stdout, st, alive);
	sx->n++;
	return 0;
}

static int status_finished(const struct ledger_entry *e, const char *path, int err, void *arg)
{
	struct status_ctx *sx = arg;

	if (err) {
		fprintf(stderr, "blkhydrate: %s: %s: ignored\n", path,
			err == -EBADMSG ? "corrupt ledger entry" : strerror(-err));
		return 0;
	}
	if (sx->json)
		listing_finished_json(stdout, e, !sx->n);
	else
		listing_finished(stdout, e);
	sx->n++;
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	struct ctl ctl = { .cmd = "status" };
	struct status_ctx sx = { 0 };
	int rc;

	parse_disks_cmd(argc, argv, &ctl);
	sx.json = ctl.json;
	fputs(ctl.json ? "{\"running\": [" : "Running:\n", stdout);
	rc = run_state_list(ctl.run_dir, status_running, &sx);
	if (rc && rc != -ENOENT)
		errx_status(EXIT_USAGE, "%s: %s", ctl.run_dir, strerror(-rc));
	if (!ctl.json && !sx.n)
		fputs("  none\n", stdout);
	fputs(ctl.json ? (sx.n ? "\n  ],\n  \"finished\": [" : "],\n  \"finished\": [") : "Finished:\n",
	      stdout);
	sx.n = 0;
	rc = ledger_list(ctl.state_dir, status_finished, &sx);
	if (rc && rc != -ENOENT)
		errx_status(EXIT_USAGE, "%s: %s", ctl.state_dir, strerror(-rc));
	if (!ctl.json && !sx.n)
		fputs("  none\n", stdout);
	if (ctl.json)
		fputs(sx.n ? "\n  ]}\n" : "]}\n", stdout);
	free_ctl(&ctl);
	return EXIT_DONE;
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
	if (!strcmp(argv[0], "plan"))
		return cmd_plan(argc, argv);
	if (!strcmp(argv[0], "list"))
		return cmd_list(argc, argv);
	if (!strcmp(argv[0], "status"))
		return cmd_status(argc, argv);
	if (!strcmp(argv[0], "discover"))
		return cmd_discover(argc, argv);
	if (!strcmp(argv[0], "probe"))
		return cmd_probe(argc, argv);
	errx_usage(NULL, "unknown command '%s'", argv[0]);
}
