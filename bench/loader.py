#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""loader.py FILE...: read model files the way a loader does.

Each file's index first, at its end (the last MiB, as a zip-based checkpoint
keeps its directory), then its tensors in order, 4 MiB a read, with about
2 ms of CPU work after each read (a loader copies and converts what it
read before it asks for more). Prints nothing; exits 1 on a read error.
"""
import os
import sys
import time

CHUNK = 4 << 20
INDEX = 1 << 20
WORK_S = 0.002


def work(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def load(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        os.pread(fd, min(size, INDEX), max(0, size - INDEX))
        off = 0
        while off < size:
            got = len(os.pread(fd, CHUNK, off))
            if not got:
                break
            off += got
            work(WORK_S)
    finally:
        os.close(fd)


def main():
    try:
        for path in sys.argv[1:]:
            load(path)
    except OSError as e:
        print("loader.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
