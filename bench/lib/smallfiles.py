#!/usr/bin/env python3
"""Small-file metadata driver for bench/run (the "meta" workload).

usage: smallfiles.py PHASE ROOT NDIRS NFILES SIZE

PHASE is one of
  create  mkdir ROOT and NDIRS subdirs, create NFILES files of SIZE bytes
          in each (open O_CREAT|O_EXCL, one write, close)
  stat    stat every file
  readdir list every directory (os.scandir; names only, no stat)
  unlink  unlink every file, rmdir the subdirs and ROOT
and prints "OPS SECONDS" (operations done, elapsed monotonic time). The
per-file system calls are made from this one process, so no fork/exec cost
is measured. Exits non-zero on any error.
"""
import os
import sys
import time


def main():
    phase, root = sys.argv[1], sys.argv[2]
    nd, nf, size = (int(a) for a in sys.argv[3:6])
    buf = os.urandom(size)
    dirs = [os.path.join(root, "d%03d" % d) for d in range(nd)]
    names = ["f%05d" % f for f in range(nf)]
    ops = 0
    t0 = time.monotonic()
    if phase == "create":
        os.mkdir(root)
        for dp in dirs:
            os.mkdir(dp)
            for n in names:
                fd = os.open(os.path.join(dp, n),
                             os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
                if os.write(fd, buf) != size:
                    raise OSError("short write")
                os.close(fd)
                ops += 1
    elif phase == "stat":
        for dp in dirs:
            for n in names:
                if os.stat(os.path.join(dp, n)).st_size != size:
                    raise OSError("wrong size")
                ops += 1
    elif phase == "readdir":
        for dp in dirs:
            with os.scandir(dp) as it:
                seen = sum(1 for _ in it)
            if seen != nf:
                raise OSError("%s: %d entries, expected %d" % (dp, seen, nf))
            ops += seen
    elif phase == "unlink":
        for dp in dirs:
            for n in names:
                os.unlink(os.path.join(dp, n))
                ops += 1
            os.rmdir(dp)
        os.rmdir(root)
    else:
        sys.exit("unknown phase " + phase)
    print("%d %.6f" % (ops, time.monotonic() - t0))


if __name__ == "__main__":
    main()
