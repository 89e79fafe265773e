#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# frag.py PATH N BS: a file of N extents of BS bytes, each followed by a hole
# of BS: written whole, then every other block punched, so that the holes are
# both in the file and on the device (bench/scale.sh's fragmented file).
import ctypes
import os
import sys

path, n, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
buf = os.urandom(1 << 20)
total = 2 * n * bs
off = 0
while off < total:
    off += os.pwrite(fd, buf[:min(len(buf), total - off)], off)
os.fsync(fd)
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
for i in range(n):
    if libc.fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, (2 * i + 1) * bs, bs):
        raise OSError(ctypes.get_errno(), "punch")
os.fsync(fd)
os.close(fd)
