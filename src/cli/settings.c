/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every setting once: its long and short option, its configuration key, the
 * parser that checks its value, and its help line. The configuration file's
 * keys, each command's getopt_long table and its usage are made from this
 * table, so a value means the same wherever it is written.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/ioprio.h"
#include "base/size.h"
#include "base/value.h"
#include "cli/cli.h"
#include "io/probe.h"
#include "io/touch.h"
#include "state/ledger.h"
#include "state/lock.h"
#include "state/runstate.h"

struct setting {
	const char *name; /* the long option, and the configuration key when @conf */
	char short_opt;
	bool conf;	      /* a key of the configuration file */
	const char *conf_key; /* the key, when it is not @name */
	const char *arg;      /* "<n>": takes a value; NULL: a switch */
	const char *on;	      /* a switch's value, as the configuration would write it */
	/* Check @value and set it. Returns 0 or -errno with @why set. NULL: policy.c's. */
	int (*parse)(struct ctl *ctl, const char *name, const char *value, const char **why);
	const char *help; /* "%u" takes the next of @num */
	unsigned int num[2];
};

static int set_pattern(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	if (ARRAY_GROW(ctl->patterns, ctl->npatterns, NULL))
		die_oom();
	/* The configuration's values live until settings_free(); argv's for good. */
	ctl->patterns[ctl->npatterns++] = (char *)value;
	return 0;
}

static int set_mode(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	if (strcmp(value, "whole") && strcmp(value, "used")) {
		*why = "not one of whole, used";
		return -EINVAL;
	}
	ctl->used = !strcmp(value, "used");
	return 0;
}

/* The one boolean parser: yes/no, true/false, 1/0, as hydrate-ebs takes them. */
static int set_flag(bool *flag, const char *value, const char **why)
{
	int b = bool_parse(value);

	if (b < 0) {
		*why = "not yes or no";
		return b;
	}
	*flag = b;
	return 0;
}

static int set_only(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return set_flag(&ctl->only_priority, value, why);
}

static int set_yield(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	int rc = set_flag(&ctl->rs.yield, value, why);

	ctl->rs.yield_given = !rc && ctl->rs.yield;
	return rc;
}

static int set_preload(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return set_flag(&ctl->preload, value, why);
}

static int set_margin(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return size_parse(value, &ctl->preload_margin, why);
}

static int set_config(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	ctl->config = value;
	ctl->config_given = true;
	return 0;
}

static int set_depth(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_queue_depth(value, &ctl->rs.queue_depth, why);
}

static int set_block(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_block_size(value, &ctl->rs.block_size, why);
}

static int set_strides(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_count(value, 1, MAX_STRIDES, &ctl->rs.strides, why);
}

static int set_rate(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_rate(value, &ctl->rs.rate, why);
}

static int set_ioprio(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return ioprio_parse(value, &ctl->rs.ioprio, why);
}

static int set_progress(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_progress(value, &ctl->progress, why);
}

static int set_recorded(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_recorded(value, &ctl->recorded, why);
}

static int set_for(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_duration(value, &ctl->record_ms, why);
}

static int set_unit(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	if (!*value || strchr(value, '/')) {
		*why = "not a unit name";
		return -EINVAL;
	}
	ctl->until_unit = value;
	return 0;
}

static int set_max_files(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_count(value, 1, MAX_MAX_FILES, &ctl->max_files, why);
}

static int set_read_mode(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_read_mode(value, &ctl->rs.read_mode, why);
}

static int set_snapshot_block(struct ctl *ctl, const char *name, const char *value,
			      const char **why)
{
	return opt_snapshot_block(value, &ctl->rs.snapshot_block, why);
}

static int set_samples(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_count(value, 1, PROBE_MAX_SAMPLES, &ctl->samples, why);
}

static int set_seed(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	return opt_count(value, 0, 4294967295U, &ctl->seed, why);
}

