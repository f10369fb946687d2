#!/usr/bin/env python3
"""Write every trace group's trace-GROUP.h and trace-GROUP.c in one process.

QEMU's build runs scripts/tracetool.py once per output: two Python processes
for each of the ~120 trace groups (one per folder with a trace-events file,
one per QAPI module), about 25 ms each, 6 s of a 2-CPU build's step time for
0.6 s of actual generating.  qemu-build.sh copies this file into the QEMU tree
as scripts/kernelcraft-trace-batch.py, and its patch to trace/meson.build runs
it once, as one ninja step with all of those outputs.  The text it writes is
tracetool's own, byte for byte: the same functions with the same arguments
(test/devices/qemu-unity.test.ts compares).

It also writes UNITY files trace-unity-K.c that #include the groups' .c files
(scripts/kernelcraft_unity.py), so the build compiles a few files instead of
~120 tiny ones.  Every name a trace-GROUP.c defines carries its group's name,
so the files cannot clash.

An output whose text is unchanged is left alone (ninja's restat then spares
everything that includes it): a change to one folder's trace-events rebuilds
only the files that include that folder's header.

Usage: kernelcraft-trace-batch.py --backends=B[,B] --groups=G1,G2,... \\
           --unity=N OUTDIR EVENTS_FILE_1 EVENTS_FILE_2 ...
The events files are in the order of --groups (meson's @INPUT@).
"""
import getopt
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tracetool  # noqa: E402 (the tree's scripts/tracetool/, found through the line above)
from kernelcraft_unity import part, unity_text, write_if_changed  # noqa: E402 (the same folder)


def generate(events, group, fmt, backends, out_name):
    """tracetool.generate() for one output, returned as text.

    out_name is the path tracetool would have been given on its command line:
    it lands in the #line directives of the header.
    """
    tracetool.out_lineno = 1  # a fresh tracetool process starts at line 1
    tracetool.out_filename = out_name
    tracetool.out_fobj = io.StringIO()
    try:
        tracetool.generate(events, group, fmt, backends)
        return tracetool.out_fobj.getvalue()
    finally:
        tracetool.out_fobj = sys.stdout


def read_events(events_file, me):
    """tracetool.read_events(), or exit naming the file and line it could not read."""
    try:
        with open(events_file, encoding="utf-8") as f:
            return tracetool.read_events(f, events_file)
    except ValueError as e:
        sys.exit("%s: %s" % (me, e))  # tracetool's "Error at FILE:LINE: ..."
    except OSError as e:
        sys.exit("%s: %s: %s" % (me, events_file, e.strerror))
    except AssertionError:
        # tracetool asserts on a line its pattern does not match: find that line
        with open(events_file, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                try:
                    tracetool.Event.build(line, lineno, events_file)
                except (AssertionError, ValueError):
                    sys.exit("%s: Error at %s:%d: not a trace event: %s"
                             % (me, events_file, lineno, line.strip()))
        raise


def main(argv):
    opts, args = getopt.getopt(argv[1:], "", ["backends=", "groups=", "unity="])
    opts = dict(opts)
    backends = [b for b in opts.get("--backends", "").split(",") if b]
    groups = [g for g in opts.get("--groups", "").split(",") if g]
    units = int(opts.get("--unity", "0"))
    if not backends or not groups or len(args) != len(groups) + 1:
        sys.exit("usage: %s --backends=B --groups=G1,G2,... --unity=N OUTDIR "
                 "EVENTS_FILE... (one events file per group)" % argv[0])
    for backend in backends:
        if backend in ("ust", "dtrace"):
            sys.exit("%s: the %s backend writes more than .h and .c files; "
                     "build without the batch" % (argv[0], backend))
    outdir, event_files = args[0], args[1:]

    c_names = []
    for group, events_file in zip(groups, event_files):
        events = read_events(events_file, argv[0])
        for fmt in ("h", "c"):
            name = "trace-%s.%s" % (group, fmt)
            path = os.path.join(outdir, name)
            try:
                text = generate(events, group, fmt, backends, path)
            except tracetool.TracetoolError as e:
                sys.exit("%s: %s: %s" % (argv[0], events_file, e))
            write_if_changed(path, text)
        c_names.append("trace-%s.c" % group)

    for k in range(units):
        write_if_changed(os.path.join(outdir, "trace-unity-%d.c" % k),
                         unity_text(part(c_names, k, units), os.path.basename(argv[0])))


if __name__ == "__main__":
    main(sys.argv)
