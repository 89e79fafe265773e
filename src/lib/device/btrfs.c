/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Btrfs logical to device address translation for a single-device btrfs.
 * The chunk tree maps each chunk (a span of btrfs logical addresses) to one
 * stripe per copy on a device; we read it with the tree search ioctl, keep it
 * as a sorted array and answer "which device bytes hold this logical range"
 * by binary search. SINGLE and DUP chunks map linearly and are supported;
 * striped and mirrored profiles need several devices, so a file system with
 * more than one device is refused before anything else, with a reason.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "device/btrfs.h"
#include "base/value.h"

/* Newer than the UAPI headers of older distributions. */
#ifndef BTRFS_FEATURE_INCOMPAT_RAID_STRIPE_TREE
#define BTRFS_FEATURE_INCOMPAT_RAID_STRIPE_TREE (1ULL << 14)
#endif

/* Where every btrfs device keeps its primary superblock, and what we read of it. */
#define SUPER_OFFSET	   65536
#define SUPER_FSID	   32
#define SUPER_MAGIC_OFF	   64
#define SUPER_DEVID	   201
#define SUPER_MAGIC	   0x4D5F53665248425FULL	/* "_BHRfS_M" */

struct btrfs_map {
	size_t n;
	struct btrfs_map_chunk chunk[];	/* sorted by logical, no overlaps */
};

static void set_why(const char **why, const char *reason)
{
	if (why)
		*why = reason;
}

bool btrfs_is_btrfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == BTRFS_SUPER_MAGIC;
}

static int chunk_cmp(const void *a, const void *b)
{
	const struct btrfs_map_chunk *x = a, *y = b;

	if (x->logical != y->logical)
		return x->logical < y->logical ? -1 : 1;
	return 0;
}

/* True when @c is consistent on its own; overlaps are checked once sorted. */
static bool chunk_valid(const struct btrfs_map_chunk *c)
{
	uint64_t profile = c->type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	uint16_t copies;
	uint16_t i;

	if (!c->length || c->logical + c->length < c->logical)
		return false;
	if (!profile)
		copies = 1;
	else if (profile == BTRFS_BLOCK_GROUP_DUP)
		copies = 2;
	else
		return true;	/* never mapped: btrfs_map_range() refuses it */
	if (c->num_stripes != copies)
		return false;
	for (i = 0; i < copies; i++)
		if (c->physical[i] + c->length < c->physical[i])
			return false;
	return true;
}

int btrfs_map_from_chunks(const struct btrfs_map_chunk *chunks, size_t n, struct btrfs_map **mapp)
{
	struct btrfs_map *map;
	size_t i;

	if (n > (SIZE_MAX - sizeof(*map)) / sizeof(map->chunk[0]))
		return -ENOMEM;
	map = malloc(sizeof(*map) + n * sizeof(map->chunk[0]));
	if (!map)
		return -ENOMEM;
	map->n = n;
	if (n)
		memcpy(map->chunk, chunks, n * sizeof(map->chunk[0]));
	qsort(map->chunk, n, sizeof(map->chunk[0]), chunk_cmp);
	for (i = 0; i < n; i++) {
		const struct btrfs_map_chunk *c = &map->chunk[i];

		if (!chunk_valid(c) ||
		    (i && c->logical < c[-1].logical + c[-1].length)) {
			free(map);
			return -EUCLEAN;
		}
	}
	*mapp = map;
	return 0;
}

void btrfs_map_free(struct btrfs_map *map)
{
	free(map);
}

