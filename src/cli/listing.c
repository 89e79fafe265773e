/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Formatting for discovery and status. udev's IMPORT{program} reads
 * KEY=VALUE lines; values are reduced to characters that need no quoting,
 * since a label or a serial can hold anything.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli/listing.h"
#include "cli/report.h"
#include "base/size.h"
#include "base/value.h"

static const char *content_name(enum disk_content r)
{
	return r == CONTENT_DATA ? "data" : r == CONTENT_EMPTY ? "empty" : "failed";
}

void listing_disk(FILE *f, const struct disk_info *di, struct decide_out d)
{
	char size[32];
	size_t i;

	fprintf(f, "%s  %s  %s", di->devnode, size_format(di->size, size, sizeof(size)),
		kind_name(di->kind));
	if (di->volume_id[0])
		fprintf(f, "  %s", di->volume_id);
	if (di->ebs_name[0])
		fprintf(f, " (attached as %s)", di->ebs_name);
	else if (di->kind == KIND_EBS && di->ebs_name_error)
		fprintf(f, " (mapping name unknown: %s)", strerror(-di->ebs_name_error));
	fputc('\n', f);
	fprintf(f, "  model: %s, serial: %s, vendor: %s\n", di->model[0] ? di->model : "-",
		di->serial[0] ? di->serial : "-", di->vendor[0] ? di->vendor : "-");
	if (di->contents.found == CONTENT_FAILED)
		fprintf(f, "  content: cannot probe: %s\n", strerror(-di->contents.error));
	else if (di->contents.found == CONTENT_EMPTY)
		fputs("  content: nothing (no partition table, no file system)\n", f);
	else if (di->contents.pttype[0])
		fprintf(f, "  content: %s partition table, UUID %s\n", di->contents.pttype,
			di->contents.ptuuid[0] ? di->contents.ptuuid : "-");
	for (i = 0; i < di->contents.nfs; i++) {
		const struct disk_fs *fs = &di->contents.fs[i];

		fprintf(f, "  %s: %s, UUID %s", fs->partno ? "partition" : "file system", fs->type,
			fs->uuid[0] ? fs->uuid : "-");
		if (fs->partno)
			fprintf(f, ", number %u at %" PRIu64, fs->partno, fs->offset);
		if (fs->label[0])
			fprintf(f, ", label %s", fs->label);
		fputc('\n', f);
	}
	fprintf(f, "  decision: %s: %s\n", decision_name(d.decision), reason_text(d.reason));
}

static void jkey(FILE *f, const char *key, const char *value)
{
	fprintf(f, ", \"%s\": ", key);
	json_string(f, value);
}

void listing_disk_json(FILE *f, const struct disk_info *di, struct decide_out d, bool first)
{
	size_t i;

	fputs(first ? "\n    {" : ",\n    {", f);
	fputs("\"name\": ", f);
	json_string(f, di->name);
	jkey(f, "device", di->devnode);
	fprintf(f, ", \"size\": %" PRIu64, di->size);
	jkey(f, "vendor", di->vendor);
	jkey(f, "model", di->model);
	jkey(f, "serial", di->serial);
	jkey(f, "kind", kind_name(di->kind));
	jkey(f, "volume_id", di->volume_id);
	jkey(f, "ebs_name", di->ebs_name);
	jkey(f, "identity", di->identity);
	jkey(f, "content", content_name(di->contents.found));
	if (di->contents.found == CONTENT_FAILED)
		jkey(f, "probe_error", strerror(-di->contents.error));
	jkey(f, "pttype", di->contents.pttype);
	jkey(f, "ptuuid", di->contents.ptuuid);
	fputs(", \"filesystems\": [", f);
	for (i = 0; i < di->contents.nfs; i++) {
		const struct disk_fs *fs = &di->contents.fs[i];

		fputs(i ? ", {\"type\": " : "{\"type\": ", f);
		json_string(f, fs->type);
		jkey(f, "uuid", fs->uuid);
		jkey(f, "label", fs->label);
		fprintf(f, ", \"partition\": %u, \"offset\": %" PRIu64 ", \"size\": %" PRIu64 "}",
			fs->partno, fs->offset, fs->size);
	}
	fputc(']', f);
	jkey(f, "decision", decision_name(d.decision));
	jkey(f, "reason", reason_name(d.reason));
	jkey(f, "reason_text", reason_text(d.reason));
	fputc('}', f);
}