/* A switch of the command line only. */
static int set_switch(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	static const struct {
		const char *name;
		size_t offset;
	} switches[] = {
	    {"json", offsetof(struct ctl, json)},
	    {"quiet", offsetof(struct ctl, quiet)},
	    {"verbose", offsetof(struct ctl, verbose)},
	    {"resume", offsetof(struct ctl, resume)},
	    {"wait", offsetof(struct ctl, wait)},
	    {"attach", offsetof(struct ctl, attach)},
	    {"save", offsetof(struct ctl, save)},
	    {"udev", offsetof(struct ctl, udev)},
	    {"granularity", offsetof(struct ctl, granularity)},
	};
	size_t i;

	for (i = 0; i < sizeof(switches) / sizeof(switches[0]); i++)
		if (!strcmp(name, switches[i].name))
			*(bool *)((char *)ctl + switches[i].offset) = true;
	return 0;
}

/* A directory option: refuse an empty value rather than use the current directory. */
static int set_dir(struct ctl *ctl, const char *name, const char *value, const char **why)
{
	if (!*value)
		die_usage(ctl->cmd, "option '--%s' needs a directory", name);
	if (!strcmp(name, "state-dir"))
		ctl->state_dir = value;
	else if (!strcmp(name, "run-dir"))
		ctl->run_dir = value;
	else
		ctl->lock_dir = value;
	return 0;
}