/* The chunk holding logical address @addr, or NULL. */
static const struct btrfs_map_chunk *chunk_find(const struct btrfs_map *map, uint64_t addr)
{
	size_t lo = 0, hi = map->n;

	/* Find the first chunk starting after @addr; the one before may hold it. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (map->chunk[mid].logical <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr - map->chunk[lo - 1].logical >= map->chunk[lo - 1].length)
		return NULL;
	return &map->chunk[lo - 1];
}

/* Why a chunk of type @type cannot be mapped, or NULL when it can. */
static const char *chunk_refusal(uint64_t type)
{
	static const struct {
		uint64_t flag;
		const char *why;
	} refused[] = {
		{ BTRFS_BLOCK_GROUP_RAID0, "the range lies in a RAID0 chunk; only SINGLE and DUP are supported" },
		{ BTRFS_BLOCK_GROUP_RAID1, "the range lies in a RAID1 chunk; only SINGLE and DUP are supported" },
		{ BTRFS_BLOCK_GROUP_RAID10, "the range lies in a RAID10 chunk; only SINGLE and DUP are supported" },
		{ BTRFS_BLOCK_GROUP_RAID5, "the range lies in a RAID5 chunk; only SINGLE and DUP are supported" },
		{ BTRFS_BLOCK_GROUP_RAID6, "the range lies in a RAID6 chunk; only SINGLE and DUP are supported" },
		{ BTRFS_BLOCK_GROUP_RAID1C3, "the range lies in a RAID1C3 chunk; only SINGLE and DUP are supported" },
		{ BTRFS_BLOCK_GROUP_RAID1C4, "the range lies in a RAID1C4 chunk; only SINGLE and DUP are supported" },
	};
	uint64_t profile = type & BTRFS_BLOCK_GROUP_PROFILE_MASK;
	size_t i;

	/*
	 * A flag we do not know may change what the stripes mean: newer
	 * kernels mark relocated chunks whose addresses live in a remap tree.
	 */
	if (type & ~(BTRFS_BLOCK_GROUP_TYPE_MASK | BTRFS_BLOCK_GROUP_PROFILE_MASK))
		return "the range lies in a chunk with flags this version does not know";
	if (!profile || profile == BTRFS_BLOCK_GROUP_DUP)
		return NULL;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (profile & refused[i].flag)
			return refused[i].why;
	return "the range lies in a chunk of an unknown profile";
}

int btrfs_map_range(const struct btrfs_map *map, uint64_t logical, uint64_t len,
		    struct rangelist *out, const char **why)
{
	size_t n0 = out->n;
	int ret;

	if (logical + len < logical)
		return -ERANGE;
	while (len) {
		const struct btrfs_map_chunk *c = chunk_find(map, logical);
		const char *refusal;
		uint64_t off, piece;
		uint16_t i;

		if (!c) {
			ret = -ENOENT;
			goto fail;
		}
		refusal = chunk_refusal(c->type);
		if (refusal) {
			set_why(why, refusal);
			ret = -ENOTSUP;
			goto fail;
		}
		off = logical - c->logical;
		piece = c->length - off < len ? c->length - off : len;
		/* SINGLE and DUP stripes are the chunk laid out linearly, once per copy. */
		for (i = 0; i < c->num_stripes; i++) {
			ret = rangelist_add(out, c->physical[i] + off, piece);
			if (ret)
				goto fail;
		}
		logical += piece;
		len -= piece;
	}
	return 0;
fail:
	/* rangelist_add() only appends, so forgetting the tail undoes this call. */
	out->n = n0;
	return ret;
}

/*
 * Parse the CHUNK_ITEM at logical @logical into @c. Returns 0, -EUCLEAN when
 * the item is malformed, or -ENOTSUP when a stripe is on a device other than
 * @devid: a seed device, which FS_INFO does not count.
 */
static int parse_chunk(const char *item, uint32_t len, uint64_t logical, uint64_t devid,
		       struct btrfs_map_chunk *c, const char **why)
{
	struct btrfs_chunk chunk;
	uint16_t i, n;

	if (len < sizeof(chunk))
		return -EUCLEAN;
	memcpy(&chunk, item, sizeof(chunk));
	n = le16toh(chunk.num_stripes);
	if (!n || len < offsetof(struct btrfs_chunk, stripe) + n * sizeof(struct btrfs_stripe))
		return -EUCLEAN;
	c->logical = logical;
	c->length = le64toh(chunk.length);
	c->type = le64toh(chunk.type);
	c->num_stripes = n;
	memset(c->physical, 0, sizeof(c->physical));
	for (i = 0; i < n; i++) {
		struct btrfs_stripe stripe;

		memcpy(&stripe, item + offsetof(struct btrfs_chunk, stripe) + i * sizeof(stripe),
		       sizeof(stripe));
		if (le64toh(stripe.devid) != devid) {
			set_why(why, "a chunk lives on another device (a seed device?)");
			return -ENOTSUP;
		}
		if (i < BTRFS_MAP_MAX_COPIES)
			c->physical[i] = le64toh(stripe.offset);
	}
	return 0;
}

/* Read every CHUNK_ITEM into a new array @chunks of @n. Returns 0 or -errno. */
static int read_chunks(int fd, uint64_t devid, struct btrfs_map_chunk **chunks, size_t *n,
		       const char **why)
{
	struct btrfs_ioctl_search_args args;
	struct btrfs_ioctl_search_key *sk = &args.key;
	struct btrfs_map_chunk *v = NULL;
	size_t cap = 0, count = 0;
	int ret;

	memset(&args, 0, sizeof(args));
	sk->tree_id = BTRFS_CHUNK_TREE_OBJECTID;
	sk->min_objectid = BTRFS_FIRST_CHUNK_TREE_OBJECTID;
	sk->max_objectid = BTRFS_FIRST_CHUNK_TREE_OBJECTID;
	sk->min_type = BTRFS_CHUNK_ITEM_KEY;
	sk->max_type = BTRFS_CHUNK_ITEM_KEY;
	sk->max_offset = UINT64_MAX;
	sk->max_transid = UINT64_MAX;
	for (;;) {
		uint64_t last = 0;
		size_t pos = 0;
		uint32_t i;

		sk->nr_items = 4096;
		if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &args) < 0) {
			ret = -errno;
			goto fail;
		}
		/* The kernel returns as many items as fit; none left means done. */
		if (!sk->nr_items)
			break;
		for (i = 0; i < sk->nr_items; i++) {
			struct btrfs_ioctl_search_header sh;

			if (sizeof(args.buf) - pos < sizeof(sh)) {
				ret = -EUCLEAN;
				goto fail;
			}
			memcpy(&sh, args.buf + pos, sizeof(sh));
			pos += sizeof(sh);
			if (sizeof(args.buf) - pos < sh.len) {
				ret = -EUCLEAN;
				goto fail;
			}
			last = sh.offset;
			if (sh.objectid == BTRFS_FIRST_CHUNK_TREE_OBJECTID &&
			    sh.type == BTRFS_CHUNK_ITEM_KEY) {
				if (ARRAY_GROW(v, count, &cap)) {
					ret = -ENOMEM;
					goto fail;
				}
				ret = parse_chunk(args.buf + pos, sh.len, sh.offset, devid,
						  &v[count], why);
				if (ret)
					goto fail;
				count++;
			}
			pos += sh.len;
		}
		/* Objectid and type are pinned, so the key offset alone moves on. */
		if (last == UINT64_MAX)
			break;
		sk->min_offset = last + 1;
	}
	*chunks = v;
	*n = count;
	return 0;
