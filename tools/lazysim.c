/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lazysim - simulate a lazily loaded cloud block volume with FUSE.
 *
 * A volume restored from a snapshot (EBS and friends) fetches each snapshot
 * block from object storage the first time it is read.  Such a fetch costs
 * milliseconds, the backend runs a limited number of them at once and they
 * share a bandwidth cap, so only a deep queue of reads hydrates the volume
 * quickly.  lazysim serves IMAGE read-only as MOUNTPOINT/disk.img with that
 * cost model, so that blkhydrate's tests, demos and benchmarks can put a
 * loop device on top of it and get a realistic "lazy block device".
 *
 * MOUNTPOINT/stats and MOUNTPOINT/chunks expose counters and the order in
 * which chunks became warm, so tests can check what blkhydrate did.
 *
 * Model: chunks that are cold are queued FIFO for a pool of C fetcher
 * threads (C = concurrency).  A fetcher reserves chunk/bandwidth seconds on
 * one shared pipe and completes at max(start + latency, end of its pipe
 * slot).  Readers wait until every chunk they touch is warm, then read the
 * bytes from IMAGE.  Chunks that are holes in IMAGE were never written to
 * the snapshot: they are warm from the start and cost nothing.
 *
 * Two switches model what is not known about real volumes. --fetch partial:
 * a read of a cold chunk fetches only the 4 KiB sub-units it reads, the rest
 * of the chunk stays cold (--fetch whole, the default, fetches the whole
 * chunk). --guest-bandwidth and --guest-iops: the volume's own limits on what
 * the guest reads, an I/O counted in --io-unit pieces (256 KiB, as EBS counts
 * SSD I/O); every read reserves its time on one guest pipe when it arrives
 * and completes no sooner than its slot ends, while its fetch runs meanwhile.
 */
#define _GNU_SOURCE
/*
 * 3.12 is the first API level whose fuse_loop_mt() takes a config with
 * max_threads; with 3.5 the pool is stuck at libfuse's default of 10
 * threads, far fewer than the concurrency we must simulate.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NCV		64	/* striped condvars for chunk completion */
#define MAX_CHUNK	(1ULL << 30)
#define MAX_BACKGROUND	256	/* async requests the kernel may have outstanding */
#define SUB_UNIT	4096	/* --fetch partial: warm state is kept per sub-unit */

enum ch_state { CH_COLD, CH_FETCHING, CH_WARM, CH_FAILED };
enum ch_flag { CF_EIO = 1, CF_SLOW = 2, CF_DATA = 4 };
enum vf_kind { VF_DISK, VF_STATS, VF_CHUNKS };

struct chunk {
	uint32_t fails;		/* injected failures so far */
	uint8_t state;
	uint8_t flags;
	/* --fetch partial: sub-units [flo, fhi] of the fetch queued or running */
	uint32_t flo, fhi;
};

struct rec {
	uint64_t chunk, start_us, end_us;
};

struct range {
	uint64_t lo, hi;
};

struct rlist {
	struct range *r;
	size_t n;
};

/* An open stats/chunks file: a snapshot of the text, rebuilt at offset 0. */
struct vfile {
	int kind;
	pthread_mutex_t lock;
	char *buf;
	size_t len;
};

static struct {
	/* configuration */
	uint64_t chunk_size;
	uint64_t latency_ns;
	unsigned int concurrency;
	unsigned int threads;
	uint64_t bandwidth;
	struct rlist eio, slow;
	unsigned int eio_count;
	uint64_t slow_ns;
	uint64_t vanish_after;
	bool unarmed;		/* --wait-reset: no cost, no record until SIGUSR1 */
	uint64_t vanish_ns;	/* vanish this long after start; 0: never */
	bool vanish_eio;	/* vanish by failing every read instead of exiting */
	bool debug;
	/* the guest side and the fetch granularity (--fetch, --guest-*) */
	bool partial;		/* a fetch brings only the sub-units read */
	uint64_t guest_bw;	/* bytes/s the guest may read; 0: no cap */
	uint64_t guest_iops;	/* I/Os a second; 0: no cap */
	uint64_t io_unit;	/* an I/O counts this many bytes at most */
	FILE *fetch_log;	/* --fetch-log: "REALTIME_NS CHUNK" per chunk made warm */
	const char *image;
	char *mnt;

	/* volume */
	int fd;
	uint64_t size;
	uint64_t nchunks;
	uint64_t data_chunks;
	uint64_t xfer_ns;	/* pipe time of one chunk */
	struct chunk *ch;
	uint8_t *subwarm;	/* --fetch partial: a bit per sub-unit */
	uint64_t subs;		/* sub-units per chunk */
	uint64_t t0_ns;

