#!/usr/bin/env python3
"""Write a unity C file: one that #includes several generated C files.

Each of QEMU's ~940 compiles pays 15-20 ms before it reads a line of its own
(the compiler's start, the precompiled qemu/osdep.h), and the generated QAPI
and trace sources are a few hundred small files.  Compiled as a few files that
include them, they take a third to a half of the time.  qemu-build.sh copies
this file into the QEMU tree as scripts/kernelcraft_unity.py; the patches to
qapi/meson.build and trace/meson.build (devices/qemu-7.2-*.patch) use it.
Only files that define no static names are merged, so no two can clash.

The unity file starts with qemu/osdep.h, as every QEMU source must: GCC uses a
precompiled header only for a file's first #include.  The files it includes
are named as given: GCC looks for a quoted include in the including file's
folder first, which is where the generated files are.

Usage: kernelcraft_unity.py [--part=K/N] OUTPUT FILE...
  --part=K/N  include only the K-th (from 0) of N contiguous, nearly equal
              parts of FILE... (so that both CPUs get a share)
"""
import os
import sys
import tempfile


def unity_text(names, writer):
    lines = [
        "/* Written by scripts/%s: these files compiled as one. */" % writer,
        '#include "qemu/osdep.h"',
    ]
    lines += ['#include "%s"' % name for name in names]
    return "\n".join(lines) + "\n"


def part(names, k, n):
    """The K-th of N contiguous slices of NAMES, sizes differing by at most one."""
    return names[k * len(names) // n:(k + 1) * len(names) // n]


def write_if_changed(path, text):
    """Replace PATH by TEXT atomically, unless it already holds exactly TEXT
    (ninja's restat then rebuilds nothing that depends on it)."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv):
    args = argv[1:]
    k, n = 0, 1
    if args and args[0].startswith("--part="):
        k, n = (int(x) for x in args.pop(0)[len("--part="):].split("/"))
    if len(args) < 2 or not 0 <= k < n:
        sys.exit("usage: %s [--part=K/N] OUTPUT FILE..." % argv[0])
    output, names = args[0], args[1:]
    write_if_changed(output, unity_text(part(names, k, n), os.path.basename(argv[0])))


if __name__ == "__main__":
    main(sys.argv)