fail:
	free(v);
	return ret;
}

/*
 * Check that the device at @path carries this file system's superblock as
 * device @devid: the path is a name the kernel recorded at mount time and may
 * since name something else. Returns 0, -ENOTSUP or -errno.
 */
static int check_super(const char *path, const uint8_t *fsid, uint64_t devid, const char **why)
{
	unsigned char sb[4096];
	uint64_t magic, id;
	ssize_t got;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	got = pread(fd, sb, sizeof(sb), SUPER_OFFSET);
	if (got < 0) {
		got = -errno;
		close(fd);
		return (int)got;
	}
	close(fd);
	if (got != sizeof(sb)) {
		set_why(why, "the device btrfs names is too small to hold its superblock");
		return -ENOTSUP;
	}
	memcpy(&magic, sb + SUPER_MAGIC_OFF, sizeof(magic));
	memcpy(&id, sb + SUPER_DEVID, sizeof(id));
	if (le64toh(magic) != SUPER_MAGIC || memcmp(sb + SUPER_FSID, fsid, BTRFS_FSID_SIZE) ||
	    le64toh(id) != devid) {
		set_why(why, "the device btrfs names does not hold this file system");
		return -ENOTSUP;
	}
	return 0;
}

/* Find the one device of a file system with @max_id as its highest devid. */
static int find_device(int fd, uint64_t max_id, struct btrfs_ioctl_dev_info_args *di,
		       const char **why)
{
	uint64_t id;

	/* Devid 0 is the target of a running replace: a second device after all. */
	memset(di, 0, sizeof(*di));
	if (ioctl(fd, BTRFS_IOC_DEV_INFO, di) == 0) {
		set_why(why, "a device replace is running");
		return -ENOTSUP;
	}
	/* Devids are not dense: removing and adding devices leaves holes. */
	for (id = 1; id <= max_id; id++) {
		memset(di, 0, sizeof(*di));
		di->devid = id;
		if (ioctl(fd, BTRFS_IOC_DEV_INFO, di) == 0) {
			di->path[sizeof(di->path) - 1] = '\0';
			return 0;
		}
		if (errno != ENODEV)
			return -errno;
	}
	return -ENODEV;
}