	/* everything below is protected by lock */
	pthread_mutex_t lock;
	pthread_cond_t qcv;		/* queue not empty / stopping */
	pthread_cond_t cv[NCV];		/* chunk left CH_FETCHING */
	uint32_t *queue;		/* FIFO ring of nchunks entries */
	uint64_t qhead, qlen, max_qlen;
	bool stopping, vanishing;
	bool dead;			/* vanished in --vanish-mode eio: every read fails */
	pthread_cond_t deadcv;		/* became dead (CLOCK_MONOTONIC) */
	uint64_t pipe_free_ns;
	uint64_t started, fetches, warm, warm_data, inflight, max_inflight;
	uint64_t reads, bytes_read, max_req, errors_injected;
	uint64_t first_fetch_us, last_fetch_us;
	uint64_t resets;
	uint64_t guest_free_ns;		/* the guest pipe is busy until then */
	uint64_t guest_ios, fetched_bytes;
	struct rec *recs;
	size_t nrecs, recs_cap;
	pthread_t *fetchers;
	unsigned int nfetchers;
} S = {
	.chunk_size = 512 << 10,
	.latency_ns = 10000000,
	.concurrency = 32,
	.bandwidth = 256ULL << 20,
	.io_unit = 256 << 10,
	.fd = -1,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t rel_us(uint64_t ns)
{
	return ns > S.t0_ns ? (ns - S.t0_ns) / 1000 : 0;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ULL),
		.tv_nsec = (long)(ns % 1000000000ULL),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static bool in_rlist(const struct rlist *l, uint64_t c)
{
	for (size_t i = 0; i < l->n; i++)
		if (c >= l->r[i].lo && c <= l->r[i].hi)
			return true;
	return false;
}

/*
 * The volume disappears, as when its host detaches it: the mount is
 * detached and closing /dev/fuse at exit aborts the connection, so the loop
 * device above us gets errors from now on.  Fetches already running are
 * let finish and answered first, so exactly vanish_after fetches complete.
 */
static void __attribute__((noreturn)) vanish(void)
{
	bool idle = false;

	while (!idle) {
		pthread_mutex_lock(&S.lock);
		idle = S.inflight == 0;
		pthread_mutex_unlock(&S.lock);
		if (!idle)
			usleep(1000);
	}
	usleep(100000);		/* let readers of those fetches get replies */
	fprintf(stderr, "lazysim: vanishing after %" PRIu64 " fetches\n", S.fetches);
	if (umount2(S.mnt, MNT_DETACH) < 0)
		fprintf(stderr, "lazysim: umount %s: %s\n", S.mnt, strerror(errno));
	_exit(0);
}

/*
 * CLOCK_REALTIME, not the monotonic clock of the records: a test compares it
 * with what other processes saw (date +%s%N, a notify socket's receive time).
 */
static void log_fetch(uint32_t c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(S.fetch_log, "%lld%09ld %" PRIu32 "\n", (long long)ts.tv_sec, ts.tv_nsec, c);
}

/*
 * --fetch partial: the warm state of sub-units. A chunk whose sub-units are
 * all warm is CH_WARM; one with some cold ones stays CH_COLD between fetches.
 */
static uint8_t *sub_bits(uint64_t c)
{
	return S.subwarm + c * ((S.subs + 7) / 8);
}

static bool sub_warm(uint64_t c, uint64_t i)
{
	return sub_bits(c)[i / 8] & (1u << (i % 8));
}

/* True when sub-units lo..hi of chunk c are all warm. */
static bool subs_warm(uint64_t c, uint64_t lo, uint64_t hi)
{
	if (S.ch[c].state == CH_WARM)
		return true;
	if (!S.partial)
		return false;
	for (uint64_t i = lo; i <= hi; i++)
		if (!sub_warm(c, i))
			return false;
	return true;
}

/* Bytes one fetch of chunk c brings from the backend. */
static uint64_t fetch_bytes(uint32_t c)
{
	if (!S.partial)
		return S.chunk_size;
	return (uint64_t)(S.ch[c].fhi - S.ch[c].flo + 1) * SUB_UNIT;
}

static uint64_t fetch_xfer_ns(uint32_t c)
{
	if (!S.partial)
		return S.xfer_ns;
	return (uint64_t)((long double)fetch_bytes(c) * 1e9L / (long double)S.bandwidth);
}

/* A fetch of chunk c succeeded: its sub-units, or all of it, are warm. */
static void fetch_landed(uint32_t c)
{
	S.fetched_bytes += fetch_bytes(c);
	if (S.partial) {
		bool all = true;

		for (uint64_t i = S.ch[c].flo; i <= S.ch[c].fhi; i++)
			sub_bits(c)[i / 8] |= (uint8_t)(1u << (i % 8));
		for (uint64_t i = 0; i < S.subs && all; i++)
			all = sub_warm(c, i);
		if (!all) {
			S.ch[c].state = CH_COLD;
			return;
		}
	}
	S.ch[c].state = CH_WARM;
	S.warm++;
	S.warm_data++;
	if (S.fetch_log)
		log_fetch(c);
}

/* Run one fetch of chunk c; called and returns with S.lock held. */
static void fetch_one(uint32_t c)
{
	uint64_t now = mono_ns(), end, start_us = rel_us(now);
	bool fail = false;

	S.started++;
	if (++S.inflight > S.max_inflight)
		S.max_inflight = S.inflight;
	if (S.first_fetch_us == 0)
		S.first_fetch_us = start_us ? start_us : 1;

	end = now + S.latency_ns;
	if (S.ch[c].flags & CF_SLOW)
		end += S.slow_ns;
	if (S.bandwidth) {
		uint64_t pstart = S.pipe_free_ns > now ? S.pipe_free_ns : now;

		S.pipe_free_ns = pstart + fetch_xfer_ns(c);
		if (S.pipe_free_ns > end)
			end = S.pipe_free_ns;
	}

	/* a fetch in progress when the volume dies fails at once */
	while (!S.dead && mono_ns() < end) {
		struct timespec ts = {
			.tv_sec = (time_t)(end / 1000000000ULL),
			.tv_nsec = (long)(end % 1000000000ULL),
		};

		pthread_cond_timedwait(&S.deadcv, &S.lock, &ts);
	}
	if (S.dead) {
		fail = true;
	} else if ((S.ch[c].flags & CF_EIO) &&
	    (S.eio_count == 0 || S.ch[c].fails < S.eio_count)) {
		S.ch[c].fails++;
		S.errors_injected++;
		fail = true;
	}
	S.inflight--;
	S.fetches++;
	if (fail) {
		S.ch[c].state = CH_FAILED;
	} else {
		/* records only grow, a failed realloc just loses the record */
		if (S.nrecs == S.recs_cap) {
			size_t cap = S.recs_cap ? S.recs_cap * 2 : 1024;
			struct rec *r = realloc(S.recs, cap * sizeof(*r));

			if (r) {
				S.recs = r;
				S.recs_cap = cap;
			}
		}
		S.last_fetch_us = rel_us(mono_ns());
		if (S.nrecs < S.recs_cap)
			S.recs[S.nrecs++] = (struct rec){ c, start_us,
							  S.last_fetch_us };
		fetch_landed(c);
	}
	pthread_cond_broadcast(&S.cv[c % NCV]);
}

/*
 * Time to vanish: either every read fails from now on (the process stays, as
 * a volume whose backend is gone) or the volume goes away. Called with
 * S.lock held; returns with it held unless the process exits.
 */
static void vanish_now(void)
{
	if (S.vanish_eio) {
		if (!S.dead)
			fprintf(stderr, "lazysim: failing every read after %" PRIu64
				" fetches\n", S.fetches);
		S.dead = true;
		pthread_cond_broadcast(&S.deadcv);
		pthread_cond_broadcast(&S.qcv);
		return;
	}
	S.vanishing = true;
	pthread_mutex_unlock(&S.lock);
	vanish();
}

static void *vanish_timer_main(void *arg)
{
	(void)arg;
	sleep_until(S.t0_ns + S.vanish_ns);
	pthread_mutex_lock(&S.lock);
	vanish_now();
	pthread_mutex_unlock(&S.lock);
	return NULL;
}

static void *fetcher_main(void *arg)
{
	uint32_t c;

	(void)arg;
	pthread_mutex_lock(&S.lock);
	for (;;) {
		/* past vanish_after in eio mode: hold new fetches until the volume dies */
		while (!S.stopping && (S.qlen == 0 || S.vanishing ||
				       (S.vanish_eio && S.vanish_after && !S.dead &&
					S.started >= S.vanish_after)))
			pthread_cond_wait(&S.qcv, &S.lock);
		if (S.stopping)
			break;
		if (S.vanish_after && S.started >= S.vanish_after && !S.vanish_eio)
			vanish_now();
		c = S.queue[S.qhead];
		S.qhead = (S.qhead + 1) % S.nchunks;
		S.qlen--;
		if (S.dead) {
			/* nothing to fetch from any more: fail the waiting readers now */
			S.ch[c].state = CH_FAILED;
			pthread_cond_broadcast(&S.cv[c % NCV]);
			continue;
		}
		fetch_one(c);
		/* in eio mode the first vanish_after fetches all complete, then it dies */
		if (S.vanish_eio && S.vanish_after && S.fetches >= S.vanish_after && !S.dead)
			vanish_now();
	}
	pthread_mutex_unlock(&S.lock);
	return NULL;
}

/*
 * SIGUSR1 makes the volume cold again, as if just attached: every data chunk
 * cold, counters and the chunk record cleared. Whoever probed the device
 * before (udev's blkid) leaves no trace in what a test then counts. The
 * handler only flags it; the next request or stats read does it, locked.
 */
static volatile sig_atomic_t reset_requested;

static void on_usr1(int sig)
{
	(void)sig;
	reset_requested = 1;
}

static void reset_if_requested(void)
{
	if (!reset_requested)
		return;
	reset_requested = 0;
	for (uint64_t c = 0; c < S.nchunks; c++) {
		if (S.ch[c].state == CH_FETCHING || !(S.ch[c].flags & CF_DATA))
			continue;
		S.ch[c].state = CH_COLD;
		S.ch[c].fails = 0;
		if (S.partial)
			memset(sub_bits(c), 0, (S.subs + 7) / 8);
	}
	S.warm = S.nchunks - S.data_chunks;
	S.warm_data = S.fetches = S.started = S.errors_injected = 0;
	S.reads = S.bytes_read = S.max_req = 0;
	S.guest_ios = S.fetched_bytes = 0;
	S.first_fetch_us = S.last_fetch_us = 0;
	S.max_inflight = S.inflight;
	S.max_qlen = S.qlen;
	S.nrecs = 0;
	if (S.fetch_log && ftruncate(fileno(S.fetch_log), 0) == 0)
		rewind(S.fetch_log);
	S.resets++;
	S.unarmed = false;
}

/* Sub-units lo..hi of chunk c that a read of [off, off + size) covers. */
static void read_subs(uint64_t c, uint64_t off, size_t size, uint64_t *lo, uint64_t *hi)
{
	uint64_t base = c * S.chunk_size;
	uint64_t a = off > base ? off - base : 0, b = off + size - base;

	if (b > S.chunk_size)
		b = S.chunk_size;
	*lo = a / SUB_UNIT;
	*hi = (b - 1) / SUB_UNIT;
}

/* Queue a fetch of chunk c: all of it, or (partial) its cold sub-units within lo..hi. */
static void queue_fetch(uint64_t c, uint64_t lo, uint64_t hi)
{
	if (S.partial) {
		while (lo < hi && sub_warm(c, lo))
			lo++;
		while (hi > lo && sub_warm(c, hi))
			hi--;
		S.ch[c].flo = (uint32_t)lo;
		S.ch[c].fhi = (uint32_t)hi;
	}
	S.ch[c].state = CH_FETCHING;
	S.queue[(S.qhead + S.qlen) % S.nchunks] = (uint32_t)c;
	if (++S.qlen > S.max_qlen)
		S.max_qlen = S.qlen;
	pthread_cond_signal(&S.qcv);
}

/*
 * The guest pipe: a read of size bytes reserves its time (its I/Os at
 * --guest-iops, its bytes at --guest-bandwidth, whichever is longer) after
 * every read that came before it. Returns when it may complete, 0: at once.
 * Called with S.lock held.
 */
static uint64_t guest_admit(size_t size)
{
	uint64_t ios = (size + S.io_unit - 1) / S.io_unit, cost = 0, now;

	S.guest_ios += ios;
	if (!S.guest_bw && !S.guest_iops)
		return 0;
	if (S.guest_iops)
		cost = ios * 1000000000ULL / S.guest_iops;
	if (S.guest_bw) {
		uint64_t b = (uint64_t)((long double)size * 1e9L / (long double)S.guest_bw);

		cost = b > cost ? b : cost;
	}
	now = mono_ns();
	S.guest_free_ns = (S.guest_free_ns > now ? S.guest_free_ns : now) + cost;
	return S.guest_free_ns;
}

/*
 * Make what [off, off + size) reads warm, fetching the cold chunks (or their
 * cold sub-units) in parallel. *until: when the guest pipe lets it complete.
 */
static int ensure_warm(uint64_t off, size_t size, uint64_t *until)
{
	uint64_t first = off / S.chunk_size, last = (off + size - 1) / S.chunk_size, lo, hi;
	int ret = 0;

	pthread_mutex_lock(&S.lock);
	reset_if_requested();
	if (S.unarmed) {
		pthread_mutex_unlock(&S.lock);
		return 0;
	}
	S.reads++;
	if (size > S.max_req)
		S.max_req = size;
	*until = guest_admit(size);
	for (uint64_t c = first; c <= last; c++) {
		read_subs(c, off, size, &lo, &hi);
		if (S.ch[c].state != CH_FETCHING && !subs_warm(c, lo, hi))
			queue_fetch(c, lo, hi);
	}
	for (uint64_t c = first; c <= last && !ret; c++) {
		read_subs(c, off, size, &lo, &hi);
		for (;;) {
			while (S.ch[c].state == CH_FETCHING)
				pthread_cond_wait(&S.cv[c % NCV], &S.lock);
			if (S.dead || S.ch[c].state == CH_FAILED) {
				ret = -EIO;
				break;
			}
			if (subs_warm(c, lo, hi))
				break;
			/* another reader's fetch of this chunk left ours cold */
			queue_fetch(c, lo, hi);
		}
	}
	pthread_mutex_unlock(&S.lock);
	return ret;
}

static int disk_read(char *buf, size_t size, off_t off)
{
	uint64_t until = 0;
	size_t done = 0;
	int ret;

	if (off < 0)
		return -EINVAL;
	if ((uint64_t)off >= S.size || size == 0)
		return 0;
	if (size > S.size - (uint64_t)off)
		size = (size_t)(S.size - (uint64_t)off);
	pthread_mutex_lock(&S.lock);
	ret = S.dead ? -EIO : 0;
	pthread_mutex_unlock(&S.lock);
	if (ret)
		return ret;
	ret = ensure_warm((uint64_t)off, size, &until);
	if (ret)
		return ret;
	while (done < size) {
		ssize_t n = pread(S.fd, buf + done, size - done,
				  off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)	/* IMAGE shrank under us: pad with zeroes */
			break;
		done += (size_t)n;
	}
	memset(buf + done, 0, size - done);
	if (until)
		sleep_until(until);
	pthread_mutex_lock(&S.lock);
	S.bytes_read += size;
	pthread_mutex_unlock(&S.lock);
	return (int)size;
}

static char *render(int kind, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	pthread_mutex_lock(&S.lock);
	reset_if_requested();
	if (kind == VF_CHUNKS) {
		for (size_t i = 0; i < S.nrecs; i++)
			fprintf(f, "%zu %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				i + 1, S.recs[i].chunk, S.recs[i].start_us,
				S.recs[i].end_us);
	} else {
		uint64_t limit = S.bandwidth ?
			S.data_chunks * S.xfer_ns / 1000 : 0;
#define KV(k, v) fprintf(f, "%s %" PRIu64 "\n", k, (uint64_t)(v))
		KV("image_size", S.size);
		KV("chunk_size", S.chunk_size);
		KV("chunks", S.nchunks);
		KV("data_chunks", S.data_chunks);
		KV("warm", S.warm);
		KV("warm_data", S.warm_data);
		KV("fetches", S.fetches);
		KV("bytes_read", S.bytes_read);	/* guest bytes */
		KV("reads", S.reads);
		KV("max_read_size", S.max_req);
		KV("inflight", S.inflight);
		KV("max_inflight", S.max_inflight);
		KV("queued", S.qlen);
		KV("max_queued", S.max_qlen);
		KV("errors_injected", S.errors_injected);
		KV("dead", S.dead);
		KV("elapsed_us", rel_us(mono_ns()));
		KV("resets", S.resets);
		KV("first_fetch_us", S.first_fetch_us);
		KV("last_fetch_us", S.last_fetch_us);
		KV("limit_us", limit);
		KV("latency_us", S.latency_ns / 1000);
		KV("concurrency", S.concurrency);
		KV("bandwidth", S.bandwidth);
		KV("threads", S.threads);
		KV("fetch_partial", S.partial);
		KV("fetched_bytes", S.fetched_bytes);
		KV("guest_ios", S.guest_ios);
		KV("guest_bandwidth", S.guest_bw);
		KV("guest_iops", S.guest_iops);
		KV("io_unit", S.io_unit);
#undef KV
	}
	pthread_mutex_unlock(&S.lock);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*lenp = len;
	return buf;
}

static int path_kind(const char *path)
{
	if (!strcmp(path, "/disk.img"))
		return VF_DISK;
	if (!strcmp(path, "/stats"))
		return VF_STATS;
	if (!strcmp(path, "/chunks"))
		return VF_CHUNKS;
	return -1;
}

static int sim_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_blksize = 4096;
	if (!strcmp(path, "/")) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
		return 0;
	}
	switch (path_kind(path)) {
	case VF_DISK:
		st->st_size = (off_t)S.size;
		st->st_blocks = (blkcnt_t)((S.size + 511) / 512);
		break;
	case VF_STATS:
	case VF_CHUNKS:
		/* size 0 + direct_io: readers read until EOF (like /proc) */
		break;
	default:
		return -ENOENT;
	}
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	return 0;
}