static const struct setting settings[S_COUNT] = {
    [S_PRIORITY] = {"priority", 'p', true, NULL, "<path>", NULL, set_pattern,
		    "read this file, directory or glob first (repeatable)"},
    [S_USED] = {"used", 'u', true, "mode", NULL, "used", set_mode,
		"read only the space the mounted file systems use"},
    [S_ONLY_PRIORITY] = {"only-priority", 0, true, NULL, NULL, "yes", set_only,
			 "read the priority files only"},
    [S_CONFIG] = {"config", 'c', false, NULL, "<file>", NULL, set_config,
		  "configuration file (default " DEFAULT_CONFIG_FILE ")"},
    [S_QUEUE_DEPTH] = {"queue-depth", 'd', true, NULL, "<n>", NULL, set_depth,
		       "reads in flight, or auto: measured (default auto)"},
    [S_BLOCK_SIZE] = {"block-size",
		      'b',
		      true,
		      NULL,
		      "<size>",
		      NULL,
		      set_block,
		      "bytes per read (default %uK)",
		      {DEFAULT_BLOCK_SIZE / 1024}},
    [S_STRIDES] = {"strides",
		   's',
		   true,
		   NULL,
		   "<n>",
		   NULL,
		   set_strides,
		   "parts of a target read side by side (default %u)",
		   {DEFAULT_STRIDES}},
    [S_RATE] = {"rate", 'r', true, NULL, "<size>", NULL, set_rate,
		"at most this many bytes per second (default: no cap)"},
    [S_IOPRIO] = {"ioprio", 0, true, NULL, "<class>", NULL, set_ioprio,
		  "I/O priority of the reads: idle, be[:0-7] or\n"
		  "rt[:0-7] (default " DEFAULT_IOPRIO ")"},
    [S_YIELD] = {"yield", 0, true, NULL, NULL, "yes", set_yield,
		 "make room for others' reads of the device (default)"},
    [S_NO_YIELD] = {"no-yield", 0, false, NULL, NULL, "no", set_yield,
		    "keep the depth whoever else reads the device"},
    [S_PRELOAD] = {"preload", 0, true, NULL, NULL, "yes", set_preload,
		   "once a priority file is warm, read it into the\n"
		   "page cache too (while memory leaves the margin)"},
    [S_PRELOAD_MARGIN] = {"preload-margin", 0, true, NULL, "<size>", NULL, set_margin,
			  "MemAvailable --preload leaves free (default %uM)",
			  {(unsigned int)(DEFAULT_PRELOAD_MARGIN >> 20)}},
    [S_PROGRESS] = {"progress", 0, true, NULL, "<when>", NULL, set_progress,
		    "auto, always or never (default auto)"},
    [S_JSON] = {"json", 0, false, NULL, NULL, "yes", set_switch, "print JSON"},
    [S_QUIET] = {"quiet", 'q', false, NULL, NULL, "yes", set_switch,
		 "no progress and no summary on standard error"},
    [S_VERBOSE] = {"verbose", 'v', false, NULL, NULL, "yes", set_switch,
		   "list every range of every phase"},
    [S_RESUME] = {"resume", 0, false, NULL, NULL, "yes", set_switch,
		  "read only what an earlier run left unread"},
    [S_WAIT] = {"wait", 0, false, NULL, NULL, "yes", set_switch,
		"wait while another run hydrates the same disk"},
    [S_LOCK_DIR] = {"lock-dir", 0, false, NULL, "<dir>", NULL, set_dir,
		    "where disk locks live (default " DEFAULT_LOCK_DIR ")"},
    [S_ATTACH] = {"attach", 0, false, NULL, NULL, "yes", set_switch,
		  "run as blkhydrate@.service: one device, skipped if\n"
		  "the ledger has it; its saved plan first; progress\n"
		  "in the run directory; recorded in the ledger when done"},
    [S_SAVE] = {"save", 0, false, NULL, NULL, "yes", set_switch,
		"store the priority extents of each file system, keyed\n"
		"by its UUID, for hydrate --attach"},
    [S_STATE_DIR] = {"state-dir", 0, false, NULL, "<dir>", NULL, set_dir,
		     "the ledger (default " DEFAULT_STATE_DIR ")"},
    [S_RUN_DIR] = {"run-dir", 0, false, NULL, "<dir>", NULL, set_dir,
		   "progress of running hydrations (default " DEFAULT_RUN_DIR ")"},
    [S_UDEV] = {"udev", 0, false, NULL, NULL, "yes", set_switch,
		"take the disk's properties from the udev event"},
    [S_SAMPLES] = {"samples",
		   'n',
		   false,
		   NULL,
		   "<n>",
		   NULL,
		   set_samples,
		   "reads to time (default %u, 1 to %u)",
		   {PROBE_DEFAULT_SAMPLES, PROBE_MAX_SAMPLES}},
    [S_SEED] = {"seed",
		0,
		false,
		NULL,
		"<n>",
		NULL,
		set_seed,
		"where to read (default %u)",
		{PROBE_DEFAULT_SEED}},
    [S_RECORDED] = {"recorded", 0, true, NULL, "<when>", NULL, set_recorded,
		    "what record saved for the target's file systems:\n"
		    "first, after the priority paths, or off (default first)"},
    [S_FOR] = {"for", 0, false, NULL, "<duration>", NULL, set_for,
	       "record this long (30s, 5m, 1h; default: until\nSIGINT or SIGTERM)"},
    [S_UNTIL_UNIT] = {"until-unit", 0, false, NULL, "<unit>", NULL, set_unit,
		      "record until this systemd unit is active"},
    [S_MAX_FILES] = {"max-files",
		     0,
		     false,
		     NULL,
		     "<n>",
		     NULL,
		     set_max_files,
		     "note at most this many files (default %u)",
		     {DEFAULT_MAX_FILES}},
    [S_GRANULARITY] = {"granularity", 'g', false, NULL, NULL, "yes", set_switch,
		       "measure what a small read of a cold snapshot block\n"
		       "fetches (whole or partial), not the cold share"},
    [S_READ_MODE] = {"read-mode", 0, true, NULL, "<mode>", NULL, set_read_mode,
		     "full, touch (one logical block per snapshot block)\n"
		     "or auto: touch when the probe shows whole-block\n"
		     "fetches (default auto)"},
    [S_SNAPSHOT_BLOCK] = {"snapshot-block",
			  0,
			  true,
			  NULL,
			  "<size>",
			  NULL,
			  set_snapshot_block,
			  "the volume's fetch unit, what a touch stands for\n"
			  "(default %uK)",
			  {TOUCH_DEFAULT_BLOCK / 1024}},
    /* The policy's keys (policy.c reads them): configuration only. */
    [S_HYDRATE_EBS] = {"hydrate-ebs", 0, true},
    [S_HYDRATE_MATCH] = {"hydrate-match", 0, true},
    [S_SKIP_MATCH] = {"skip-match", 0, true},
};

static const char *conf_key(const struct setting *s)
{
	return s->conf_key ? s->conf_key : s->name;
}

bool setting_known(const char *key)
{
	size_t i;

	for (i = 0; i < S_COUNT; i++)
		if (settings[i].conf && !strcmp(key, conf_key(&settings[i])))
			return true;
	return false;
}

