/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command layer's private header, one section per file (util-linux
 * lsblk.h style). Only src/cli/ prints to the user and exits; everything
 * below it returns 0 or -errno.
 */
#ifndef BLKHYDRATE_CLI_H
#define BLKHYDRATE_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config-file.h"
#include "cli/options.h"
#include "cli/report.h"
#include "policy/decide.h"

struct disk_info;
struct job;
struct plan;
struct plan_preset;
struct target;
struct udev_device;

/* main.c: the table of commands */

/* Exit statuses; documented in blkhydrate(8) and README. */
enum {
	EXIT_DONE = 0,
	EXIT_USAGE = 1,	      /* bad option, configuration or target: nothing was read */
	EXIT_READ_ERRORS = 2, /* finished, but some blocks could not be read */
	EXIT_INTERRUPTED = 3, /* stopped by SIGINT or SIGTERM */
	EXIT_SYSTEM = 4,      /* could not run: io_uring unavailable, out of memory */
	EXIT_VANISHED = 5,    /* a target went away during the run */
	EXIT_UNMAPPED = 6,    /* plan: a priority path matched nothing or could not be mapped */
	EXIT_BUSY = 7,	      /* another process is hydrating the same disk */
};

/* messages.c: the one voice of the program on standard error */

/* "blkhydrate: " and the message, on standard error. */
void warn_user(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* warn_user(), then exit with @status. */
void __attribute__((format(printf, 2, 3), noreturn)) die(int status, const char *fmt, ...);

/* A bad invocation: the message, "Try 'blkhydrate @cmd --help'.", exit EXIT_USAGE. */
void __attribute__((format(printf, 2, 3), noreturn))
die_usage(const char *cmd, const char *fmt, ...);

/* Out of memory: say so and exit EXIT_SYSTEM. */
void __attribute__((noreturn)) die_oom(void);

/* Set by SIGINT and SIGTERM once stop_on_signals() ran: the engine drains and stops. */
extern volatile sig_atomic_t stop_requested;
void stop_on_signals(void);

/* settings.c: every setting once: option, configuration key, parser, help */

enum setting_id {
	S_PRIORITY,
	S_USED,
	S_ONLY_PRIORITY,
	S_CONFIG,
	S_QUEUE_DEPTH,
	S_BLOCK_SIZE,
	S_STRIDES,
	S_RATE,
	S_IOPRIO,
	S_YIELD,
	S_NO_YIELD,
	S_PRELOAD,
	S_PRELOAD_MARGIN,
	S_PROGRESS,
	S_JSON,
	S_QUIET,
	S_VERBOSE,
	S_RESUME,
	S_WAIT,
	S_LOCK_DIR,
	S_ATTACH,
	S_SAVE,
	S_STATE_DIR,
	S_RUN_DIR,
	S_UDEV,
	S_SAMPLES,
	S_SEED,
	S_RECORDED,
	S_FOR,
	S_UNTIL_UNIT,
	S_MAX_FILES,
	S_GRANULARITY,
	S_READ_MODE,
	S_SNAPSHOT_BLOCK,
	S_HYDRATE_EBS,
	S_HYDRATE_MATCH,
	S_SKIP_MATCH,
	S_COUNT
};

/* What one run was asked to do: the command line over the configuration file. */
struct ctl {
	const char *cmd;
	struct run_settings rs;
	enum progress_mode progress;
	bool json;
	bool quiet;
	bool verbose;
	bool bar; /* a progress bar on a terminal, else log lines */
	bool used;
	bool only_priority;
	bool preload;		 /* warm priority files into the page cache too */
	uint64_t preload_margin; /* MemAvailable that preloading leaves */
	const char *config;
	bool config_given;
	char **patterns; /* --priority, or the configuration's when none given */
	size_t npatterns;
	uint64_t given; /* bit (1 << setting_id): set on the command line */
	struct config cfg;
	const char *state_dir; /* the ledger and saved plans */
	const char *run_dir;   /* progress of running attach hydrations */
	bool attach;	       /* hydrate: run as the attach unit */
	bool save;	       /* plan: store it for attach */
	bool udev;	       /* discover: called by a udev rule */
	char *progress_dir;    /* checkpoints for --resume: STATE_DIR/progress */
	bool resume;	       /* read only what the state file says is left */
	bool wait;	       /* wait for another hydration of the disk to end */
	const char *lock_dir;
	unsigned int recorded;	/* enum recorded_order: where recorded classes go */
	uint64_t record_ms;	/* record --for; 0: until a signal */
	const char *until_unit; /* record --until-unit */
	unsigned int max_files; /* record: files noted at most */
	unsigned int samples;	/* probe */
	unsigned int seed;	/* probe */
	bool granularity;     /* probe: the fetch granularity, not the cold share */
};

/* One option of a command, in the order its usage lists them. */
struct cmd_option {
	enum setting_id id;
	const char *help; /* NULL: the setting's own help line */
};

/* The settings hydrate and plan share, first in both usages. */
/* clang-format off */
#define PLANNING_OPTIONS \
	{ S_PRIORITY, NULL }, { S_USED, NULL }, { S_ONLY_PRIORITY, NULL }, { S_CONFIG, NULL }, \
	{ S_QUEUE_DEPTH, NULL }, { S_BLOCK_SIZE, NULL }, { S_STRIDES, NULL }
/* clang-format on */

/* What a command's usage and option parsing are made from. */
struct cmd_spec {
	const char *name;
	const char *synopsis;	/* after "blkhydrate <name> " */
	void (*describe)(void); /* the paragraph after the synopsis */
	const struct cmd_option *options;
	size_t noptions;
	unsigned int column; /* where help text starts */
	const char *footer;  /* after -h, or NULL */
};

/* True when @key is a key of the configuration file (config_parse() takes it). */
bool setting_known(const char *key);

/* Defaults, then the command line by @spec; -h prints the usage and exits 0. */
void settings_parse(struct ctl *ctl, const struct cmd_spec *spec, int argc, char **argv);

/* The configuration file fills in what the command line left unset. */
void settings_load_config(struct ctl *ctl);

/* hydrate and plan: the checks that need the command line and the file together. */
void settings_check_targets(struct ctl *ctl, int ntargets);

void settings_free(struct ctl *ctl);

/* Print @spec's usage on standard output and exit 0. */
void __attribute__((noreturn)) usage_command(const struct cmd_spec *spec);

/* targets.c: opening targets and planning them, for hydrate and plan */

/* Open every target; on the first bad one say why and exit before reading anything. */
void open_targets(char **paths, size_t n, struct target *t);

void build_plan(const struct ctl *ctl, struct plan *plan, struct target *targets, size_t n,
		const struct plan_preset *presets, size_t npresets);

/* Say, once each, what could not be put first and what fell back. */
void report_plan_problems(const struct plan *plan);

/* recorded.c: the recordings saved for the targets' file systems */

struct recorded_set;

/*
 * Without --attach, plan and hydrate read the recorded classes saved for
 * the targets' file systems first (--recorded); the attach unit gets them
 * with the rest of its saved plans. Exits on out of memory.
 */
void recorded_load(const struct ctl *ctl, const struct target *targets, size_t n,
		   struct recorded_set **set, const struct plan_preset **presets, size_t *npresets);
void recorded_free(struct recorded_set *set);

/* attach.c: hydrate --attach, the unit's view of its one device */

struct attach;

/* Returns 1 when the ledger says the device was hydrated already, else 0. */
int attach_prepare(const struct ctl *ctl, const struct target *t, struct attach **at);
void attach_presets(const struct attach *at, const struct plan_preset **presets, size_t *n);
struct run_state *attach_run_state(struct attach *at);
/* Record a finished hydration in the ledger. */
void attach_record(const struct ctl *ctl, const struct attach *at, const struct job *j);
void attach_free(struct attach *at);

/* hydrate.c: the hydrate workflow, in named steps */

struct hydration;

/* Open, identify, lock and plan every target. Returns 1 when there is nothing to do. */
int hydrate_prepare(struct ctl *ctl, char **paths, size_t n, struct hydration **hp);
/* Read the plan. Returns the exit status so far. */
int hydrate_run(struct hydration *h);
/* Report, record and release. Returns the exit status. */
int hydrate_finish(struct hydration *h, int status);

/* disks.c: one disk's hydrate-or-skip decision, for list and discover */

struct disks_ctx {
	const struct ctl *ctl;
	struct policy *pol;
	size_t n; /* disks shown so far */
};

/* The policy keys of @ctl's configuration; a bad one exits. */
struct policy *load_policy(struct ctl *ctl);
void free_policy(struct policy *pol);

/* Discovery and the decision for one disk. Returns 0 or -ENODEV (no device node). */
int decide_disk(struct disks_ctx *dx, struct udev_device *d, struct disk_info *di,
		struct decide_out *out);

/* cmd-<verb>.c: one command each */

/* The last line of hydrate's and plan's usage. */
extern const char size_suffixes[];

int cmd_hydrate(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_discover(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_record(int argc, char **argv);

/* plan --save and record --save: store @plan's classes per file system. Returns how many. */
int save_plans(const struct ctl *ctl, const struct plan *plan);

#endif
