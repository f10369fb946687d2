#!/usr/bin/env python3
"""Write a unity C file: one that #includes several generated C files.

Each of QEMU's ~940 compiles pays 15-20 ms before it reads a line of its own
(the compiler's start, the precompiled qemu/osdep.h), and the generated QAPI
and trace sources are a few hundred small files.  Compiled as a few files that
include them, they take a third to a half of the time.  qemu-build.sh copies
this file into the QEMU tree as scripts/kernelcraft_unity.py; the patches to
qapi/meson.build and trace/meson.build (devices/qemu-7.2-*.patch) use it.
Files are merged only where no two can clash: those that define no static
names, or, with --rename-statics, files whose static functions and variables
(found in their text at build time) are renamed, one #define per name around
the file's #include, to a name that carries the file's.

The unity file starts with qemu/osdep.h, as every QEMU source must: GCC uses a
precompiled header only for a file's first #include.  The files it includes
are named as given: GCC looks for a quoted include in the including file's
folder first, which is where the generated files are.

Usage: kernelcraft_unity.py [--rename-statics] [--part=K/N] OUTPUT FILE...
  --part=K/N        include only the K-th (from 0) of N contiguous, nearly
                    equal parts of FILE... (so that both CPUs get a share)
  --rename-statics  read each FILE (it must exist) and rename its statics
The unity file includes each FILE by its base name: it is written into the
folder of the files it includes.
"""
import os
import re
import sys
import tempfile

# A line that starts a static function or variable: "static ... NAME(" or
# "static ... NAME =", "NAME;", "NAME[" (the generators write one per line).
STATIC_NAME = re.compile(r"^static\b[^(=;]*?\b([A-Za-z_]\w*)\s*(?:\(|=|;|\[)")


def static_names(path):
    """The names a C file defines static, in order, each once."""
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = STATIC_NAME.match(line)
            if m and m.group(1) not in names:
                names.append(m.group(1))
    return names


def unity_text(files, writer, rename_statics=False):
    lines = [
        "/* Written by scripts/%s: these files compiled as one. */" % writer,
        '#include "qemu/osdep.h"',
    ]
    for path in files:
        name = os.path.basename(path)
        statics = static_names(path) if rename_statics else []
        prefix = "kc_unity_%s_" % re.sub(r"\W", "_", os.path.splitext(name)[0])
        lines += ["#define %s %s%s" % (s, prefix, s) for s in statics]
        lines.append('#include "%s"' % name)
        lines += ["#undef %s" % s for s in statics]
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
    rename_statics = False
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--rename-statics":
            rename_statics = True
        elif opt.startswith("--part="):
            k, n = (int(x) for x in opt[len("--part="):].split("/"))
        else:
            sys.exit("%s: unknown option %s" % (argv[0], opt))
    if len(args) < 2 or not 0 <= k < n:
        sys.exit("usage: %s [--rename-statics] [--part=K/N] OUTPUT FILE..." % argv[0])
    output, files = args[0], args[1:]
    text = unity_text(part(files, k, n), os.path.basename(argv[0]), rename_statics)
    write_if_changed(output, text)


if __name__ == "__main__":
    main(sys.argv)