/* Help text: "%u" takes the next number, a newline indents under the help column. */
static void print_help(const char *help, const unsigned int *num, unsigned int column)
{
	const char *p;

	for (p = help; *p; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			printf("%u", *num++);
			p++;
		} else if (*p == '\n') {
			printf("\n%*s", (int)column + 2, "");
		} else {
			putchar(*p);
		}
	}
	putchar('\n');
}

static void print_option(const struct setting *s, const char *help, unsigned int column)
{
	int n;

	if (s->short_opt)
		n = printf(" -%c, --%s", s->short_opt, s->name);
	else
		n = printf("     --%s", s->name);
	if (s->arg)
		n += printf(" %s", s->arg);
	printf("%*s", n < (int)column ? (int)column - n : 1, "");
	print_help(help ? help : s->help, s->num, column);
}

void usage_command(const struct cmd_spec *spec)
{
	size_t i;

	printf("Usage:\n blkhydrate %s %s\n\n", spec->name, spec->synopsis);
	spec->describe();
	fputs("\nOptions:\n", stdout);
	for (i = 0; i < spec->noptions; i++)
		print_option(&settings[spec->options[i].id], spec->options[i].help, spec->column);
	printf("\n -h, --help%*sdisplay this help\n", (int)spec->column - 11, "");
	if (spec->footer)
		fputs(spec->footer, stdout);
	exit(EXIT_DONE);
}

/*
 * Apply one setting from the command line (@where NULL) or the configuration
 * file (@where "FILE:LINE"). Both go through the same checks.
 */
static void apply(struct ctl *ctl, const struct setting *s, const char *value, const char *where)
{
	const char *key = where ? conf_key(s) : s->name;
	const char *why = NULL;
	char name[32];
	size_t i;

	if (!s->parse || !s->parse(ctl, s->name, value, &why))
		return;
	/* "queue-depth" names the key in the file, "queue depth" the setting in words. */
	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = key[i] == '-' ? ' ' : key[i];
	name[i] = '\0';
	if (where)
		die(EXIT_USAGE, "%s: invalid %s '%s': %s", where, name, value, why);
	die_usage(ctl->cmd, "invalid %s '%s': %s", name, value, why);
}

/* Where state and configuration live: the environment may move them (tests do). */
static void set_defaults(struct ctl *ctl)
{
	const char *env, *why;

	ctl->rs.queue_depth = QUEUE_DEPTH_AUTO;
	ctl->rs.yield = true;
	ioprio_parse(DEFAULT_IOPRIO, &ctl->rs.ioprio, &why);
	ctl->rs.block_size = DEFAULT_BLOCK_SIZE;
	ctl->rs.strides = DEFAULT_STRIDES;
	ctl->preload_margin = DEFAULT_PRELOAD_MARGIN;
	ctl->rs.read_mode = READ_MODE_AUTO;
	ctl->rs.snapshot_block = TOUCH_DEFAULT_BLOCK;
	ctl->progress = PROGRESS_AUTO;
	ctl->samples = PROBE_DEFAULT_SAMPLES;
	ctl->max_files = DEFAULT_MAX_FILES;
	ctl->seed = PROBE_DEFAULT_SEED;
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
	env = getenv("BLKHYDRATE_LOCK_DIR");
	ctl->lock_dir = env && *env ? env : DEFAULT_LOCK_DIR;
}

#define SETTING_VAL 256 /* getopt's value for a setting without a short option: + id */

/* @spec's getopt_long table and option string, from the settings it takes. */
static struct option *getopt_table(const struct cmd_spec *spec, char *optstr, size_t len)
{
	struct option *lo = calloc(spec->noptions + 2, sizeof(*lo));
	size_t i, k = 0;

	if (!lo || len < 3 * spec->noptions + 3)
		die_oom();
	optstr[k++] = ':';
	for (i = 0; i < spec->noptions; i++) {
		const struct setting *s = &settings[spec->options[i].id];

		lo[i].name = s->name;
		lo[i].has_arg = s->arg ? required_argument : no_argument;
		lo[i].val = s->short_opt ? s->short_opt : SETTING_VAL + (int)spec->options[i].id;
		if (s->short_opt) {
			optstr[k++] = s->short_opt;
			if (s->arg)
				optstr[k++] = ':';
		}
	}
	lo[i] = (struct option){"help", no_argument, NULL, 'h'};
	optstr[k++] = 'h';
	optstr[k] = '\0';
	return lo;
}

