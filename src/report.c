/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress and summaries. Figures come from the jobs as the engine leaves
 * them; nothing here reads a device.
 */
#include "config.h"

#include <string.h>

#include "report.h"
#include "size.h"

#define BAR_WIDTH 30
#define MIB (1024.0 * 1024.0)

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static double mib_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / MIB / secs(ns) : 0.0;
}

static void format_eta(char *buf, size_t len, double s)
{
	unsigned long t = (unsigned long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, len, "%lu:%02lu", t / 60, t % 60);
}

void report_progress(FILE *f, const struct job *jobs, size_t njobs, uint64_t elapsed_ns,
		     bool bar)
{
	uint64_t planned = 0, done = 0, failed = 0;
	unsigned int errors = 0;
	char sdone[32], splanned[32], eta[32] = "--:--";
	double frac, rate;
	size_t i;

	for (i = 0; i < njobs; i++) {
		planned += jobs[i].planned;
		done += jobs[i].done;
		failed += jobs[i].failed;
		errors += jobs[i].errors;
	}
	frac = planned ? (double)(done + failed) / (double)planned : 1.0;
	rate = mib_s(done, elapsed_ns);
	if (rate > 0 && planned > done + failed)
		format_eta(eta, sizeof(eta), (double)(planned - done - failed) / MIB / rate);
	size_format(done, sdone, sizeof(sdone));
	size_format(planned, splanned, sizeof(splanned));

	if (bar) {
		char b[BAR_WIDTH + 1];
		int fill = (int)(frac * BAR_WIDTH);

		memset(b, '#', BAR_WIDTH);
		memset(b + fill, '-', BAR_WIDTH - fill);
		b[BAR_WIDTH] = '\0';
		fprintf(f, "\r\033[K[%s] %5.1f%%  %s of %s  %.1f MiB/s  ETA %s", b,
			frac * 100.0, sdone, splanned, rate, eta);
		if (errors)
			fprintf(f, "  %u errors", errors);
	} else {
		fprintf(f, "blkhydrate: %s%s%.1f%% done, %s of %s, %.1f MiB/s, ETA %s",
			njobs == 1 ? jobs[0].target->path : "", njobs == 1 ? ": " : "",
			frac * 100.0, sdone, splanned, rate, eta);
		if (errors)
			fprintf(f, ", %u read errors", errors);
		fputc('\n', f);
	}
	fflush(f);
}

void report_progress_end(FILE *f)
{
	fputs("\r\033[K", f);
	fflush(f);
}

void report_summary(FILE *f, const struct job *j)
{
	char sdone[32], sfailed[32];

	size_format(j->done, sdone, sizeof(sdone));
	fprintf(f, "blkhydrate: %s: read %s in %.2f s (%.1f MiB/s)", j->target->path, sdone,
		secs(j->end_ns), mib_s(j->done, j->end_ns));
	if (j->errors) {
		size_format(j->failed, sfailed, sizeof(sfailed));
		fprintf(f, ", %u read errors, %s unreadable, first at offset %llu: %s",
			j->errors, sfailed, (unsigned long long)j->first_error_off,
			strerror(-j->first_error));
	}
	if (j->vanished)
		fputs(", the device went away", f);
	fputs(j->complete ? ", complete\n" : ", not complete\n", f);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_job(FILE *f, const struct job *j)
{
	size_t i;

	fputs("{\"target\":", f);
	json_string(f, j->target->path);
	fprintf(f, ",\"size\":%llu,\"planned\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
		"\"throughput_mib_s\":%.1f,\"errors\":%u,\"failed_bytes\":%llu,"
		"\"direct\":%s,\"vanished\":%s,\"complete\":%s,\"bad_ranges\":[",
		(unsigned long long)j->target->size, (unsigned long long)j->planned,
		(unsigned long long)j->done, secs(j->end_ns), mib_s(j->done, j->end_ns),
		j->errors, (unsigned long long)j->failed, j->target->direct ? "true" : "false",
		j->vanished ? "true" : "false", j->complete ? "true" : "false");
	for (i = 0; i < j->bad.n; i++)
		fprintf(f, "%s{\"offset\":%llu,\"length\":%llu}", i ? "," : "",
			(unsigned long long)j->bad.v[i].off, (unsigned long long)j->bad.v[i].len);
	fputs("]}", f);
}

void report_json(FILE *f, const struct job *jobs, size_t njobs,
		 const struct engine_info *info, const struct run_settings *rs,
		 int exit_status)
{
	uint64_t done = 0;
	unsigned int errors = 0;
	bool complete = true;
	size_t i;

	for (i = 0; i < njobs; i++) {
		done += jobs[i].done;
		errors += jobs[i].errors;
		complete = complete && jobs[i].complete;
	}
	fputs("{", f);
	if (njobs == 1) {
		fputs("\"target\":", f);
		json_string(f, jobs[0].target->path);
		fputc(',', f);
	}
	fprintf(f, "\"version\":\"%s\",\"bytes\":%llu,\"seconds\":%.3f,\"throughput_mib_s\":%.1f,"
		"\"errors\":%u,\"complete\":%s,\"interrupted\":%s,\"exit_status\":%d,"
		"\"queue_depth\":%u,\"block_size\":%llu,\"strides\":%u,\"rate\":%llu,"
		"\"registered_buffers\":%s,\"targets\":[",
		PACKAGE_VERSION, (unsigned long long)done, secs(info->elapsed_ns),
		mib_s(done, info->elapsed_ns), errors, complete ? "true" : "false",
		info->interrupted ? "true" : "false", exit_status, rs->queue_depth,
		(unsigned long long)rs->block_size, rs->strides, (unsigned long long)rs->rate,
		info->fixed_buffers ? "true" : "false");
	for (i = 0; i < njobs; i++) {
		if (i)
			fputc(',', f);
		json_job(f, &jobs[i]);
	}
	fputs("]}\n", f);
	fflush(f);
}
