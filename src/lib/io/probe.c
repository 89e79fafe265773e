/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Probing coldness. Reads go one at a time so that a latency is the
 * device's, not our queue's. The places are stratified: one random place in
 * each of n equal slices, so the estimate covers the whole device even when
 * the warm part is one contiguous run. A read of a cold block makes the
 * device fetch the whole snapshot block (512 KiB on EBS): probing warms what
 * it touches, which is why the same places serve as the warm reference right
 * after, spread over the run so that they see the same load. A read is cold
 * when slower than PROBE_COLD_FACTOR times the warm median plus
 * PROBE_COLD_MARGIN_NS, and than twice the upper quartile of the warm reads:
 * cold fetches cost milliseconds to tens of milliseconds, warm reads a
 * fraction of a millisecond. A busy host stretches some warm reads past that;
 * when a few samples lie just above it and a clear gap follows, the threshold
 * moves into the gap (probe_threshold()).
 *
 * The granularity probe asks the question touch mode stands on: does a small
 * read of a cold snapshot block fetch the whole block? It reads one logical
 * block at the start of a few blocks, the same again (warm for sure: the
 * reference), then the block's other end; cold at the start and warm at the
 * other end means the whole block came. The first three places' first reads
 * go at once; when all three were fetches, the other first reads go at once
 * too: a volume fetches many blocks at once, so the probe costs about two
 * fetches, not one a block, and hydration starts that much sooner. The warm
 * reads after them go one at a time, as the sample probe's
 * (granularity_phase() says why). One stall of the host stretches reads in
 * flight together: cold places from one round of reads only make no verdict.
 */
#include "config.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/engine.h"
#include "io/probe.h"

#define PROBE_COLD_FACTOR    3
#define PROBE_COLD_MARGIN_NS 2000000ULL
#define PROBE_TAIL_FACTOR    2 /* times the upper quartile of the warm re-reads */
#define PROBE_READ_SIZE	     4096
#define BIN0_NS		     32000ULL
#define PROBE_BATCH	     16 /* first reads of the granularity probe at once, at most */
/*
 * Places whose first reads go at once before the others': as many as a
 * verdict needs cold blocks. Only when they all fetched do the next go at
 * once; a stall that stretched them all is caught by the rounds' rule.
 */
#define PROBE_LEAD GRANULARITY_MIN_COLD

/* splitmix64: small, seedable, the same everywhere. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int probe_offsets(uint64_t size, uint64_t unit, unsigned int n, uint64_t seed,
			   uint64_t *off)
{
	uint64_t units = size / unit, s = seed, i;

	if ((uint64_t)n > units)
		n = (unsigned int)units;
	for (i = 0; i < n; i++) {
		/* Units [lo, hi) form slice i. */
		uint64_t lo = units * i / n, hi = units * (i + 1) / n;

		off[i] = (lo + next_rand(&s) % (hi - lo)) * unit;
	}
	return n;
}

static double root(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	/* Newton: enough for a confidence interval, and no libm. */
	if (x <= 0)
		return 0;
	for (i = 0; i < 60; i++)
		r = 0.5 * (r + x / r);
	return r;
}

void probe_wilson(unsigned int k, unsigned int n, double z, double *low, double *high)
{
	double p, z2, den, mid, half;

	if (!n) {
		*low = 0;
		*high = 1;
		return;
	}
	p = (double)k / n;
	z2 = z * z;
	den = 1 + z2 / n;
	mid = (p + z2 / (2.0 * n)) / den;
	half = z / den * root(p * (1 - p) / n + z2 / (4.0 * n * n));
	*low = mid - half < 0 ? 0 : mid - half;
	*high = mid + half > 1 ? 1 : mid + half;
}

unsigned int probe_bin(uint64_t ns)
{
	unsigned int i;

	for (i = 0; i < PROBE_HIST_BINS - 1; i++)
		if (ns < BIN0_NS << i)
			return i;
	return PROBE_HIST_BINS - 1;
}