static int sim_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		       off_t off, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	static const char *const names[] = { ".", "..", "disk.img", "stats",
					     "chunks" };

	(void)path; (void)off; (void)fi; (void)flags;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fill(buf, names[i], NULL, 0, 0);
	return 0;
}

static int sim_open(const char *path, struct fuse_file_info *fi)
{
	int kind = path_kind(path);
	struct vfile *vf;

	if (kind < 0)
		return -ENOENT;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	/* bypass the page cache: every read must reach the model */
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fi->fh = 0;
	if (kind == VF_DISK)
		return 0;
	vf = calloc(1, sizeof(*vf));
	if (!vf)
		return -ENOMEM;
	vf->kind = kind;
	pthread_mutex_init(&vf->lock, NULL);
	vf->buf = render(kind, &vf->len);
	if (!vf->buf) {
		pthread_mutex_destroy(&vf->lock);
		free(vf);
		return -ENOMEM;
	}
	fi->fh = (uint64_t)(uintptr_t)vf;
	return 0;
}

static int vfile_read(struct vfile *vf, char *buf, size_t size, off_t off)
{
	int ret = 0;

	pthread_mutex_lock(&vf->lock);
	if (off == 0) {
		size_t len;
		char *nbuf = render(vf->kind, &len);

		if (nbuf) {
			free(vf->buf);
			vf->buf = nbuf;
			vf->len = len;
		}
	}
	if (off >= 0 && (size_t)off < vf->len) {
		if (size > vf->len - (size_t)off)
			size = vf->len - (size_t)off;
		if (size > INT_MAX)
			size = INT_MAX;
		memcpy(buf, vf->buf + off, size);
		ret = (int)size;
	}
	pthread_mutex_unlock(&vf->lock);
	return ret;
}

