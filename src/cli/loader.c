/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Wiring one target's priority phases to the window and the preloader:
 * every file of every priority class on the target gets a number, the
 * phases' loader-order pieces become window blocks, and the window asks the
 * preloader whether a reader has a block in the page cache.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/size.h"
#include "cli/cli.h"
#include "cli/loader.h"
#include "cli/report.h"

#define PRELOAD_BUDGET (32ULL * 1024 * 1024) /* bytes asked for per engine follow */

static void add_phase(struct loader *l, const struct order *o, size_t phase, size_t base,
		      const struct rangelist *prior, uint64_t block)
{
	size_t k;

	for (k = 0; k < o->n; k++) {
		const struct order_piece *pc = &o->v[k];
		uint64_t fo = pc->file_off == ORDER_NO_FILE_OFF ? WINDOW_NO_FILE_OFF : pc->file_off;

		if (window_add(&l->win, phase, (uint32_t)(base + pc->file), pc->off, pc->len, fo,
			       block, prior))
			die_oom();
	}
}

void loader_setup(struct loader *l, const struct plan *plan, size_t t,
		  const struct rangelist *prior, uint64_t block, bool preload, uint64_t margin)
{
	const struct plan_target *pt = &plan->per[t];
	struct window_ops ops;
	size_t c, i, *base;

	memset(l, 0, sizeof(*l));
	if (!pt->npriority)
		return;
	base = calloc(pt->npriority, sizeof(*base));
	for (c = 0; c < pt->npriority; c++)
		l->npaths += plan->classes[c].nfiles;
	l->paths = calloc(l->npaths ? l->npaths : 1, sizeof(*l->paths));
	if (!base || !l->paths)
		die_oom();
	l->npaths = 0;
	for (c = 0; c < pt->npriority; c++) {
		base[c] = l->npaths;
		for (i = 0; i < plan->classes[c].nfiles; i++)
			l->paths[l->npaths++] = plan->classes[c].files[i].path;
	}
	/* Files of other targets, or refused, are watched for nothing: no block names them. */
	if (preload_init(&l->pre, l->paths, l->npaths, preload, margin))
		die_oom();
	preload_window_ops(&l->pre, &ops);
	if (window_init(&l->win, pt->npriority, (uint32_t)l->npaths, &ops))
		die_oom();
	for (c = 0; c < pt->npriority; c++)
		add_phase(l, &pt->orders[c], c, base[c], prior, block);
	window_seal(&l->win);
	free(base);
	l->active = true;
}

void loader_preload(struct loader *l, bool all)
{
	int rc;

	if (!l->active || !l->pre.enabled)
		return;
	do
		rc = preload_step(&l->pre, PRELOAD_BUDGET);
	while (all && rc > 0);
}

void loader_free(struct loader *l)
{
	if (!l->active)
		return;
	window_free(&l->win);
	preload_free(&l->pre);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}

void loader_report(FILE *f, const char *target, struct loader *l)
{
	char s1[32], s2[32], s3[32];
	uint64_t resident = 0, size = 0;
	size_t i;

	if (!l->active)
		return;
	if (l->win.skipped_bytes)
		fprintf(f,
			"blkhydrate: %s: %s of the priority files was in the page cache already "
			"(a reader had it): not read again\n",
			target, size_format(l->win.skipped_bytes, s1, sizeof(s1)));
	if (!l->pre.enabled)
		return;
	preload_count(&l->pre);
	for (i = 0; i < l->pre.n; i++)
		if (l->pre.v[i].pos) {
			resident += l->pre.v[i].resident;
			size += l->pre.v[i].rf.size;
		}
	fprintf(
	    f,
	    "blkhydrate: %s: preloaded %s of %s of warm priority files; %s in the page cache%s\n",
	    target, size_format(l->pre.bytes, s1, sizeof(s1)), size_format(size, s2, sizeof(s2)),
	    size_format(resident, s3, sizeof(s3)),
	    l->pre.held ? " (held back by --preload-margin)" : "");
}

static void json_preload_files(FILE *f, struct loader *const *l, size_t n)
{
	size_t t, i;
	bool first = true;

	for (t = 0; t < n; t++)
		for (i = 0; l[t]->active && i < l[t]->pre.n; i++) {
			const struct preload_file *pf = &l[t]->pre.v[i];

			if (pf->error)
				continue;
			fputs(first ? "{\"path\":" : ",{\"path\":", f);
			first = false;
			json_string(f, pf->path);
			fprintf(f,
				",\"size\":%llu,\"warm\":%s,\"preloaded\":%llu,\"resident\":%llu}",
				(unsigned long long)pf->rf.size, pf->warm ? "true" : "false",
				(unsigned long long)pf->pos, (unsigned long long)pf->resident);
		}
}

void loader_json(FILE *f, struct loader *const *l, size_t n, bool preload, uint64_t margin)
{
	uint64_t skipped = 0, bytes = 0, resident = 0;
	bool held = false;
	size_t t, i;

	for (t = 0; t < n; t++) {
		if (!l[t]->active)
			continue;
		skipped += l[t]->win.skipped_bytes;
		bytes += l[t]->pre.bytes;
		held = held || l[t]->pre.held;
		if (preload)
			preload_count(&l[t]->pre);
		for (i = 0; i < l[t]->pre.n; i++)
			resident += l[t]->pre.v[i].pos ? l[t]->pre.v[i].resident : 0;
	}
	fprintf(f, ",\"priority_order\":\"loader\",\"reader_cached_bytes\":%llu,\"preload\":",
		(unsigned long long)skipped);
	if (!preload) {
		fputs("null", f);
		return;
	}
	fprintf(f,
		"{\"margin\":%llu,\"bytes\":%llu,\"resident_bytes\":%llu,\"held_by_margin\":%s,"
		"\"files\":[",
		(unsigned long long)margin, (unsigned long long)bytes, (unsigned long long)resident,
		held ? "true" : "false");
	json_preload_files(f, l, n);
	fputs("]}", f);
}
