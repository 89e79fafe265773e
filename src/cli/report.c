/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress and summaries. Figures come from the jobs as the engine leaves
 * them; nothing here reads a device.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "base/ioprio.h"
#include "cli/report.h"
#include "base/size.h"
#include "base/value.h"

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

/* ", depth 40 (auto), 212.0 MiB/s now, 9.8 ms a read", and what holds it back. */
static void progress_pace(FILE *f, const struct pace *pace)
{
	if (!pace)
		return;
	if (!pace->auto_depth)
		fprintf(f, ", depth %u", pace->depth);
	else if (autodepth_chosen(&pace->ad) != pace->depth)
		fprintf(f, ", depth %u (auto, trying %u)", autodepth_chosen(&pace->ad), pace->depth);
	else
		fprintf(f, ", depth %u (auto)", pace->depth);
	if (pace->lat_ns > 0)
		fprintf(f, ", %.1f MiB/s now, %.1f ms a read", pace->rate / MIB, pace->lat_ns / 1e6);
	if (pace->yielding)
		fputs(", yielding to other I/O", f);
	if (pace->limited)
		fputs(", EBS volume at its limit", f);
}

void report_progress(FILE *f, const struct job *jobs, size_t njobs, uint64_t elapsed_ns,
		     bool bar, const struct pace *pace)
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
		progress_pace(f, pace);
	} else {
		fprintf(f, "blkhydrate: %s%s%.1f%% done, %s of %s, %.1f MiB/s, ETA %s",
			njobs == 1 ? jobs[0].target->path : "", njobs == 1 ? ": " : "",
			frac * 100.0, sdone, splanned, rate, eta);
		if (errors)
			fprintf(f, ", %u read errors", errors);
		progress_pace(f, pace);
		fputc('\n', f);
	}
	fflush(f);
}

void report_progress_end(FILE *f)
{
	fputs("\r\033[K", f);
	fflush(f);
}

static uint64_t priority_bytes(const struct plan *plan, size_t t)
{
	uint64_t sum = 0;
	size_t ph;

	for (ph = 0; ph < plan->per[t].npriority; ph++)
		sum += plan_phase_bytes(plan, t, ph);
	return sum;
}

/* When the last priority class of target @t was read, or 0 when not (yet). */
static uint64_t priority_ns(const struct plan *plan, size_t t, const struct job *j)
{
	size_t npri = plan->per[t].npriority;

	return npri && j->phase_ns ? j->phase_ns[npri - 1] : 0;
}

void report_priority_done(FILE *f, const struct plan *plan, size_t t, const struct job *j)
{
	char sbytes[32];
	uint64_t ns = priority_ns(plan, t, j);

	size_format(priority_bytes(plan, t), sbytes, sizeof(sbytes));
	fprintf(f, "blkhydrate: %s: priority files read: %s in %.2f s\n", j->target->path,
		sbytes, secs(ns));
	fflush(f);
}

