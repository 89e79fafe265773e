/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: target_gone: a block device whose sysfs entry exists is
 * there, one whose number the kernel does not know has gone (a detach), and
 * a disk image never goes away this way.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "device/target.h"
#include "../lib/tap.h"

/* The number of some block device this machine has, from /sys/dev/block. Returns 0 when none. */
static int some_block_device(dev_t *dev)
{
	DIR *d = opendir("/sys/dev/block");
	struct dirent *e;
	unsigned int ma, mi;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		if (sscanf(e->d_name, "%u:%u", &ma, &mi) == 2) {
			*dev = makedev(ma, mi);
			found = 1;
		}
	closedir(d);
	return found;
}

int main(void)
{
	struct target t;
	dev_t dev;

	plan(3);
	memset(&t, 0, sizeof(t));
	t.path = "disk.img";
	t.id_dev = makedev(4095, 1048575);
	ok(!target_gone(&t), "a disk image is never gone by its device number");
	t.blockdev = true;
	ok(target_gone(&t), "a block device number the kernel does not know: gone");
	if (some_block_device(&dev)) {
		t.id_dev = dev;
		ok(!target_gone(&t), "a block device in /sys/dev/block (%u:%u): there", major(dev),
		   minor(dev));
	} else {
		printf("ok %u # SKIP no block device in /sys/dev/block\n", ++tap_run);
	}
	return exit_status();
}
