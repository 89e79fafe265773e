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
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "checkpoint.h"
#include "conffile.h"
#include "engine.h"
#include "lock.h"
#include "options.h"
#include "plan.h"
#include "range.h"
#include "report.h"
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
	bool resume;		/* read only what the state file says is left */
	bool wait;		/* wait for another hydration of the disk to end */
	const char *state_dir;
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
	       " -d, --queue-depth <n>     reads in flight (default %u)\n"
	       " -b, --block-size <size>   bytes per read (default %uK)\n"
	       " -s, --strides <n>         parts of a target read side by side (default %u)\n",
	       DEFAULT_CONFIG_FILE, DEFAULT_QUEUE_DEPTH, DEFAULT_BLOCK_SIZE / 1024,
	       DEFAULT_STRIDES);
	if (hydrate)
		fputs(" -r, --rate <size>         at most this many bytes per second (default: no cap)\n"
		      "     --resume              read only what an earlier run left unread\n"
		      "     --wait                wait while another run hydrates the same disk\n"
		      "     --state-dir <dir>     where progress is saved (default " DEFAULT_STATE_DIR ")\n"
		      "     --lock-dir <dir>      where disk locks live (default " DEFAULT_LOCK_DIR ")\n"
		      "     --progress <when>     auto, always or never (default auto)\n"
		      "     --json                print a JSON summary on standard output\n"
		      " -q, --quiet               no progress and no summary on standard error\n",
		      stdout);
	else
		fputs("     --json                print the plan as JSON\n"
		      " -v, --verbose             list every range of every phase\n",
		      stdout);
	fputs("\n"
	      " -h, --help                display this help\n"
	      "\n"
	      "Sizes take the suffixes K, M, G, T (powers of 1024) or KB, MB, GB, TB.\n",
	      stdout);
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
		bad = opt_count(value, 1, MAX_QUEUE_DEPTH, &ctl->rs.queue_depth, &why);
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
	} else if (!strcmp(key, "only-priority")) {
		if (!strcasecmp(value, "yes") || !strcasecmp(value, "true"))
			ctl->only_priority = true;
		else if (!strcasecmp(value, "no") || !strcasecmp(value, "false"))
			ctl->only_priority = false;
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
		{ "only-priority", SET_ONLY },
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

static void parse_cmd(int argc, char **argv, struct ctl *ctl)
{
	enum { OPT_PROGRESS = 256, OPT_JSON, OPT_ONLY, OPT_RESUME, OPT_WAIT, OPT_STATE_DIR,
	       OPT_LOCK_DIR };
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
		{ "json", no_argument, NULL, OPT_JSON },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "lock-dir", required_argument, NULL, OPT_LOCK_DIR },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool hydrate = !strcmp(ctl->cmd, "hydrate");
	const char *optstr = hydrate ? ":p:uc:d:b:s:r:qh" : ":p:uc:d:b:s:vh";
	const char *key;
	int c;

	ctl->rs.queue_depth = DEFAULT_QUEUE_DEPTH;
	ctl->rs.block_size = DEFAULT_BLOCK_SIZE;
	ctl->rs.strides = DEFAULT_STRIDES;
	ctl->progress = PROGRESS_AUTO;
	ctl->config = DEFAULT_CONFIG_FILE;
	ctl->state_dir = getenv("BLKHYDRATE_STATE_DIR");
	if (!ctl->state_dir || !*ctl->state_dir)
		ctl->state_dir = DEFAULT_STATE_DIR;
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
		case OPT_STATE_DIR:
		case OPT_LOCK_DIR:
			if (!hydrate)
				goto unknown;
			if (!*optarg)
				errx_usage(ctl->cmd, "option '--%s' needs a directory",
					   c == OPT_STATE_DIR ? "state-dir" : "lock-dir");
			if (c == OPT_STATE_DIR)
				ctl->state_dir = optarg;
			else
				ctl->lock_dir = optarg;
			break;
		case 'q':
			ctl->quiet = true;
			break;
		case 'v':
			ctl->verbose = true;
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
	if (opt_check_memory(ctl->rs.queue_depth, ctl->rs.block_size, &key))
		errx_usage(ctl->cmd, "invalid queue depth %u with block size %llu: %s",
			   ctl->rs.queue_depth, (unsigned long long)ctl->rs.block_size, key);
	if (ctl->only_priority && !ctl->npatterns)
		errx_usage(ctl->cmd, "--only-priority needs at least one priority path");
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

static void build_plan(struct ctl *ctl, struct plan *plan, struct target *targets, size_t n)
{
	struct plan_opts po = {
		.patterns = ctl->patterns,
		.npatterns = ctl->npatterns,
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
	struct volstate *vs;
};

static void phase_cb(const struct job *job, size_t phase, void *arg)
{
	const struct phase_ctx *px = arg;
	size_t t = (size_t)(job - px->jobs);
	size_t npri = px->plan->per[t].npriority;

	if (!npri || phase + 1 != npri || px->ctl->quiet)
		return;
	if (px->ctl->bar)
		report_progress_end(stderr);
	report_priority_done(stderr, px->plan, t, job);
}

static void progress_cb(const struct job *jobs, size_t njobs, uint64_t elapsed_ns, void *arg)
{
	const struct phase_ctx *px = arg;

	report_progress(stderr, jobs, njobs, elapsed_ns, px->ctl->bar);
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
		rc = checkpoint_load(ctl->state_dir, vs[i].vid.id, t[i].size, &vs[i].prior, NULL);
		if (rc == -ENOENT)
			continue;
		if (rc == -ENOMEM)
			errx_status(EXIT_SYSTEM, "out of memory");
		if (rc) {
			checkpoint_path(ctl->state_dir, vs[i].vid.id, path, sizeof(path));
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
		rc = checkpoint_remove(ctl->state_dir, vs->vid.id);
	else
		rc = checkpoint_save(ctl->state_dir, vs->vid.id, j->target->size, &vs->prior,
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
	free(ctl->patterns);
	config_free(&ctl->cfg);
}

static int cmd_hydrate(int argc, char **argv)
{
	struct ctl ctl = { .cmd = "hydrate" };
	struct engine_opts eo = { 0 };
	struct engine_info info;
	struct sigaction sa = { 0 };
	struct phase_ctx px;
	struct target *targets;
	struct volstate *vs;
	struct plan plan;
	struct job *jobs;
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
	/* From here a signal stops the run cleanly, also one that comes while we wait for a lock. */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	lock_targets(&ctl, targets, vs, n);
	build_plan(&ctl, &plan, targets, n);
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
	px.vs = vs;
	eo.queue_depth = ctl.rs.queue_depth;
	eo.block_size = ctl.rs.block_size;
	eo.strides = ctl.rs.strides;
	eo.rate = ctl.rs.rate;
	eo.stop = &stop_requested;
	eo.phase_done = phase_cb;
	eo.save = save_cb;
	eo.save_ms = CHECKPOINT_MS;
	eo.arg = &px;
	if (ctl.progress != PROGRESS_NEVER) {
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
		report_json(stdout, jobs, n, &plan, &info, &ctl.rs, status);
done:
	for (i = 0; i < n; i++) {
		job_release(&jobs[i]);
		target_close(&targets[i]);
	}
	free_volstate(vs, &plan, n);
	plan_free(&plan);
	free(jobs);
	free(targets);
	free_ctl(&ctl);
	return status;
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
	build_plan(&ctl, &plan, targets, n);
	if (ctl.json)
		report_plan_json(stdout, &plan, &ctl.rs);
	else
		report_plan(stdout, &plan, &ctl.rs, ctl.verbose);
	report_plan_problems(&plan);
	status = plan.unmapped ? EXIT_UNMAPPED : EXIT_DONE;
	if (plan.unmapped)
		fprintf(stderr, "blkhydrate: %u priority paths or files could not be mapped\n",
			plan.unmapped);
	for (i = 0; i < n; i++)
		target_close(&targets[i]);
	plan_free(&plan);
	free(targets);
	free_ctl(&ctl);
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
	if (!strcmp(argv[0], "plan"))
		return cmd_plan(argc, argv);
	errx_usage(NULL, "unknown command '%s'", argv[0]);
}