void report_summary(FILE *f, const struct plan *plan, size_t t, const struct job *j)
{
	char sdone[32], sfailed[32], spri[32], sguest[32];

	size_format(j->done, sdone, sizeof(sdone));
	fprintf(f, "blkhydrate: %s: read %s in %.2f s (%.1f MiB/s)", j->target->path, sdone,
		secs(j->end_ns), mib_s(j->done, j->end_ns));
	if (plan->per[t].npriority && priority_ns(plan, t, j)) {
		size_format(priority_bytes(plan, t), spri, sizeof(spri));
		fprintf(f, ", priority %s in %.2f s", spri, secs(priority_ns(plan, t, j)));
	}
	if (plan->per[t].used)
		fputs(", used space only", f);
	if (j->touch.switched)
		fputs(", touched, then read in full (samples were cold)", f);
	else if (j->touch.active)
		fprintf(f, ", by touch: %llu snapshot blocks, %s read",
			(unsigned long long)j->touch.touched,
			size_format(j->guest, sguest, sizeof(sguest)));
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

void report_bad_ranges(FILE *f, const struct job *j, size_t max)
{
	size_t i;

	for (i = 0; i < j->bad.n && i < max; i++)
		fprintf(f, "blkhydrate: %s: unreadable: offset %llu, %llu bytes: %s\n",
			j->target->path, (unsigned long long)j->bad.v[i].off,
			(unsigned long long)j->bad.v[i].len, strerror(-j->bad.v[i].err));
	if (j->bad.n > max)
		fprintf(f, "blkhydrate: %s: and %zu more unreadable ranges (see --json)\n",
			j->target->path, j->bad.n - max);
}

void json_string(FILE *f, const char *s)
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

static void json_priority(FILE *f, const struct plan *plan, size_t t, const struct job *j)
{
	uint64_t ns = priority_ns(plan, t, j);

	fprintf(f, "\"priority_bytes\":%llu,\"priority_seconds\":",
		(unsigned long long)priority_bytes(plan, t));
	if (ns)
		fprintf(f, "%.3f", secs(ns));
	else
		fputs("null", f);
}

/* How one target was read: its read mode, what the probe said, the guest's bytes. */
static void json_read_mode(FILE *f, const struct job *j, const struct read_choice *rc)
{
	fprintf(f, ",\"read_mode\":\"%s\",\"granularity\":", j->touch.active ? "touch" : "full");
	if (rc->probed)
		fprintf(f, "\"%s\"", granularity_name(rc->verdict));
	else
		fputs("null", f);
	fprintf(f,
		",\"guest_bytes\":%llu,\"probe_bytes\":%llu,\"probe_places\":%u,\"touched\":%llu,"
		"\"touch_samples\":%u,\"touch_cold_samples\":%u,\"touch_switched\":%s",
		(unsigned long long)(j->guest + rc->probe_bytes),
		(unsigned long long)rc->probe_bytes, rc->probe_places,
		(unsigned long long)j->touch.touched,
		j->touch.samples, j->touch.cold_samples, j->touch.switched ? "true" : "false");
}

static void json_job(FILE *f, const struct plan *plan, size_t t, const struct job *j,
		     const struct read_choice *rc)
{
	size_t i;

	fputs("{\"target\":", f);
	json_string(f, j->target->path);
	fputc(',', f);
	json_priority(f, plan, t, j);
	json_read_mode(f, j, rc);
	fprintf(f, ",\"mode\":\"%s\"", plan->per[t].used ? "used" : "whole");
	fprintf(f, ",\"size\":%llu,\"planned\":%llu,\"bytes\":%llu,\"seconds\":%.3f,"
		"\"throughput_mib_s\":%.1f,\"errors\":%u,\"failed_bytes\":%llu,"
		"\"direct\":%s,\"vanished\":%s,\"complete\":%s,\"bad_ranges\":[",
		(unsigned long long)j->target->size, (unsigned long long)j->planned,
		(unsigned long long)j->done, secs(j->end_ns), mib_s(j->done, j->end_ns),
		j->errors, (unsigned long long)j->failed, j->target->direct ? "true" : "false",
		j->vanished ? "true" : "false", j->complete ? "true" : "false");
	for (i = 0; i < j->bad.n; i++) {
		fprintf(f, "%s{\"offset\":%llu,\"length\":%llu,\"errno\":%d,\"error\":",
			i ? "," : "", (unsigned long long)j->bad.v[i].off,
			(unsigned long long)j->bad.v[i].len, -j->bad.v[i].err);
		json_string(f, strerror(-j->bad.v[i].err));
		fputc('}', f);
	}
	fprintf(f, "],\"retries\":%llu}", (unsigned long long)j->faults.retries);
}

/* The pace of the run: depth chosen, latency, yielding, EBS limits. */
static void json_pace(FILE *f, const struct run_settings *rs, const struct pace *pace)
{
	char prio[16];
	size_t i;

	fprintf(f, ",\"queue_depth_auto\":%s,\"queue_depth_max\":%u,\"depth_changes\":%u,"
		"\"latency_ms\":%.3f,\"last_throughput_mib_s\":%.1f,\"ioprio\":\"%s\",",
		pace->auto_depth ? "true" : "false", pace->max_depth,
		pace->auto_depth ? pace->ad.changes : 0,
		pace->reads ? (double)pace->lat_sum / (double)pace->reads / 1e6 : 0.0,
		pace->rate / MIB, ioprio_name(rs->ioprio, prio, sizeof(prio)));
	if (pace->auto_depth) {
		const struct autodepth *ad = &pace->ad;

		fprintf(f, "\"auto_depth\":{\"held\":%u,\"why\":\"%s\",\"served\":%u,"
			"\"unloaded_latency_ms\":%.3f,\"held_latency_ms\":%.3f,\"knee_s\":",
			autodepth_chosen(ad), autodepth_why_name(ad->why), autodepth_served(ad),
			ad->lat_floor / 1e6, ad->lat_hold / 1e6);
		if (ad->knee_ns)
			fprintf(f, "%.3f},", ad->knee_ns / 1e9);
		else
			fputs("null},", f);
	} else {
		fputs("\"auto_depth\":null,", f);
	}
	fputs("\"yield\":", f);
	if (pace->yield) {
		unsigned int events = 0;
		uint64_t ns = 0, others = 0;

		for (i = 0; i < pace->ntargets; i++) {
			events += pace->yields[i].events;
			ns += pace->yields[i].yielded_ns;
			others += pace->yields[i].others;
		}
		fprintf(f, "{\"watched\":%zu,\"events\":%u,\"seconds\":%.3f,\"others_bytes\":%llu}",
			pace_watched(pace), events, secs(ns), (unsigned long long)others);
	} else {
		fputs("null", f);
	}
	fputs(",\"ebs\":", f);
	if (pace->nebs)
		fprintf(f, "{\"volumes\":%u,\"exceeded_us\":%llu,\"limited\":%s}", pace->nebs,
			(unsigned long long)pace_ebs_exceeded_us(pace),
			pace->limited ? "true" : "false");
	else
		fputs("null", f);
}

void report_pace(FILE *f, const struct pace *pace)
{
	const struct autodepth *ad = &pace->ad;
	uint64_t ns = 0;
	size_t i;

	if (pace->auto_depth && ad->lat_floor > 0)
		fprintf(f,
			"blkhydrate: auto depth held %u (%s): reads took %.1f ms unloaded, "
			"%.1f ms at that depth; the volume serves about %u at once\n",
			autodepth_chosen(ad), autodepth_why_name(ad->why), ad->lat_floor / 1e6,
			ad->lat_hold / 1e6, autodepth_served(ad));
	for (i = 0; pace->yield && i < pace->ntargets; i++)
		ns += pace->yields[i].yielded_ns;
	if (ns)
		fprintf(f, "blkhydrate: made room for other readers for %.2f s\n", secs(ns));
}

void report_json(FILE *f, const struct job *jobs, size_t njobs, const struct plan *plan,
		 const struct engine_info *info, const struct run_settings *rs,
		 const struct pace *pace, const struct read_choice *rc, int exit_status,
		 void (*more)(FILE *f, void *arg), void *more_arg)
{
	uint64_t done = 0, pbytes = 0, pns = 0, guest = 0, touched = 0;
	unsigned int errors = 0;
	bool complete = true, switched = false;
	size_t i;

	for (i = 0; i < njobs; i++) {
		done += jobs[i].done;
		guest += jobs[i].guest + rc[i].probe_bytes;
		touched += jobs[i].touch.touched;
		switched = switched || jobs[i].touch.switched;
		errors += jobs[i].errors;
		complete = complete && jobs[i].complete;
		pbytes += priority_bytes(plan, i);
		if (priority_ns(plan, i, &jobs[i]) > pns)
			pns = priority_ns(plan, i, &jobs[i]);
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
		"\"registered_buffers\":%s,\"unmapped\":%u,\"priority_bytes\":%llu,"
		"\"priority_seconds\":",
		PACKAGE_VERSION, (unsigned long long)done, secs(info->elapsed_ns),
		mib_s(done, info->elapsed_ns), errors, complete ? "true" : "false",
		info->interrupted ? "true" : "false", exit_status,
		!pace ? rs->queue_depth :
		pace->auto_depth ? autodepth_chosen(&pace->ad) : pace->depth,
		(unsigned long long)rs->block_size, rs->strides, (unsigned long long)rs->rate,
		info->fixed_buffers ? "true" : "false", plan->unmapped,
		(unsigned long long)pbytes);
	if (pns)
		fprintf(f, "%.3f", secs(pns));
	else
		fputs("null", f);
	if (pace)
		json_pace(f, rs, pace);
	fprintf(f,
		",\"read_mode\":\"%s\",\"snapshot_block\":%llu,\"guest_bytes\":%llu,"
		"\"touched\":%llu,\"touch_switched\":%s",
		read_mode_name(rs->read_mode), (unsigned long long)rs->snapshot_block,
		(unsigned long long)guest, (unsigned long long)touched,
		switched ? "true" : "false");
	if (more)
		more(f, more_arg);
	fputs(",\"targets\":[", f);
	for (i = 0; i < njobs; i++) {
		if (i)
			fputc(',', f);
		json_job(f, plan, i, &jobs[i], &rc[i]);
	}
	fputs("]}\n", f);
	fflush(f);
}

static void plan_ranges(FILE *f, const struct rangelist *rl)
{
	size_t i;

	for (i = 0; i < rl->n; i++)
		fprintf(f, "      %14llu +%llu\n", (unsigned long long)rl->v[i].off,
			(unsigned long long)rl->v[i].len);
}

/* A priority phase's ranges in the order they are read, each with its file and place in it. */
static void order_ranges(FILE *f, const struct plan *plan, size_t c, const struct order *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		fprintf(f, "      %14llu +%llu", (unsigned long long)o->v[i].off,
			(unsigned long long)o->v[i].len);
		if (o->v[i].file_off != ORDER_NO_FILE_OFF)
			fprintf(f, "  %s at %llu\n", plan->classes[c].files[o->v[i].file].path,
				(unsigned long long)o->v[i].file_off);
		else
			fprintf(f, "  %s\n", plan->classes[c].files[o->v[i].file].path);
	}
}

