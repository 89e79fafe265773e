/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: progress files of running attach hydrations. Written and
 * listed back with every field; rewritten in place; removed at the end;
 * damaged files are flagged, not trusted; the device name cannot escape
 * the run directory.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/runstate.h"
#include "../lib/tap.h"

static char dir[] = "/tmp/unit-runstate.XXXXXX";

struct seen {
	unsigned int good, bad;
	struct run_state last;
};

static int collect(const struct run_state *st, const char *path, int err, void *arg)
{
	struct seen *s = arg;

	(void)path;
	if (err) {
		s->bad++;
		return 0;
	}
	s->good++;
	s->last = *st;
	return 0;
}

int main(void)
{
	struct run_state st = { .device = "nvme1n1", .volume = "vol-0123456789abcdef0",
				.pid = 4242, .started = 1790000000, .planned = 8ULL << 30,
				.done = 1ULL << 30 };
	struct run_state got;
	struct seen s = { 0 };
	char path[512];
	FILE *f;

	plan(9);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/run", dir);
	ok(run_state_list(path, collect, &s) == -ENOENT, "nothing ever ran: ENOENT");
	ok(run_state_write(path, &st) == 0, "write the state of nvme1n1");
	st.done = 2ULL << 30;
	st.priority_done = true;
	ok(run_state_write(path, &st) == 0, "rewrite it with more progress");
	ok(run_state_list(path, collect, &s) == 0 && s.good == 1 && s.bad == 0,
	   "one running hydration listed");
	ok(!strcmp(s.last.device, "nvme1n1") && !strcmp(s.last.volume, st.volume) &&
		   s.last.pid == 4242 && s.last.started == st.started &&
		   s.last.planned == st.planned && s.last.done == 2ULL << 30 &&
		   s.last.priority_done,
	   "every field back, the latest progress");
	snprintf(path, sizeof(path), "%s/run/loop0.state", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("# blkhydrate run 1\ndevice=loop0\npid=", f);
		fclose(f);
	}
	s.good = s.bad = 0;
	snprintf(path, sizeof(path), "%s/run", dir);
	ok(run_state_list(path, collect, &s) == 0 && s.good == 1 && s.bad == 1,
	   "a file cut short is flagged");
	ok(run_state_parse("# blkhydrate run 1\ndevice=x\npid=0\n", &got) == -EBADMSG,
	   "a state without a process is refused");
	ok(run_state_remove(path, "nvme1n1") == 0 && run_state_remove(path, "nvme1n1") == -ENOENT,
	   "removed at the end, once");
	st.pid = 1;
	snprintf(st.device, sizeof(st.device), "../escape");
	snprintf(path, sizeof(path), "%s/run", dir);
	run_state_write(path, &st);
	snprintf(path, sizeof(path), "%s/escape.state", dir);
	ok(access(path, F_OK) != 0, "a device name with '/' stays inside the run directory");
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) ? 1 : exit_status();
}