static int sim_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct vfile *vf = (struct vfile *)(uintptr_t)fi->fh;

	(void)path;
	if (vf)
		return vfile_read(vf, buf, size, off);
	return disk_read(buf, size, off);
}

static int sim_release(const char *path, struct fuse_file_info *fi)
{
	struct vfile *vf = (struct vfile *)(uintptr_t)fi->fh;

	(void)path;
	if (vf) {
		pthread_mutex_destroy(&vf->lock);
		free(vf->buf);
		free(vf);
	}
	return 0;
}

static void *sim_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->direct_io = 1;
	cfg->kernel_cache = 0;
	cfg->auto_cache = 0;
	cfg->entry_timeout = 3600;
	cfg->attr_timeout = 3600;
	cfg->negative_timeout = 3600;
	cfg->nullpath_ok = 1;
	/*
	 * Async direct I/O requests are "background" requests; the kernel
	 * default of 12 of them would cap the queue depth we can see.
	 */
	conn->max_background = MAX_BACKGROUND;
	conn->congestion_threshold = MAX_BACKGROUND * 3 / 4;
	conn->want |= conn->capable & (FUSE_CAP_ASYNC_DIO | FUSE_CAP_ASYNC_READ);
	if (S.debug)
		fprintf(stderr, "lazysim: proto %u.%u max_write %u max_read %u "
			"want %#x\n", conn->proto_major, conn->proto_minor,
			conn->max_write, conn->max_read, conn->want);
	return NULL;
}