/* "order": the phase's files in the order read, each with its ranges [off, len, file offset]. */
static void json_order(FILE *f, const struct plan *plan, size_t c, const struct order *o)
{
	size_t i;

	fputs(",\"order\":[", f);
	for (i = 0; i < o->n; i++) {
		bool first = !i || o->v[i].file != o->v[i - 1].file;

		if (first) {
			fputs(i ? "]},{\"path\":" : "{\"path\":", f);
			json_string(f, plan->classes[c].files[o->v[i].file].path);
			fputs(",\"ranges\":[", f);
		}
		fprintf(f, "%s[%llu,%llu,", first ? "" : ",", (unsigned long long)o->v[i].off,
			(unsigned long long)o->v[i].len);
		if (o->v[i].file_off == ORDER_NO_FILE_OFF)
			fputs("null]", f);
		else
			fprintf(f, "%llu]", (unsigned long long)o->v[i].file_off);
	}
	fputs(o->n ? "]}]" : "]", f);
}

/* One file of a priority class: its bytes, extents and what is special about them. */
static void plan_file_line(FILE *f, const struct plan_class *cl, const struct plan_file *pf,
			   unsigned int nth)
{
	char s2[32];

	size_format(rangelist_bytes(&pf->ranges), s2, sizeof(s2));
	if (cl->recorded && !pf->fx.extents)
		fprintf(f, "     %2u. %s: %s in %zu range%s as recorded", nth, pf->path, s2,
			pf->ranges.n, pf->ranges.n == 1 ? "" : "s");
	else
		fprintf(f, "     %2u. %s: %s in %u extent%s", nth, pf->path, s2, pf->fx.extents,
			pf->fx.extents == 1 ? "" : "s");
	if (pf->fx.unwritten)
		fprintf(f, ", %u unwritten (not read)", pf->fx.unwritten);
	if (pf->fx.encoded)
		fprintf(f, ", %u encoded (on-disk range read)", pf->fx.encoded);
	if (pf->fx.shared)
		fprintf(f, ", %u shared", pf->fx.shared);
	if (pf->fx.inline_data)
		fprintf(f, ", %u inline or unplaced (read through the file)", pf->fx.inline_data);
	fputc('\n', f);
}