uint64_t probe_bin_upper_us(unsigned int i)
{
	return i < PROBE_HIST_BINS - 1 ? (BIN0_NS << i) / 1000 : 0;
}

uint64_t probe_threshold(const uint64_t *sorted, unsigned int n, uint64_t floor_ns)
{
	uint64_t prev = floor_ns;
	unsigned int i, above = 0;

	for (i = 0; i < n; i++) {
		if (sorted[i] <= floor_ns)
			continue;
		if (sorted[i] >= prev * PROBE_GAP) {
			if ((uint64_t)above * 100 > (uint64_t)n * PROBE_STRETCHED)
				break;
			return (uint64_t)root((double)prev * (double)sorted[i]);
		}
		prev = sorted[i];
		above++;
	}
	return floor_ns;
}

/* Time one read. Returns 0, or -errno. */
static int timed_read(const struct target *t, void *buf, uint64_t len, uint64_t off, uint64_t *ns)
{
	uint64_t t0 = engine_now_ns();
	ssize_t n;

	do
		n = pread(t->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	*ns = engine_now_ns() - t0;
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* From the warm rereads and the latencies: the threshold, the histogram, the cold share. */
static void count_cold(struct probe_result *r, uint64_t *warm, uint64_t *lat, unsigned int ok)
{
	uint64_t tail = 0;
	unsigned int i;

	if (r->rereads) {
		qsort(warm, r->rereads, sizeof(warm[0]), cmp_u64);
		r->warm_ns = warm[r->rereads / 2];
		r->warm_max_ns = warm[r->rereads - 1];
		/* The upper quartile, not the slowest: one hiccup must not hide every cold read. */
		tail = warm[r->rereads * 3 / 4];
	}
	r->threshold_ns = PROBE_COLD_FACTOR * r->warm_ns + PROBE_COLD_MARGIN_NS;
	if (r->threshold_ns < tail * PROBE_TAIL_FACTOR)
		r->threshold_ns = tail * PROBE_TAIL_FACTOR;
	qsort(lat, ok, sizeof(lat[0]), cmp_u64);
	r->threshold_ns = probe_threshold(lat, ok, r->threshold_ns);
	for (i = 0; i < ok; i++) {
		unsigned int b = probe_bin(lat[i]);
		int cold = lat[i] > r->threshold_ns;

		r->hist[b]++;
		r->hist_cold[b] += cold;
		r->cold += cold;
	}
	r->share = ok ? (double)r->cold / ok : 0;
	probe_wilson(r->cold, ok, PROBE_Z95, &r->low, &r->high);
}

int probe_run(const struct target *t, unsigned int samples, uint64_t seed,
	      volatile sig_atomic_t *stop, struct probe_result *r)
{
	uint64_t *off = NULL, *lat = NULL, warm[PROBE_REREADS];
	uint64_t unit = t->align > PROBE_READ_SIZE ? t->align : PROBE_READ_SIZE;
	unsigned int n, i, ok = 0;
	void *buf = NULL;
	int rc = -ENOMEM;

	memset(r, 0, sizeof(*r));
	r->read_size = unit;
	off = calloc(samples, sizeof(*off));
	lat = calloc(samples, sizeof(*lat));
	if (!off || !lat || posix_memalign(&buf, 4096, unit))
		goto done;
	n = probe_offsets(t->size, unit, samples, seed, off);

	for (i = 0; i < n; i++) {
		uint64_t ns;
		int err;

		/* Now and then the place just read, warm now: the warm latency of this moment. */
		if (i && i % (n / PROBE_REREADS ? n / PROBE_REREADS : 1) == 0 &&
		    r->rereads < PROBE_REREADS) {
			if (!timed_read(t, buf, unit, off[i - 1], &ns))
				warm[r->rereads++] = ns;
			r->bytes_read += unit;
		}
		if (stop && *stop) {
			rc = -EINTR;
			goto done;
		}
		err = timed_read(t, buf, unit, off[i], &ns);
		r->bytes_read += unit;
		if (err == -ENODEV || err == -ENXIO) {
			rc = err;
			goto done;
		}
		if (err) {
			if (!r->errors++)
				r->first_error = err;
			continue;
		}
		lat[ok++] = ns;
	}
	r->samples = ok;

	for (i = n; i > 0 && r->rereads < PROBE_REREADS; i--) {
		uint64_t ns;

		if (!timed_read(t, buf, unit, off[i - 1], &ns))
			warm[r->rereads++] = ns;
		r->bytes_read += unit;
	}
	count_cold(r, warm, lat, ok);
	rc = 0;
done:
	free(off);
	free(lat);
	free(buf);
	return rc;
}

enum granularity_verdict granularity_verdict(unsigned int cold, unsigned int far_warm,
					     unsigned int far_cold, unsigned int cold_rounds)
{
	if (cold < GRANULARITY_MIN_COLD || cold_rounds < 2)
		return GRANULARITY_UNSURE;
	if ((uint64_t)far_warm * 100 >= (uint64_t)cold * GRANULARITY_AGREE)
		return GRANULARITY_WHOLE;
	if ((uint64_t)far_cold * 100 >= (uint64_t)cold * GRANULARITY_AGREE)
		return GRANULARITY_PARTIAL;
	return GRANULARITY_UNSURE;
}

const char *granularity_name(enum granularity_verdict v)
{
	return v == GRANULARITY_WHOLE ? "whole" : v == GRANULARITY_PARTIAL ? "partial" : "unsure";
}

/*
 * Reads at once: the granularity probe's. A ring of up to PROBE_BATCH reads
 * and a buffer for each; without a ring (io_uring unavailable) they go one
 * at a time, as the sample probe's do.
 */
struct batch {
	struct io_uring ring;
	bool have_ring;
	uint8_t *buf;
	uint64_t unit;
	uint16_t ioprio;	    /* each read's, as the engine's */
	unsigned int first_at_once; /* first reads at once: the lead's, then more if they fetched */
};

static int batch_init(struct batch *b, uint64_t unit, uint16_t ioprio)
{
	void *buf;

	memset(b, 0, sizeof(*b));
	b->unit = unit;
	b->ioprio = ioprio;
	b->first_at_once = 1;
	if (posix_memalign(&buf, 4096, unit * PROBE_BATCH))
		return -ENOMEM;
	b->buf = buf;
	b->have_ring = !io_uring_queue_init(PROBE_BATCH, &b->ring, 0);
	return 0;
}

static void batch_free(struct batch *b)
{
	if (b->have_ring)
		io_uring_queue_exit(&b->ring);
	free(b->buf);
}

/*
 * Up to PROBE_BATCH reads at @off at once, each timed from the submission to
 * its completion. A short submission or a failed wait ends the ring's use:
 * what it did not read goes one at a time, as do reads to try again.
 */
static void batch_some(struct batch *b, const struct target *t, const uint64_t *off, unsigned int n,
		       uint64_t *ns, int *err)
{
	struct io_uring_cqe *cqe;
	unsigned int i, left;
	int sub = 0, rc;
	uint64_t t0;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = b->have_ring ? io_uring_get_sqe(&b->ring) : NULL;

		err[i] = 1; /* not read yet */
		if (!sqe)
			continue;
		io_uring_prep_read(sqe, t->fd, b->buf + i * b->unit, (unsigned int)b->unit, off[i]);
		io_uring_sqe_set_data64(sqe, i);
		sqe->ioprio = b->ioprio;
	}
	t0 = engine_now_ns();
	if (b->have_ring)
		sub = io_uring_submit(&b->ring);
	for (left = sub > 0 ? (unsigned int)sub : 0; left;) {
		rc = io_uring_wait_cqe(&b->ring, &cqe);
		if (rc == -EINTR)
			continue;
		if (rc)
			break;
		i = (unsigned int)io_uring_cqe_get_data64(cqe);
		ns[i] = engine_now_ns() - t0;
		err[i] = cqe->res < 0 ? cqe->res : cqe->res == (int)b->unit ? 0 : -EIO;
		io_uring_cqe_seen(&b->ring, cqe);
		left--;
	}
	if (b->have_ring && (sub != (int)n || left)) {
		io_uring_queue_exit(&b->ring);
		b->have_ring = false;
	}
	for (i = 0; i < n; i++)
		if (err[i] == 1 || err[i] == -EAGAIN || err[i] == -EINTR)
			err[i] = timed_read(t, b->buf, b->unit, off[i], &ns[i]);
}

/* The reads at @off, in pieces of @at_once (at most PROBE_BATCH). */
static void batch_read(struct batch *b, const struct target *t, const uint64_t *off, unsigned int n,
		       unsigned int at_once, uint64_t *ns, int *err)
{
	unsigned int i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < at_once ? n - i : at_once;
		batch_some(b, t, off + i, k, ns + i, err + i);
	}
}