static const struct fuse_operations sim_ops = {
	.init = sim_init,
	.getattr = sim_getattr,
	.readdir = sim_readdir,
	.open = sim_open,
	.read = sim_read,
	.release = sim_release,
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: lazysim [OPTIONS] IMAGE MOUNTPOINT\n"
"Serve IMAGE read-only as MOUNTPOINT/disk.img like a volume lazily restored\n"
"from a snapshot; MOUNTPOINT/stats and MOUNTPOINT/chunks report what happened.\n"
"Runs in the foreground until SIGTERM/SIGINT or unmount; SIGUSR1 makes\n"
"the volume cold again (counters and the chunk record cleared).\n"
"\n"
"  -c, --chunk-size SIZE   snapshot block size, multiple of 4K (default 512K)\n"
"  -l, --latency MS        cost of fetching one chunk (default 10, 0 allowed)\n"
"  -j, --concurrency N     chunk fetches at once (default 32)\n"
"  -B, --bandwidth SIZE    shared fetch bandwidth, bytes/s (default 256M, 0=none)\n"
"  -t, --threads N         FUSE worker threads (default 272, or concurrency+16 if more)\n"
"      --eio LIST          chunks (N or N-M, comma separated) whose fetch fails\n"
"      --eio-count N       they fail the first N times, then work (0=always)\n"
"      --slow LIST         chunks whose fetch takes --slow-ms longer\n"
"      --slow-ms MS        extra latency of --slow chunks (default 1000)\n"
"      --vanish-after N    after N fetches, the next one makes the volume vanish\n"
"      --vanish-ms MS      the volume vanishes MS milliseconds after start\n"
"      --vanish-mode MODE  exit: mount detached, process exits (default);\n"
"                          eio: every read fails from then on\n"
"      --fetch MODE        what a read of a cold chunk fetches: whole (the chunk,\n"
"                          the default) or partial (only the 4K units it reads)\n"
"      --guest-bandwidth SIZE  bytes/s the guest may read (default 0: no cap)\n"
"      --guest-iops N      guest I/Os a second (default 0: no cap)\n"
"      --io-unit SIZE      a read counts one I/O per SIZE (default 256K)\n"
"      --wait-reset        serve reads free and unrecorded until the first SIGUSR1\n"
"                          (while the device is set up and probed)\n"
"      --fetch-log FILE    write \"REALTIME_NS CHUNK\" to FILE as each chunk turns\n"
"                          warm (CLOCK_REALTIME; emptied by SIGUSR1)\n"
"  -f, --foreground        accepted for compatibility (always foreground)\n"
"  -d, --debug             print FUSE debug output\n"
"  -h, --help              show this help\n"
"SIZE takes K, M, G, T suffixes (powers of 1024).\n");
}

