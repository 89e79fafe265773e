#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Block tags: an oracle for where a file's bytes are on a device that does
not ask FIEMAP.

  blocktags.py write FILE NBLOCKS [--append] [--nosync]
      Write NBLOCKS 4 KiB blocks to FILE, each starting with a tag naming the
      file and the block's index, the rest random (so nothing compresses or
      deduplicates). With --append the indexes go on from the file's size.

  blocktags.py check DEVICE PLAN.json
      For every priority file in a `blkhydrate plan --json` plan, read DEVICE
      at the file's planned ranges, find the tags there, and print one line
      per file: PATH BLOCKS FOUND EXTRA, where BLOCKS is how many tagged
      blocks the file holds (read through the file), FOUND how many of them
      the planned ranges hold, and EXTRA the planned bytes beyond the file's
      blocks rounded up to 4 KiB (0 when the plan reads nothing it need not).
"""
import json
import os
import sys

BLOCK = 4096
MAGIC = b"BLKTAG:"


def tag(path, idx):
    name = os.path.basename(path).encode()
    return MAGIC + name + b":%010d\n" % idx


def write(path, nblocks, append, nosync):
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o644)
    first = os.fstat(fd).st_size // BLOCK if append else 0
    for i in range(first, first + nblocks):
        t = tag(path, i)
        os.write(fd, t + os.urandom(BLOCK - len(t)))
    if not nosync:
        os.fsync(fd)
    os.close(fd)


def tags_in(buf):
    found = set()
    pos = buf.find(MAGIC)
    while pos >= 0:
        end = buf.find(b"\n", pos, pos + 300)
        if end > 0:
            found.add(bytes(buf[pos:end + 1]))
        pos = buf.find(MAGIC, pos + 1)
    return found


def check(device, plan_path):
    plan = json.load(open(plan_path))
    fd = os.open(device, os.O_RDONLY)
    for cls in plan["classes"]:
        for f in cls["files"]:
            if f.get("error"):
                continue
            want = set()
            with open(f["path"], "rb") as fh:
                while True:
                    blk = fh.read(BLOCK)
                    if not blk:
                        break
                    if blk.startswith(MAGIC):
                        want.add(blk[:blk.index(b"\n") + 1])
            got = set()
            planned = 0
            for off, length in f["ranges"]:
                planned += length
                got |= tags_in(os.pread(fd, length, off))
            rounded = (f["size"] + BLOCK - 1) // BLOCK * BLOCK
            print(f["path"], len(want), len(want & got), max(0, planned - rounded))
    os.close(fd)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), "--append" in sys.argv, "--nosync" in sys.argv)
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


main()