/* What a phase of the granularity probe reads. */
enum place_read { READ_FIRST, READ_AGAIN, READ_FAR };

/*
 * One phase over the places @idx: read each at its start (first or again)
 * or its other end. The first reads go at once (once the first places' were
 * fetches): they wait on fetches, and whatever queueing or
 * stall they meet only adds to a cold read. The warm
 * ones go one at a time, so that a latency is the device's: read at once,
 * each would wait on those before it under an IOPS cap (the reference, and
 * the threshold three times as fast, grow with the batch), and one stall of
 * the host would stretch them all together, past what the threshold allows.
 * A place whose read failed drops out of @idx (the error counted). Returns
 * the places left, or -errno when the device went away.
 */
static int granularity_phase(const struct target *t, struct batch *b, struct granularity_result *g,
			     unsigned int *idx, unsigned int n, enum place_read what)
{
	uint64_t off[GRANULARITY_MAX_PLACES], ns[GRANULARITY_MAX_PLACES];
	int err[GRANULARITY_MAX_PLACES];
	unsigned int i, kept = 0;

	for (i = 0; i < n; i++)
		off[i] = what == READ_FAR ? g->place[idx[i]].far_off : g->place[idx[i]].off;
	batch_read(b, t, off, n, what == READ_FIRST ? b->first_at_once : 1, ns, err);
	g->bytes_read += n * g->read_size;
	for (i = 0; i < n; i++) {
		struct granularity_place *p = &g->place[idx[i]];

		if (err[i] == -ENODEV || err[i] == -ENXIO)
			return err[i];
		if (err[i]) {
			if (!g->errors++)
				g->first_error = err[i];
			p->ok = false;
			continue;
		}
		*(what == READ_FIRST   ? &p->first_ns
		  : what == READ_AGAIN ? &p->again_ns
				       : &p->far_ns) = ns[i];
		idx[kept++] = idx[i];
	}
	return (int)kept;
}