static void __attribute__((noreturn)) bad(const char *opt, const char *why)
{
	fprintf(stderr, "lazysim: %s: %s\n", opt, why);
	exit(1);
}

static uint64_t parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	if (*s == '-' || *s == '\0')
		bad(opt, "expected a size");
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		bad(opt, "expected a size");
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end)
		bad(opt, "bad size suffix (use K, M, G or T)");
	if (shift && v > (UINT64_MAX >> shift))
		bad(opt, "size too large");
	return (uint64_t)v << shift;
}

static uint64_t parse_uint(const char *opt, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		bad(opt, "expected a non-negative integer");
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		bad(opt, "expected a non-negative integer");
	if (v > max)
		bad(opt, "value too large");
	return v;
}

static uint64_t parse_ms(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 3.6e6)
		bad(opt, "expected milliseconds between 0 and 3600000");
	return (uint64_t)(v * 1e6 + 0.5);
}

static void parse_list(const char *opt, const char *s, struct rlist *l)
{
	char *copy = strdup(s), *save = NULL, *tok;

	if (!copy)
		bad(opt, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		struct range r, *nr;

		if (dash)
			*dash = '\0';
		r.lo = r.hi = parse_uint(opt, tok, UINT32_MAX);
		if (dash)
			r.hi = parse_uint(opt, dash + 1, UINT32_MAX);
		if (r.hi < r.lo)
			bad(opt, "range end before its start");
		nr = realloc(l->r, (l->n + 1) * sizeof(*nr));
		if (!nr)
			bad(opt, "out of memory");
		l->r = nr;
		l->r[l->n++] = r;
	}
	free(copy);
	if (l->n == 0)
		bad(opt, "expected a chunk list");
}

enum {
	OPT_EIO = 256, OPT_EIO_COUNT, OPT_SLOW, OPT_SLOW_MS, OPT_VANISH, OPT_VANISH_MS,
	OPT_VANISH_MODE, OPT_WAIT_RESET, OPT_FETCH_LOG,
	/* the guest side and the fetch granularity */
	OPT_FETCH, OPT_GUEST_BW, OPT_GUEST_IOPS, OPT_IO_UNIT,
};