int btrfs_map_load(int fd, struct btrfs_map **map, dev_t *dev, const char **why)
{
	struct btrfs_ioctl_dev_info_args *di = NULL;
	struct btrfs_ioctl_feature_flags features;
	struct btrfs_ioctl_fs_info_args fi;
	struct btrfs_map_chunk *chunks = NULL;
	struct stat st;
	size_t n = 0;
	int ret;

	if (!btrfs_is_btrfs(fd)) {
		set_why(why, "not a btrfs file system");
		return -ENOTSUP;
	}
	memset(&fi, 0, sizeof(fi));
	if (ioctl(fd, BTRFS_IOC_FS_INFO, &fi) < 0)
		return -errno;
	if (fi.num_devices != 1) {
		set_why(why, "the btrfs spans more than one device");
		return -ENOTSUP;
	}
	if (ioctl(fd, BTRFS_IOC_GET_FEATURES, &features) < 0)
		return -errno;
	/* With a raid stripe tree, DUP data is placed per extent, not by the chunk. */
	if (features.incompat_flags & BTRFS_FEATURE_INCOMPAT_RAID_STRIPE_TREE) {
		set_why(why, "the btrfs uses a raid stripe tree");
		return -ENOTSUP;
	}

	/* 4 KiB: too large for the stack of a library function. */
	di = malloc(sizeof(*di));
	if (!di)
		return -ENOMEM;
	ret = find_device(fd, fi.max_id, di, why);
	if (ret)
		goto done;
	/*
	 * The st_dev of a file on btrfs is an anonymous device of the subvolume,
	 * not the disk, so the path btrfs recorded is the only way to the disk;
	 * in a container it may not exist.
	 */
	if (stat((const char *)di->path, &st) < 0 || !S_ISBLK(st.st_mode)) {
		set_why(why, "the device btrfs names is not a block device here");
		ret = -ENOTSUP;
		goto done;
	}
	ret = check_super((const char *)di->path, fi.fsid, di->devid, why);
	if (ret)
		goto done;

	ret = read_chunks(fd, di->devid, &chunks, &n, why);
	if (ret)
		goto done;
	ret = btrfs_map_from_chunks(chunks, n, map);
	if (ret)
		goto done;
	*dev = st.st_rdev;
done:
	free(chunks);
	free(di);
	return ret;
}