/*
 * Places [@from, @from + @n): every start at once, then every start again
 * (the warm reference), then every other end. A far end is read only once
 * its start completed: the fetch its start caused is over. Returns 0 or -errno.
 */
static int granularity_places(const struct target *t, struct batch *b, struct granularity_result *g,
			      unsigned int from, unsigned int n)
{
	unsigned int idx[GRANULARITY_MAX_PLACES], i;
	int k;

	for (i = 0; i < n; i++) {
		idx[i] = from + i;
		g->place[from + i].ok = true;
	}
	k = granularity_phase(t, b, g, idx, n, READ_FIRST);
	if (k > 0)
		k = granularity_phase(t, b, g, idx, (unsigned int)k, READ_AGAIN);
	if (k > 0)
		k = granularity_phase(t, b, g, idx, (unsigned int)k, READ_FAR);
	return k < 0 ? k : 0;
}

/*
 * @cut[r]: where round r's cold first reads begin, UINT64_MAX when none is.
 * Sorted, the round's latencies rise by a warm read's at a time under an
 * IOPS cap, which serves reads at once one after another (the last of a
 * round waits on all before it); a fetch adds more than the threshold at
 * once. The first such step is the cut; from 0, for the fastest: a round
 * that waited on fetches, or on one stall, is cold all through (the
 * rounds' rule is for that stall).
 */