static const struct setting *setting_of(const struct cmd_spec *spec, int c)
{
	size_t i;

	for (i = 0; i < spec->noptions; i++) {
		const struct setting *s = &settings[spec->options[i].id];

		if (s->short_opt ? c == s->short_opt : c == SETTING_VAL + (int)spec->options[i].id)
			return s;
	}
	return NULL;
}

void settings_parse(struct ctl *ctl, const struct cmd_spec *spec, int argc, char **argv)
{
	const struct setting *s;
	struct option *longopts;
	char optstr[128];
	int c;

	ctl->cmd = spec->name;
	set_defaults(ctl);
	longopts = getopt_table(spec, optstr, sizeof(optstr));
	while ((c = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		if (c == 'h') {
			free(longopts);
			usage_command(spec);
		}
		if (c == ':')
			die_usage(ctl->cmd, "option '%s' requires an argument", argv[optind - 1]);
		s = setting_of(spec, c);
		if (!s)
			die_usage(ctl->cmd, "unrecognized option '%s'", argv[optind - 1]);
		apply(ctl, s, s->arg ? optarg : s->on, NULL);
		ctl->given |= 1ULL << (s - settings);
	}
	free(longopts);
}

static const struct setting *setting_by_key(const char *key)
{
	size_t i;

	for (i = 0; i < S_COUNT; i++)
		if (settings[i].conf && !strcmp(key, conf_key(&settings[i])))
			return &settings[i];
	return NULL;
}

void settings_load_config(struct ctl *ctl)
{
	struct config_error err;
	char where[4200];
	size_t i;
	int rc;

	rc = config_load(ctl->config, setting_known, &ctl->cfg, &err);
	if (rc == -ENOENT && !ctl->config_given)
		return;
	if (rc == -ENOMEM)
		die_oom();
	if (rc && err.line)
		die(EXIT_USAGE, "%s:%u: %s", ctl->config, err.line, err.reason);
	if (rc)
		die(EXIT_USAGE, "%s: %s", ctl->config, err.reason[0] ? err.reason : strerror(-rc));
	for (i = 0; i < ctl->cfg.n; i++) {
		const struct config_item *it = &ctl->cfg.v[i];
		const struct setting *s = setting_by_key(it->key);

		/* The command line wins; for priority, any -p replaces all of the file's. */
		if (!s || (ctl->given & (1ULL << (s - settings))))
			continue;
		snprintf(where, sizeof(where), "%s:%u", ctl->config, it->line);
		apply(ctl, s, it->value, where);
	}
}

void settings_check_targets(struct ctl *ctl, int ntargets)
{
	const char *why;

	if (ntargets <= 0)
		die_usage(ctl->cmd, "no target given");
	settings_load_config(ctl);
	if (asprintf(&ctl->progress_dir, "%s/progress", ctl->state_dir) < 0)
		die_oom();
	if (ctl->rs.queue_depth && opt_check_memory(ctl->rs.queue_depth, ctl->rs.block_size, &why))
		die_usage(ctl->cmd, "invalid queue depth %u with block size %llu: %s",
			  ctl->rs.queue_depth, (unsigned long long)ctl->rs.block_size, why);
	if (ctl->only_priority && !ctl->npatterns)
		die_usage(ctl->cmd, "--only-priority needs at least one priority path");
	if (ctl->attach && ntargets != 1)
		die_usage(ctl->cmd, "--attach takes exactly one device");
	if (ctl->save && !ctl->npatterns)
		die_usage(ctl->cmd, "--save needs at least one priority path");
	if (ctl->quiet)
		ctl->progress = PROGRESS_NEVER;
	ctl->bar = ctl->progress == PROGRESS_ALWAYS ||
		   (ctl->progress == PROGRESS_AUTO && isatty(STDERR_FILENO));
}

void settings_free(struct ctl *ctl)
{
	free(ctl->progress_dir);
	free(ctl->patterns);
	config_free(&ctl->cfg);
}