static void udev_value(FILE *f, const char *key, const char *value)
{
	const unsigned char *p;

	if (!value[0])
		return;
	fprintf(f, "BLKHYDRATE_%s=", key);
	for (p = (const unsigned char *)value; *p; p++)
		fputc(isalnum(*p) || strchr("-_.:/@+", *p) ? *p : '_', f);
	fputc('\n', f);
}

void listing_disk_udev(FILE *f, const struct disk_info *di, struct decide_out d)
{
	udev_value(f, "DECISION", decision_name(d.decision));
	udev_value(f, "REASON", reason_name(d.reason));
	udev_value(f, "KIND", kind_name(di->kind));
	udev_value(f, "VOLUME_ID", di->volume_id);
	udev_value(f, "EBS_NAME", di->ebs_name);
	udev_value(f, "IDENTITY", di->identity);
	udev_value(f, "CONTENT", content_name(di->contents.found));
}

void listing_running(FILE *f, const struct run_state *st, bool alive)
{
	char done[32], planned[32];

	fprintf(f, "  %s  %s  %s of %s (%.1f%%), priority %s, %.1f MiB/s, depth %u, latency %.1f ms, %u unreadable, pid %ld%s\n",
		st->device, st->volume[0] ? st->volume : "-",
		size_format(st->done, done, sizeof(done)),
		size_format(st->planned, planned, sizeof(planned)),
		percent(st->done, st->planned), st->priority_done ? "done" : "pending",
		(double)st->rate / 1048576.0, st->depth, (double)st->latency_us / 1000.0,
		st->errors, (long)st->pid, alive ? "" : " (not running: stopped or crashed)");
}

void listing_running_json(FILE *f, const struct run_state *st, bool alive, bool first)
{
	fputs(first ? "\n    {\"device\": " : ",\n    {\"device\": ", f);
	json_string(f, st->device);
	jkey(f, "volume", st->volume);
	fprintf(f,
		", \"pid\": %ld, \"running\": %s, \"started\": %" PRId64 ", \"planned\": %" PRIu64
		", \"done\": %" PRIu64 ", \"percent\": %.1f, \"priority_done\": %s"
		", \"queue_depth\": %u, \"throughput_mib_s\": %.1f, \"latency_ms\": %.2f"
		", \"errors\": %u}",
		(long)st->pid, alive ? "true" : "false", st->started, st->planned, st->done,
		percent(st->done, st->planned), st->priority_done ? "true" : "false", st->depth,
		(double)st->rate / 1048576.0, (double)st->latency_us / 1000.0, st->errors);
}

void listing_finished(FILE *f, const struct ledger_entry *e)
{
	char when[64], size[32], bytes[32];
	time_t t = (time_t)e->finished;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "%" PRId64, e->finished);
	fprintf(f, "  %s  %s  finished %s, read %s in %.1f s%s%s\n", e->volume,
		size_format(e->size, size, sizeof(size)), when,
		size_format(e->bytes, bytes, sizeof(bytes)), (double)e->ms / 1000.0,
		e->device[0] ? ", as " : "", e->device);
}

void listing_finished_json(FILE *f, const struct ledger_entry *e, bool first)
{
	fputs(first ? "\n    {\"volume\": " : ",\n    {\"volume\": ", f);
	json_string(f, e->volume);
	fprintf(f, ", \"size\": %" PRIu64, e->size);
	jkey(f, "device", e->device);
	fprintf(f, ", \"finished\": %" PRId64 ", \"bytes\": %" PRIu64 ", \"ms\": %" PRIu64 "}",
		e->finished, e->bytes, e->ms);
}