/* --fetch, --guest-bandwidth, --guest-iops, --io-unit. Returns false for another option. */
static bool parse_guest_opt(int o, const char *arg)
{
	switch (o) {
	case OPT_FETCH:
		if (strcmp(arg, "whole") && strcmp(arg, "partial"))
			bad("--fetch", "must be whole or partial");
		S.partial = !strcmp(arg, "partial");
		return true;
	case OPT_GUEST_BW:
		S.guest_bw = parse_size("--guest-bandwidth", arg);
		return true;
	case OPT_GUEST_IOPS:
		S.guest_iops = parse_uint("--guest-iops", arg, 10000000);
		return true;
	case OPT_IO_UNIT:
		S.io_unit = parse_size("--io-unit", arg);
		if (S.io_unit < 512)
			bad("--io-unit", "must be at least 512");
		return true;
	}
	return false;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "chunk-size", required_argument, NULL, 'c' },
		{ "latency", required_argument, NULL, 'l' },
		{ "concurrency", required_argument, NULL, 'j' },
		{ "bandwidth", required_argument, NULL, 'B' },
		{ "threads", required_argument, NULL, 't' },
		{ "eio", required_argument, NULL, OPT_EIO },
		{ "eio-count", required_argument, NULL, OPT_EIO_COUNT },
		{ "slow", required_argument, NULL, OPT_SLOW },
		{ "slow-ms", required_argument, NULL, OPT_SLOW_MS },
		{ "vanish-after", required_argument, NULL, OPT_VANISH },
		{ "wait-reset", no_argument, NULL, OPT_WAIT_RESET },
		{ "fetch-log", required_argument, NULL, OPT_FETCH_LOG },
		{ "vanish-ms", required_argument, NULL, OPT_VANISH_MS },
		{ "vanish-mode", required_argument, NULL, OPT_VANISH_MODE },
		{ "fetch", required_argument, NULL, OPT_FETCH },
		{ "guest-bandwidth", required_argument, NULL, OPT_GUEST_BW },
		{ "guest-iops", required_argument, NULL, OPT_GUEST_IOPS },
		{ "io-unit", required_argument, NULL, OPT_IO_UNIT },
		{ "foreground", no_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	S.slow_ns = 1000000000ULL;
	while ((o = getopt_long(argc, argv, "c:l:j:B:t:fdh", lopts, NULL)) != -1) {
		if (parse_guest_opt(o, optarg))
			continue;
		switch (o) {
		case 'c':
			S.chunk_size = parse_size("--chunk-size", optarg);
			if (S.chunk_size == 0 || S.chunk_size % 4096)
				bad("--chunk-size", "must be a non-zero multiple of 4096");
			if (S.chunk_size > MAX_CHUNK)
				bad("--chunk-size", "must be at most 1G");
			break;
		case 'l':
			S.latency_ns = parse_ms("--latency", optarg);
			break;
		case 'j':
			S.concurrency = (unsigned int)parse_uint("--concurrency",
								 optarg, 4096);
			if (!S.concurrency)
				bad("--concurrency", "must be at least 1");
			break;
		case 'B':
			S.bandwidth = parse_size("--bandwidth", optarg);
			break;
		case 't':
			S.threads = (unsigned int)parse_uint("--threads", optarg,
							     8192);
			if (S.threads < 2)
				bad("--threads", "must be at least 2");
			break;
		case OPT_EIO:
			parse_list("--eio", optarg, &S.eio);
			break;
		case OPT_EIO_COUNT:
			S.eio_count = (unsigned int)parse_uint("--eio-count",
							       optarg, UINT32_MAX);
			break;
		case OPT_SLOW:
			parse_list("--slow", optarg, &S.slow);
			break;
		case OPT_SLOW_MS:
			S.slow_ns = parse_ms("--slow-ms", optarg);
			break;
		case OPT_VANISH:
			S.vanish_after = parse_uint("--vanish-after", optarg,
						    UINT64_MAX);
			if (!S.vanish_after)
				bad("--vanish-after", "must be at least 1");
			break;
		case OPT_WAIT_RESET:
			S.unarmed = true;
			break;
		case OPT_FETCH_LOG:
			S.fetch_log = fopen(optarg, "w");
			if (!S.fetch_log)
				bad("--fetch-log", strerror(errno));
			setvbuf(S.fetch_log, NULL, _IOLBF, 0);
			break;
		case OPT_VANISH_MS:
			S.vanish_ns = parse_ms("--vanish-ms", optarg);
			if (!S.vanish_ns)
				bad("--vanish-ms", "must be at least 1");
			break;
		case OPT_VANISH_MODE:
			if (strcmp(optarg, "exit") && strcmp(optarg, "eio"))
				bad("--vanish-mode", "must be exit or eio");
			S.vanish_eio = !strcmp(optarg, "eio");
			break;
		case 'f':
			break;
		case 'd':
			S.debug = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'lazysim --help'.\n");
			exit(1);
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "lazysim: expected IMAGE and MOUNTPOINT\n"
			"Try 'lazysim --help'.\n");
		exit(1);
	}
	S.image = argv[optind];
	S.mnt = realpath(argv[optind + 1], NULL);
	if (!S.mnt) {
		fprintf(stderr, "lazysim: %s: %s\n", argv[optind + 1],
			strerror(errno));
		exit(1);
	}
	/*
	 * A worker per request the kernel can have outstanding: an NVMe queue
	 * takes hundreds of commands, and a read of a warm chunk must not wait
	 * for a worker held by a read of a cold one.
	 */
	if (!S.threads)
		S.threads = MAX_BACKGROUND + 16 > S.concurrency + 16 ?
			    MAX_BACKGROUND + 16 : S.concurrency + 16;
}

static void mark_data(uint64_t from, uint64_t to)
{
	for (uint64_t c = from / S.chunk_size;
	     c < S.nchunks && c * S.chunk_size < to; c++)
		S.ch[c].state = CH_COLD;
}

/* Holes (SEEK_HOLE) were never in the snapshot: those chunks start warm. */
static int scan_image(void)
{
	off_t off = 0;

	for (uint64_t c = 0; c < S.nchunks; c++)
		S.ch[c].state = CH_WARM;
	while ((uint64_t)off < S.size) {
		off_t d = lseek(S.fd, off, SEEK_DATA), h;

		if (d < 0 && errno == ENXIO)
			break;
		if (d < 0) {	/* no SEEK_DATA here: all of it is data */
			mark_data(0, S.size);
			break;
		}
		h = lseek(S.fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > S.size)
			h = (off_t)S.size;
		mark_data((uint64_t)d, (uint64_t)h);
		off = h;
	}
	for (uint64_t c = 0; c < S.nchunks; c++) {
		if (S.ch[c].state == CH_COLD) {
			S.ch[c].flags |= CF_DATA;
			S.data_chunks++;
		}
		if (in_rlist(&S.eio, c))
			S.ch[c].flags |= CF_EIO;
		if (in_rlist(&S.slow, c))
			S.ch[c].flags |= CF_SLOW;
	}
	S.warm = S.nchunks - S.data_chunks;
	return 0;
}