/* A priority class's first line. */
static void plan_class_line(FILE *f, size_t c, const struct plan_class *cl, unsigned int nf,
			    uint64_t bytes, uint64_t size)
{
	char s1[32];

	size_format(bytes, s1, sizeof(s1));
	if (cl->recorded)
		fprintf(f,
			"%3zu. recorded: %u file%s, %s (%.1f%% of the device), in the order first "
			"opened",
			c + 1, nf, nf == 1 ? "" : "s", s1, percent(bytes, size));
	else
		fprintf(f, "%3zu. priority %s: %u file%s, %s (%.1f%% of the device)", c + 1,
			cl->pattern, nf, nf == 1 ? "" : "s", s1, percent(bytes, size));
}

void report_plan(FILE *f, const struct plan *plan, const struct run_settings *rs, bool verbose)
{
	char s1[32], s2[32];
	size_t t, c, i;

	for (t = 0; t < plan->ntargets; t++) {
		const struct target *tg = &plan->targets[t];
		const struct plan_target *pt = &plan->per[t];
		uint64_t total = 0;

		size_format(tg->size, s1, sizeof(s1));
		size_format(rs->block_size, s2, sizeof(s2));
		if (rs->queue_depth)
			fprintf(f, "Plan for %s (%s), %u reads of %s in flight over %u strides\n",
				tg->path, s1, rs->queue_depth, s2, rs->strides);
		else
			fprintf(f, "Plan for %s (%s), up to %u reads of %s in flight (auto) over %u strides\n",
				tg->path, s1, pace_auto_max(rs->block_size), s2, rs->strides);
		for (c = 0; c < pt->nphases; c++) {
			uint64_t bytes = plan_phase_bytes(plan, t, c);

			total += bytes;
			size_format(bytes, s1, sizeof(s1));
			if (c < pt->npriority) {
				const struct plan_class *cl = &plan->classes[c];
				unsigned int nf = 0, nth = 0;

				for (i = 0; i < cl->nfiles; i++)
					nf += !cl->files[i].error && cl->files[i].target == t;
				plan_class_line(f, c, cl, nf, bytes, tg->size);
				if (cl->error)
					fprintf(f, ": %s", cl->error == -ENOENT ? "matches no file" :
							   strerror(-cl->error));
				fputc('\n', f);
				if (nf && cl->recorded)
					fputs("       read in this order, as recorded:\n", f);
				else if (nf)
					fputs("       read in this order, each file from its start:\n", f);
				for (i = 0; i < cl->nfiles; i++) {
					const struct plan_file *pf = &cl->files[i];

					if (pf->error && t == 0) {
						fprintf(f, "       %s: refused: %s\n", pf->path, pf->why);
						continue;
					}
					if (pf->error || pf->target != t)
						continue;
					plan_file_line(f, cl, pf, ++nth);
				}
			} else {
				fprintf(f, "%3zu. rest: %s less what is read above: %s (%.1f%%)\n", c + 1,
					pt->used ? "the used space" : "the whole device", s1,
					percent(bytes, tg->size));
			}
			if (verbose && c < pt->npriority)
				order_ranges(f, plan, c, &pt->orders[c]);
			else if (verbose)
				plan_ranges(f, &pt->phases[c]);
		}
		size_format(total, s1, sizeof(s1));
		fprintf(f, "Total: %s in %zu phases (%.1f%% of the device)\n", s1, pt->nphases,
			percent(total, tg->size));
	}
}