static void round_cuts(const struct granularity_result *g, uint64_t threshold, uint64_t *cut)
{
	uint64_t lat[GRANULARITY_MAX_PLACES], prev;
	unsigned int i = 0, j, n, k, r;

	while (i < g->tried) {
		r = g->place[i].round;
		for (j = i, n = 0; j < g->tried && g->place[j].round == r; j++)
			if (g->place[j].ok)
				lat[n++] = g->place[j].first_ns;
		qsort(lat, n, sizeof(lat[0]), cmp_u64);
		cut[r] = UINT64_MAX;
		for (k = 0, prev = 0; k < n; prev = lat[k++])
			if (lat[k] - prev > threshold) {
				cut[r] = lat[k];
				break;
			}
		i = j;
	}
}

/* The threshold from the warm second reads, as probe_run() has it; then each place judged. */
static void granularity_judge(struct granularity_result *g)
{
	uint64_t warm[GRANULARITY_MAX_PLACES], lat[2 * GRANULARITY_MAX_PLACES], tail;
	uint64_t cut[GRANULARITY_MAX_PLACES];
	unsigned int i, n = 0, k = 0, c = 0, last_round = 0;

	g->cold = g->far_warm = g->far_cold = g->cold_rounds = 0;
	g->cold_ns = g->fetch_ns = 0;
	for (i = 0; i < g->tried; i++) {
		if (!g->place[i].ok)
			continue;
		warm[n++] = g->place[i].again_ns;
		lat[k++] = g->place[i].first_ns;
		lat[k++] = g->place[i].far_ns;
	}
	if (!n)
		return;
	qsort(warm, n, sizeof(warm[0]), cmp_u64);
	g->warm_ns = warm[n / 2];
	tail = warm[n * 3 / 4];
	g->threshold_ns = PROBE_COLD_FACTOR * g->warm_ns + PROBE_COLD_MARGIN_NS;
	if (g->threshold_ns < tail * PROBE_TAIL_FACTOR)
		g->threshold_ns = tail * PROBE_TAIL_FACTOR;
	qsort(lat, k, sizeof(lat[0]), cmp_u64);
	g->threshold_ns = probe_threshold(lat, k, g->threshold_ns);
	round_cuts(g, g->threshold_ns, cut);
	for (i = 0; i < g->tried; i++) {
		struct granularity_place *p = &g->place[i];

		if (!p->ok)
			continue;
		p->cold = p->first_ns >= cut[p->round]; /* a cut is past the threshold */
		p->far_cold = p->far_ns > g->threshold_ns;
		g->cold += p->cold;
		g->far_warm += p->cold && !p->far_cold;
		g->far_cold += p->cold && p->far_cold;
		if (!p->cold)
			continue;
		/* The places come round by round: a cold one of a new round counts it. */
		if (!c || p->round != last_round)
			g->cold_rounds++;
		last_round = p->round;
		warm[c++] = p->first_ns; /* done with the warm reads: the cold ones now */
	}
	if (c) {
		qsort(warm, c, sizeof(warm[0]), cmp_u64);
		g->cold_ns = warm[c / 2];
		g->fetch_ns = warm[0];
	}
}

uint64_t granularity_sample_threshold(const struct granularity_result *g)
{
	uint64_t mid = g->fetch_ns ? (g->warm_ns + g->fetch_ns) / 2 : 0;

	return mid > g->threshold_ns ? mid : g->threshold_ns;
}

