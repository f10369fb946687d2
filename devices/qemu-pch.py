#!/usr/bin/env python3
"""Precompile qemu/osdep.h for a configured QEMU build dir (called by qemu-build.sh).

Usage: qemu-pch.py BUILD_DIR SOURCE_DIR

Every QEMU source file starts with #include "qemu/osdep.h", and that header
pulls in glib: parsing it is about 40 ms of every one of the ~940 compiles
(AMD EPYC, gcc 12), a fifth of the build.  GCC looks for NAME.gch before NAME
in each directory it searches, and the first directory QEMU's compiles search
for quoted includes is the build dir (-iquote .).  So BUILD_DIR/qemu/osdep.h.gch/
holds one precompiled osdep.h per set of flags: "common" (libqemuutil, libcommon,
the block layer, ...) and "target" (libqemu-x86_64-softmmu: -DNEED_CPU_H and
the target's config headers).  GCC tries each file of that folder and takes the
one whose macros and flags match the compile; one that matches nothing is
simply not used and the compile parses osdep.h as before, so a stale flag can
only cost time, never change an object.  BUILD_DIR/qemu/osdep.h is a link to
the real header: where osdep.h is not a file's first include (a header that
includes it), GCC may not use a precompiled header and opens the header of
the same folder instead.

Each header is compiled with the flags meson gave one real compile of its set
(compile_commands.json), and rebuilt when those flags change or any file it
was made from is newer (its make-style .d file, as ninja would), before ninja
runs, so an object is never compiled against an older osdep.h.  The compiles
get -fpch-deps (qemu-build.sh's --extra-cflags): their .d files then still name
osdep.h, config-host.h and the glib headers, so ninja and ccache (depend mode)
see every header an object depends on.  (gcc 12 crashes on -fpch-deps without
a depfile; every compile of meson's has one, and so does the check here.)

Prints one line per header and whether a sample compile of its set uses it.
"""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys

# The target library's objects are the ones meson compiles with -DNEED_CPU_H.
SETS = (
    ("common", "libqemuutil.a.p/"),
    ("target", "libqemu-x86_64-softmmu.fa.p/"),
)


def log(message):
    print(f"qemu-build: {message}", flush=True)


def without_output_args(args):
    """A compile's arguments without its output, depfile, -c and source file."""
    kept, skip = [], False
    for arg in args[:-1]:
        if skip:
            skip = False
        elif arg in ("-o", "-MQ", "-MF"):
            skip = True
        elif arg not in ("-c", "-MD"):
            kept.append(arg)
    return kept


def depfile_inputs(path):
    """The prerequisites a make-style .d file lists (escaped spaces kept)."""
    try:
        with open(path) as depfile:
            text = depfile.read().replace("\\\n", " ")
    except FileNotFoundError:
        return None
    _, _, prerequisites = text.partition(": ")
    names, current = [], ""
    for word in prerequisites.split(" "):
        if word.endswith("\\"):
            current += word[:-1] + " "
            continue
        current += word
        if current.strip():
            names.append(current.strip())
        current = ""
    return names


def is_stale(gch, depfile, stamp, command):
    try:
        built_at = os.stat(gch).st_mtime
        with open(stamp) as recorded:
            if recorded.read() != command:
                return True
    except FileNotFoundError:
        return True
    inputs = depfile_inputs(depfile)
    if not inputs:
        return True
    for name in inputs:
        try:
            if os.stat(name).st_mtime > built_at:
                return True
        except FileNotFoundError:
            return True
    return False


def uses_header(entry, gch):
    """Whether a real compile of the set takes the precompiled header (gcc -H marks it "!")."""
    args = without_output_args(shlex.split(entry["command"]))
    probe = subprocess.run(
        args + ["-H", "-fsyntax-only", "-MD", "-MF", os.devnull, "-Winvalid-pch", entry["file"]],
        capture_output=True,
        text=True,
    )
    marked = any(
        line.startswith("! ") and line.endswith(os.path.basename(gch))
        for line in probe.stderr.splitlines()
    )
    reasons = [line for line in probe.stderr.splitlines() if "Winvalid-pch" in line]
    return marked, reasons


def precompile(name, prefix, entries, header, gch_dir, meta_dir):
    """Make (or keep) the header of one set. Returns the lines to log: the sets are made at once,
    and their lines are printed in SETS order, so the output reads the same every time."""
    lines = []
    # A file already there (a generated one may not be yet): the check below compiles it.
    entry = next(
        (e for e in entries if e["output"].startswith(prefix) and os.path.exists(e["file"])),
        None,
    )
    if entry is None:
        lines.append(f"no compile of {prefix} in compile_commands.json: osdep.h not precompiled for it")
        return lines
    gch = os.path.join(gch_dir, f"{name}.gch")
    depfile = os.path.join(meta_dir, f"{name}.d")
    stamp = os.path.join(meta_dir, f"{name}.command")
    args = without_output_args(shlex.split(entry["command"]))
    command = shlex.join(args)
    if not is_stale(gch, depfile, stamp, command):
        lines.append(f"precompiled qemu/osdep.h ({name}) is up to date")
        return lines
    partial = os.path.join(meta_dir, f"{name}.gch.partial")
    # An out-of-date header must never be used: it goes before the new one is made.
    for old in (gch, stamp):
        if os.path.exists(old):
            os.remove(old)
    made = subprocess.run(
        args + ["-MD", "-MQ", gch, "-MF", depfile, "-x", "c-header", header, "-o", partial]
    )
    if made.returncode != 0:
        lines.append(f"warning: qemu/osdep.h ({name}) did not precompile, the build parses it as before")
        return lines
    os.replace(partial, gch)
    with open(stamp + ".partial", "w") as recorded:
        recorded.write(command)
    os.replace(stamp + ".partial", stamp)
    used, reasons = uses_header(entry, gch)
    if used:
        lines.append(f"precompiled qemu/osdep.h ({name}): {entry['file']} compiles with it")
    else:
        lines.append(f"warning: precompiled qemu/osdep.h ({name}) is not used, the build parses it as before")
        for reason in reasons[:3]:
            lines.append(f"  {reason}")
    return lines


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[2])
    build_dir, source_dir = (os.path.abspath(arg) for arg in sys.argv[1:])
    header = os.path.join(source_dir, "include", "qemu", "osdep.h")
    os.chdir(build_dir)
    with open("compile_commands.json") as commands:
        entries = json.load(commands)
    gch_dir = os.path.join("qemu", "osdep.h.gch")
    # Everything but the headers stays out of gch_dir: GCC would try each file there.
    meta_dir = "qemu-pch"
    os.makedirs(gch_dir, exist_ok=True)
    os.makedirs(meta_dir, exist_ok=True)
    link = os.path.join("qemu", "osdep.h")
    target = os.path.relpath(header, "qemu")
    if not os.path.islink(link) or os.readlink(link) != target:
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(target, link)
    # Both headers at once: nothing else runs before ninja, and each takes a CPU for about 0.3 s.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(SETS)) as pool:
        jobs = [
            pool.submit(precompile, name, prefix, entries, header, gch_dir, meta_dir)
            for name, prefix in SETS
        ]
        for job in jobs:
            for line in job.result():
                log(line)


if __name__ == "__main__":
    main()