static int check_list(const char *opt, const struct rlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->r[i].hi >= S.nchunks) {
			fprintf(stderr, "lazysim: %s: chunk %" PRIu64
				" out of range (image has %" PRIu64 " chunks)\n",
				opt, l->r[i].hi, S.nchunks);
			return -ERANGE;
		}
	}
	return 0;
}

static int setup_volume(void)
{
	struct stat st;
	off_t end;

	S.fd = open(S.image, O_RDONLY | O_CLOEXEC);
	if (S.fd >= 0 && fstat(S.fd, &st) == 0 &&
	    !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		fprintf(stderr, "lazysim: %s: not a file or block device\n",
			S.image);
		return -EINVAL;
	}
	end = S.fd < 0 ? -1 : lseek(S.fd, 0, SEEK_END);
	if (end < 0) {
		int err = errno;

		fprintf(stderr, "lazysim: %s: %s\n", S.image, strerror(err));
		return -err;
	}
	S.size = (uint64_t)end;
	S.nchunks = (S.size + S.chunk_size - 1) / S.chunk_size;
	if (S.nchunks >= UINT32_MAX) {
		fprintf(stderr, "lazysim: %s: too many chunks\n", S.image);
		return -EFBIG;
	}
	if (check_list("--eio", &S.eio) || check_list("--slow", &S.slow))
		return -ERANGE;
	S.ch = calloc(S.nchunks ? S.nchunks : 1, sizeof(*S.ch));
	S.subs = S.chunk_size / SUB_UNIT;
	if (S.partial) {
		S.subwarm = calloc(S.nchunks ? S.nchunks : 1, (S.subs + 7) / 8);
		if (!S.subwarm) {
			fprintf(stderr, "lazysim: out of memory\n");
			return -ENOMEM;
		}
	}
	S.queue = calloc(S.nchunks ? S.nchunks : 1, sizeof(*S.queue));
	if (!S.ch || !S.queue) {
		fprintf(stderr, "lazysim: out of memory\n");
		return -ENOMEM;
	}
	if (S.bandwidth)
		S.xfer_ns = (uint64_t)((long double)S.chunk_size * 1e9L /
				       (long double)S.bandwidth);
	return scan_image();
}

/* Fetchers block all signals so SIGTERM reaches the FUSE main thread. */
static int start_fetchers(void)
{
	sigset_t all, old;
	int ret = 0;

	pthread_condattr_t mono;

	pthread_cond_init(&S.qcv, NULL);
	pthread_condattr_init(&mono);
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_cond_init(&S.deadcv, &mono);
	pthread_condattr_destroy(&mono);
	for (int i = 0; i < NCV; i++)
		pthread_cond_init(&S.cv[i], NULL);
	S.fetchers = calloc(S.concurrency, sizeof(*S.fetchers));
	if (!S.fetchers)
		return -ENOMEM;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; S.nfetchers < S.concurrency; S.nfetchers++) {
		ret = -pthread_create(&S.fetchers[S.nfetchers], NULL,
				      fetcher_main, NULL);
		if (ret) {
			fprintf(stderr, "lazysim: pthread_create: %s\n",
				strerror(-ret));
			break;
		}
	}
	if (!ret && S.vanish_ns) {
		pthread_t timer;

		ret = -pthread_create(&timer, NULL, vanish_timer_main, NULL);
		if (!ret)
			pthread_detach(timer);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static void cleanup(void)
{
	if (S.fetchers) {
		pthread_mutex_lock(&S.lock);
		S.stopping = true;
		pthread_cond_broadcast(&S.qcv);
		pthread_mutex_unlock(&S.lock);
	}
	for (unsigned int i = 0; i < S.nfetchers; i++)
		pthread_join(S.fetchers[i], NULL);
	free(S.fetchers);
	free(S.ch);
	free(S.subwarm);
	free(S.queue);
	free(S.recs);
	free(S.eio.r);
	free(S.slow.r);
	free(S.mnt);
	if (S.fd >= 0)
		close(S.fd);
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *lcfg = NULL;
	struct fuse *f = NULL;
	int ret = 1, res;

	parse_args(argc, argv);
	S.t0_ns = mono_ns();
	if (setup_volume() || start_fetchers())
		goto out;

	/* ro: writes get EROFS from the kernel; allow_other: any user's
	 * tools (and root's loop devices) may use the volume */
	if (fuse_opt_add_arg(&args, argv[0]) ||
	    fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, "ro,allow_other,fsname=lazysim,"
			     "subtype=lazysim") ||
	    (S.debug && fuse_opt_add_arg(&args, "-d"))) {
		fprintf(stderr, "lazysim: out of memory\n");
		goto out;
	}
	f = fuse_new(&args, &sim_ops, sizeof(sim_ops), NULL);
	if (!f)
		goto out;
	if (fuse_mount(f, S.mnt))
		goto out_destroy;
	if (fuse_set_signal_handlers(fuse_get_session(f)))
		goto out_unmount;
	{
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR1, &sa, NULL);
	}
	lcfg = fuse_loop_cfg_create();
	if (!lcfg)
		goto out_signals;
	/* every waiting reader holds a thread: have more than fetchers */
	fuse_loop_cfg_set_max_threads(lcfg, S.threads);
	fuse_loop_cfg_set_idle_threads(lcfg, S.threads);
	res = fuse_loop_mt(f, lcfg);
	/* a positive result is the signal that stopped us: a clean exit */
	ret = res < 0 ? 1 : 0;
	fuse_loop_cfg_destroy(lcfg);
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
out_destroy:
	fuse_destroy(f);
out:
	fuse_opt_free_args(&args);
	cleanup();
	return ret;
}