int probe_granularity(const struct target *t, uint64_t block, unsigned int blocks, uint64_t seed,
		      volatile sig_atomic_t *stop, struct granularity_result *g)
{
	uint64_t off[GRANULARITY_MAX_PLACES];
	unsigned int n = blocks * GRANULARITY_TRIES;

	if (n > GRANULARITY_MAX_PLACES)
		n = GRANULARITY_MAX_PLACES;
	n = block ? probe_offsets(t->size, block, n, seed, off) : 0;
	return probe_granularity_at(t, block, off, n, blocks, 0, stop, g);
}

/*
 * The first @lead places' first reads all fetched: each slower than the
 * cold threshold over the fastest of their warm reads again (read alone:
 * the device's latency; a busy host stretches some), as a fetch of 2 ms is
 * and a queue of three warm reads is not.
 */
static bool lead_fetched(const struct granularity_result *g, unsigned int lead)
{
	uint64_t warm = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < lead; i++) {
		if (!g->place[i].ok)
			return false;
		if (g->place[i].again_ns < warm)
			warm = g->place[i].again_ns;
	}
	for (i = 0; i < lead; i++)
		if (g->place[i].first_ns <= PROBE_COLD_FACTOR * warm + PROBE_COLD_MARGIN_NS)
			return false;
	return true;
}

int probe_granularity_at(const struct target *t, uint64_t block, const uint64_t *off,
			 unsigned int n, unsigned int blocks, uint16_t ioprio,
			 volatile sig_atomic_t *stop, struct granularity_result *g)
{
	uint64_t unit = t->align > PROBE_READ_SIZE ? t->align : PROBE_READ_SIZE;
	unsigned int i, want, lead;
	struct batch b;
	int rc = 0;

	memset(g, 0, sizeof(*g));
	g->block = block;
	g->read_size = unit;
	if (block < 2 * unit)
		return -EINVAL;
	if (batch_init(&b, unit, ioprio))
		return -ENOMEM;
	if (n > GRANULARITY_MAX_PLACES)
		n = GRANULARITY_MAX_PLACES;
	/*
	 * The lead places' first reads at once (one place is left for a second
	 * round): on a device that fetches, they are slower than any warm read
	 * can be, and the next places' first reads go at once. On one that
	 * does not (warm, not lazy at all, or an IOPS cap that queued the
	 * lead) they go one at a time. Then as many places as cold blocks are
	 * still wanted, until @blocks were cold in two rounds or more, or the
	 * places ran out.
	 */
	lead = n > PROBE_LEAD ? PROBE_LEAD : n > 1 ? n - 1 : n;
	b.first_at_once = lead;
	while (g->tried < n) {
		if (stop && *stop) {
			rc = -EINTR;
			break;
		}
		want = !g->tried ? lead : g->cold < blocks ? blocks - g->cold : 1;
		if (want > n - g->tried)
			want = n - g->tried;
		/* A round: the first reads batch_read() sends at once (a lone one is its own). */
		for (i = 0; i < want; i++) {
			g->place[g->tried + i].off = off[g->tried + i];
			g->place[g->tried + i].far_off = off[g->tried + i] + block - unit;
			g->place[g->tried + i].round = g->rounds + i / b.first_at_once;
		}
		rc = granularity_places(t, &b, g, g->tried, want);
		g->tried += want;
		g->rounds += (want + b.first_at_once - 1) / b.first_at_once;
		if (rc < 0)
			break;
		if (g->tried == lead)
			b.first_at_once = lead_fetched(g, lead) ? PROBE_BATCH : 1;
		granularity_judge(g);
		if (g->tried >= blocks && g->cold >= blocks && g->cold_rounds >= 2)
			break;
	}
	batch_free(&b);
	if (rc < 0)
		return rc;
	granularity_judge(g);
	g->verdict = granularity_verdict(g->cold, g->far_warm, g->far_cold, g->cold_rounds);
	return 0;
}