static void json_ranges(FILE *f, const struct rangelist *rl)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < rl->n; i++)
		fprintf(f, "%s[%llu,%llu]", i ? "," : "", (unsigned long long)rl->v[i].off,
			(unsigned long long)rl->v[i].len);
	fputc(']', f);
}

static void json_plan_file(FILE *f, const struct plan *plan, const struct plan_file *pf)
{
	fputs("{\"path\":", f);
	json_string(f, pf->path);
	if (pf->error) {
		fputs(",\"error\":", f);
		json_string(f, pf->why ? pf->why : strerror(-pf->error));
		fputc('}', f);
		return;
	}
	fputs(",\"target\":", f);
	json_string(f, plan->targets[pf->target].path);
	fprintf(f, ",\"size\":%llu,\"bytes\":%llu,\"extents\":%u,\"unwritten\":%u,"
		"\"encoded\":%u,\"shared\":%u,\"through_file\":%u,\"ranges\":",
		(unsigned long long)pf->fx.size, (unsigned long long)rangelist_bytes(&pf->ranges),
		pf->fx.extents, pf->fx.unwritten, pf->fx.encoded, pf->fx.shared,
		pf->fx.inline_data);
	json_ranges(f, &pf->ranges);
	fputc('}', f);
}

void report_plan_json(FILE *f, const struct plan *plan, const struct run_settings *rs)
{
	size_t t, c, i;

	fprintf(f, "{\"version\":\"%s\",\"queue_depth\":%u,\"queue_depth_auto\":%s,"
		"\"block_size\":%llu,\"strides\":%u,\"unmapped\":%u,\"classes\":[",
		PACKAGE_VERSION, rs->queue_depth ? rs->queue_depth : pace_auto_max(rs->block_size),
		rs->queue_depth ? "false" : "true", (unsigned long long)rs->block_size, rs->strides,
		plan->unmapped);
	for (c = 0; c < plan->nclasses; c++) {
		const struct plan_class *cl = &plan->classes[c];

		fputs(c ? ",{\"pattern\":" : "{\"pattern\":", f);
		json_string(f, cl->pattern);
		fprintf(f, ",\"recorded\":%s,\"error\":", cl->recorded ? "true" : "false");
		if (cl->error)
			json_string(f, cl->error == -ENOENT ? "matches no file" : strerror(-cl->error));
		else
			fputs("null", f);
		fputs(",\"files\":[", f);
		for (i = 0; i < cl->nfiles; i++) {
			if (i)
				fputc(',', f);
			json_plan_file(f, plan, &cl->files[i]);
		}
		fputs("]}", f);
	}
	fputs("],\"targets\":[", f);
	for (t = 0; t < plan->ntargets; t++) {
		const struct plan_target *pt = &plan->per[t];
		uint64_t total = 0;

		fputs(t ? ",{\"target\":" : "{\"target\":", f);
		json_string(f, plan->targets[t].path);
		fprintf(f, ",\"size\":%llu,\"mode\":\"%s\",\"phases\":[",
			(unsigned long long)plan->targets[t].size, pt->used ? "used" : "whole");
		for (c = 0; c < pt->nphases; c++) {
			uint64_t bytes = plan_phase_bytes(plan, t, c);

			total += bytes;
			fprintf(f, "%s{\"kind\":\"%s\",", c ? "," : "",
				c < pt->npriority ? "priority" : "rest");
			if (c < pt->npriority) {
				fputs("\"pattern\":", f);
				json_string(f, plan->classes[c].pattern);
				fprintf(f, ",\"recorded\":%s,",
					plan->classes[c].recorded ? "true" : "false");
			}
			fprintf(f, "\"bytes\":%llu,\"share\":%.4f,\"ranges\":",
				(unsigned long long)bytes,
				percent(bytes, plan->targets[t].size) / 100.0);
			json_ranges(f, &pt->phases[c]);
			if (c < pt->npriority)
				json_order(f, plan, c, &pt->orders[c]);
			fputc('}', f);
		}
		fprintf(f, "],\"bytes\":%llu}", (unsigned long long)total);
	}
	fputs("],\"notes\":[", f);
	for (i = 0; i < plan->nnotes; i++) {
		if (i)
			fputc(',', f);
		json_string(f, plan->notes[i]);
	}
	fputs("]}\n", f);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void probe_bin_label(char *buf, size_t len, unsigned int i)
{
	uint64_t up = probe_bin_upper_us(i);

	if (!up)
		snprintf(buf, len, ">= %.3g ms", (double)probe_bin_upper_us(i - 1) / 1000.0);
	else if (up < 1000)
		snprintf(buf, len, "< %llu us", (unsigned long long)up);
	else
		snprintf(buf, len, "< %.3g ms", (double)up / 1000.0);
}

void report_probe(FILE *f, const struct target *t, uint64_t seed, const struct probe_result *r)
{
	unsigned int i, first = PROBE_HIST_BINS, last = 0, peak = 0;
	char s1[32], s2[32], s3[32], label[32];

	size_format(t->size, s1, sizeof(s1));
	size_format(r->read_size, s2, sizeof(s2));
	size_format(r->bytes_read, s3, sizeof(s3));
	fprintf(f, "Probe of %s (%s): %u reads of %s at places drawn from seed %llu\n", t->path, s1,
		r->samples, s2, (unsigned long long)seed);
	fprintf(f, "Warm latency %.3f ms (median of %u re-reads, slowest %.3f ms); "
		"slower than %.3f ms counts as cold\n",
		ms(r->warm_ns), r->rereads, ms(r->warm_max_ns), ms(r->threshold_ns));
	fprintf(f, "Cold: %u of %u, %.1f%% (95%% interval %.1f%% to %.1f%%)\n", r->cold, r->samples,
		100.0 * r->share, 100.0 * r->low, 100.0 * r->high);
	for (i = 0; i < PROBE_HIST_BINS; i++) {
		if (!r->hist[i])
			continue;
		first = first < i ? first : i;
		last = i;
		peak = r->hist[i] > peak ? r->hist[i] : peak;
	}
	if (first < PROBE_HIST_BINS)
		fputs("Latency histogram:\n", f);
	for (i = first; i < PROBE_HIST_BINS && i <= last; i++) {
		int w = (int)(40.0 * r->hist[i] / peak + 0.5);

		probe_bin_label(label, sizeof(label), i);
		fprintf(f, "  %12s %6u %-40.*s%s\n", label, r->hist[i], w,
			"########################################",
			r->hist_cold[i] ? (r->hist_cold[i] == r->hist[i] ? " cold" : " some cold") : "");
	}
	if (r->errors)
		fprintf(f, "%u reads failed, the first: %s\n", r->errors, strerror(-r->first_error));
	fprintf(f, "Read %s in all. Probing warmed what it read: the snapshot blocks holding "
		"those places are no longer cold.\n", s3);
}

void report_probe_json(FILE *f, const struct target *t, uint64_t seed,
		       const struct probe_result *r)
{
	unsigned int i;

	fputs("{\"target\":", f);
	json_string(f, t->path);
	fprintf(f, ",\"version\":\"%s\",\"size\":%llu,\"seed\":%llu,\"samples\":%u,"
		"\"read_size\":%llu,\"bytes_read\":%llu,\"errors\":%u,\"rereads\":%u,"
		"\"warm_latency_ms\":%.3f,\"warm_max_ms\":%.3f,\"threshold_ms\":%.3f,\"cold\":%u,\"cold_share\":%.4f,"
		"\"confidence\":0.95,\"cold_share_low\":%.4f,\"cold_share_high\":%.4f,"
		"\"warmed_by_probe\":true,\"histogram\":[",
		PACKAGE_VERSION, (unsigned long long)t->size, (unsigned long long)seed, r->samples,
		(unsigned long long)r->read_size, (unsigned long long)r->bytes_read, r->errors,
		r->rereads, ms(r->warm_ns), ms(r->warm_max_ns), ms(r->threshold_ns), r->cold, r->share, r->low,
		r->high);
	for (i = 0; i < PROBE_HIST_BINS; i++) {
		fprintf(f, "%s{\"below_us\":", i ? "," : "");
		if (probe_bin_upper_us(i))
			fprintf(f, "%llu", (unsigned long long)probe_bin_upper_us(i));
		else
			fputs("null", f);
		fprintf(f, ",\"count\":%u,\"cold\":%u}", r->hist[i], r->hist_cold[i]);
	}
	fputs("]}\n", f);
}

static const char *const verdict_words[] = {
    [GRANULARITY_UNSURE] = "too few cold blocks, or mixed evidence: hydrate reads in full",
    [GRANULARITY_WHOLE] = "a small read of a cold block fetched all of it: touch mode pays",
    [GRANULARITY_PARTIAL] = "a small read fetched only what it read: hydrate reads in full",
};

void report_granularity(FILE *f, const struct target *t, uint64_t seed,
			const struct granularity_result *g)
{
	char s1[32], s2[32];
	unsigned int i;

	size_format(t->size, s1, sizeof(s1));
	size_format(g->block, s2, sizeof(s2));
	fprintf(f,
		"Granularity probe of %s (%s), snapshot blocks of %s: %u places from seed %llu\n",
		t->path, s1, s2, g->tried, (unsigned long long)seed);
	fprintf(f,
		"Warm latency %.3f ms (median of the second reads); slower than %.3f ms counts "
		"as cold; cold first reads %.3f ms (median)\n",
		ms(g->warm_ns), ms(g->threshold_ns), ms(g->cold_ns));
	fprintf(f, "Cold blocks: %u of %u; the other end warm in %u, cold in %u\n", g->cold,
		g->tried - g->errors, g->far_warm, g->far_cold);
	fprintf(f, "Verdict: %s (%s)\n", granularity_name(g->verdict), verdict_words[g->verdict]);
	fputs("          offset  first ms  again ms    other end  ms\n", f);
	for (i = 0; i < g->tried; i++) {
		const struct granularity_place *p = &g->place[i];

		if (!p->ok) {
			fprintf(f, "  %14llu  read failed\n", (unsigned long long)p->off);
			continue;
		}
		fprintf(f, "  %14llu %9.3f %9.3f %12s %8.3f%s\n", (unsigned long long)p->off,
			ms(p->first_ns), ms(p->again_ns), "", ms(p->far_ns),
			!p->cold      ? "  (was warm)"
			: p->far_cold ? "  cold: partial"
				      : "  warm: whole");
	}
	if (g->errors)
		fprintf(f, "%u places could not be read, the first: %s\n", g->errors,
			strerror(-g->first_error));
	size_format(g->bytes_read, s1, sizeof(s1));
	fprintf(f, "Read %s in all; the blocks probed are warm now.\n", s1);
}

void report_granularity_json(FILE *f, const struct target *t, uint64_t seed,
			     const struct granularity_result *g)
{
	unsigned int i;

	fputs("{\"target\":", f);
	json_string(f, t->path);
	fprintf(f,
		",\"version\":\"%s\",\"size\":%llu,\"snapshot_block\":%llu,\"seed\":%llu,"
		"\"read_size\":%llu,\"bytes_read\":%llu,\"tried\":%u,\"errors\":%u,\"cold\":%u,"
		"\"far_warm\":%u,\"far_cold\":%u,\"rounds\":%u,\"cold_rounds\":%u,"
		"\"warm_latency_ms\":%.3f,\"threshold_ms\":%.3f,"
		"\"cold_latency_ms\":%.3f,\"verdict\":\"%s\",\"places\":[",
		PACKAGE_VERSION, (unsigned long long)t->size, (unsigned long long)g->block,
		(unsigned long long)seed, (unsigned long long)g->read_size,
		(unsigned long long)g->bytes_read, g->tried, g->errors, g->cold, g->far_warm,
		g->far_cold, g->rounds, g->cold_rounds, ms(g->warm_ns), ms(g->threshold_ns),
		ms(g->cold_ns), granularity_name(g->verdict));
	for (i = 0; i < g->tried; i++) {
		const struct granularity_place *p = &g->place[i];

		fprintf(f,
			"%s{\"offset\":%llu,\"far_offset\":%llu,\"ok\":%s,\"first_ms\":%.3f,"
			"\"again_ms\":%.3f,\"far_ms\":%.3f,\"cold\":%s,\"far_cold\":%s}",
			i ? "," : "", (unsigned long long)p->off, (unsigned long long)p->far_off,
			p->ok ? "true" : "false", ms(p->first_ns), ms(p->again_ns), ms(p->far_ns),
			p->cold ? "true" : "false", p->far_cold ? "true" : "false");
	}
	fputs("]}\n", f);
}
