#!/usr/bin/env bash
# Build Debian's QEMU 7.2 with kernelcraft's virtio-hello device added.
#
# Usage: devices/qemu-build.sh [options] WORK_DIR SOURCE_DIR
#
#   WORK_DIR    where the build happens: WORK_DIR/build/ is the meson/ninja
#               build dir, WORK_DIR/build/qemu-system-x86_64 the result
#   SOURCE_DIR  an unpacked QEMU 7.2.x tree (from `dpkg-source -x`, or
#               `apt-get source qemu`); the device files are applied to it
#
# Options:
#   --no-build      apply the device and configure, but do not run ninja
#   --all-devices   QEMU's full default device set (Kconfig defaults) instead
#                   of devices/qemu-devices.mak
#   --debug-info    compile with -g (for gdb on QEMU); off by default: nothing
#                   in kernelcraft reads it, and it costs build time and 40 MB.
#                   `--all-devices --debug-info` is the build before the device
#                   list existed (npm run bench -- --only-qemu-build compares)
#   --no-pch        do not precompile qemu/osdep.h (devices/qemu-pch.py): the
#                   build as it was before; the bench's earlier variants use it
#   --no-unity      generate and compile QEMU's trace and QAPI sources as QEMU
#                   does (two tracetool runs and one compile per trace group,
#                   one compile per QAPI file) instead of one tracetool run for
#                   all and a few unity files (devices/qemu-7.2-unity.patch);
#                   the bench's earlier variants use it
#   --stock-configure  configure as QEMU's own scripts do: try each warning
#                   flag on an Objective-C compiler too (54 compile-and-link
#                   runs instead of 27), look for a test-only library through
#                   CMake, start meson again after configure
#                   (devices/qemu-7.2-configure.patch); about 2 s in all, and
#                   no file of the build differs. The bench's earlier variants
#                   use it
#   --plain-cflags  compile without -pipe and -ftrack-macro-expansion=0 (see
#                   section 5; the objects are the same bytes either way); the
#                   bench's earlier variants use it
#   -j N            ninja parallelism (default: number of CPUs)
#   --device-dir D  take the device's files from D instead of
#                   devices/virtio-hello (a learner's exercise copy, with the
#                   same file names); the ABI header stays the repository's
#
# Steps, each skipped when already done (re-running is cheap):
#   - check the tree's VERSION (7.2.x is supported)
#   - apply devices/virtio-hello: copy files (only if changed, so ninja
#      rebuilds only what changed), patch hw/virtio/meson.build + Kconfig
#   - copy devices/qemu-devices.mak (the device list) into the tree as
#      configs/devices/x86_64-softmmu/kernelcraft.mak
#   - patch trace/ and qapi/meson.build (devices/qemu-7.2-unity.patch), or
#      back it out with --no-unity; the same for devices/qemu-7.2-configure.patch
#      and --stock-configure
#   - configure (once; again only if the configure line changed)
#   - precompile qemu/osdep.h (devices/qemu-pch.py; again only when its flags
#     or the files it is made from changed)
#   - ninja qemu-system-x86_64 (normal "[n/m]" output is kept)
#
# It changes nothing outside WORK_DIR and SOURCE_DIR: fetching Debian's
# source (and the apt deb-src entry that needs) is `kernelcraft setup`'s job.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEV_DIR="$SCRIPT_DIR/virtio-hello"
ABI_HEADER="$SCRIPT_DIR/virtio-hello/include/virtio_hello.h"
SUPPORTED_SERIES="7.2"

no_build=0
all_devices=0
debug_info=0
pch=1
unity=1
stock_configure=0
fast_cflags=1
jobs=$(nproc 2>/dev/null || echo 2)
args=()
while [ $# -gt 0 ]; do
    case "$1" in
    --no-build) no_build=1 ;;
    --all-devices) all_devices=1 ;;
    --debug-info) debug_info=1 ;;
    --no-pch) pch=0 ;;
    --no-unity) unity=0 ;;
    --stock-configure) stock_configure=1 ;;
    --plain-cflags) fast_cflags=0 ;;
    -j) shift; jobs="$1" ;;
    --device-dir) shift; DEV_DIR=$(cd "$1" && pwd) ;;
    -j*) jobs="${1#-j}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    -*) echo "qemu-build: unknown option $1" >&2; exit 2 ;;
    *) args+=("$1") ;;
    esac
    shift
done
if [ ${#args[@]} -ne 2 ]; then
    echo "usage: $0 [--no-build] [--all-devices] [--debug-info] [--no-pch] [--no-unity] [--stock-configure] [--plain-cflags] [--device-dir DIR] [-j N] WORK_DIR SOURCE_DIR" >&2
    exit 2
fi

mkdir -p "${args[0]}"
WORK_DIR=$(cd "${args[0]}" && pwd)
BUILD_DIR="$WORK_DIR/build"

log() { echo "qemu-build: $*"; }
die() { echo "qemu-build: error: $*" >&2; exit 1; }

SRC_DIR=$(cd "${args[1]}" && pwd)

# ---------------------------------------------------------------- 2. version
[ -f "$SRC_DIR/VERSION" ] || die "$SRC_DIR has no VERSION file: not a QEMU tree"
VERSION=$(tr -d '[:space:]' <"$SRC_DIR/VERSION")
case "$VERSION" in
"$SUPPORTED_SERIES".*) log "QEMU $VERSION in $SRC_DIR (supported)" ;;
*) die "QEMU $VERSION in $SRC_DIR is not supported: virtio-hello targets QEMU $SUPPORTED_SERIES.x (Debian bookworm)" ;;
esac
[ -f "$SRC_DIR/hw/virtio/virtio-rng.c" ] || die "$SRC_DIR/hw/virtio/virtio-rng.c missing: incomplete tree"

# ---------------------------------------------------------------- 3. apply
# Copy only when the content differs: keeps mtimes so ninja rebuilds only what
# actually changed.
copy_if_changed() {
    local src="$1" dst="$2"
    if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
        return
    fi
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst"
    log "updated ${dst#"$SRC_DIR"/}"
}

# append LINE to FILE unless an identical line is already there
add_line() {
    local file="$1" line="$2"
    grep -qxF -- "$line" "$file" || { printf '%s\n' "$line" >>"$file"; log "patched ${file#"$SRC_DIR"/}"; }
}

[ -f "$DEV_DIR/virtio-hello.c" ] || die "$DEV_DIR/virtio-hello.c missing"
command -v patch >/dev/null || die "patch missing: apt-get install patch"
copy_if_changed "$ABI_HEADER" "$SRC_DIR/include/standard-headers/linux/virtio_hello.h"
copy_if_changed "$DEV_DIR/virtio-hello.h" "$SRC_DIR/include/hw/virtio/virtio-hello.h"
copy_if_changed "$DEV_DIR/virtio-hello.c" "$SRC_DIR/hw/virtio/virtio-hello.c"
copy_if_changed "$DEV_DIR/virtio-hello-pci.c" "$SRC_DIR/hw/virtio/virtio-hello-pci.c"

patch_q() { patch -d "$SRC_DIR" -p1 -s -f --no-backup-if-mismatch "$@"; }

# tree_patch NAME PATCH WANT: PATCH applied to the tree (WANT=1) or not (WANT=0). The tree keeps a
# copy of the version it has applied (.kernelcraft-NAME.patch), so a newer version, or WANT=0,
# backs that one out first.
tree_patch() {
    local name="$1" new="$2" want="$3" applied="$SRC_DIR/.kernelcraft-$1.patch"
    if [ -f "$applied" ] && { [ "$want" -eq 0 ] || ! cmp -s "$applied" "$new"; }; then
        patch_q -R --dry-run <"$applied" >/dev/null 2>&1 ||
            die "$SRC_DIR: the $name patch applied earlier does not back out; start from a fresh tree"
        patch_q -R <"$applied"
        rm -f "$applied"
        log "backed out the $name patch"
    fi
    if [ "$want" -eq 1 ] && [ ! -f "$applied" ]; then
        patch_q --dry-run <"$new" >/dev/null 2>&1 || die "$new does not apply to $SRC_DIR"
        patch_q <"$new"
        cp "$new" "$applied"
        log "applied the $name patch"
    fi
}

# The core patch (hw/virtio/virtio.c, virtio-pci.c, virtio-mmio.c, virtio.h):
# the device's name (virtio_init() asserts one exists) and its feature names
# for x-query-virtio-status (which would otherwise hit g_assert_not_reached()
# for an unknown device ID), plus fixes to the core a guest or a query could
# trip (see the comments in the patch).  The tree keeps a copy of the version
# it has applied, so a newer version replaces it: back out the old one, apply
# the new one.
core_patch="$DEV_DIR/qemu-7.2-virtio-core.patch"
core_applied="$SRC_DIR/.kernelcraft-core.patch"
if [ -f "$core_applied" ] && cmp -s "$core_applied" "$core_patch"; then
    :   # this version is applied
elif [ ! -f "$core_applied" ] && patch_q -R --dry-run <"$core_patch" >/dev/null 2>&1; then
    cp "$core_patch" "$core_applied"        # applied before copies were kept
else
    if [ -f "$core_applied" ]; then
        patch_q -R --dry-run <"$core_applied" >/dev/null 2>&1 ||
            die "$SRC_DIR: the core patch applied earlier does not back out; start from a fresh tree"
        patch_q -R <"$core_applied"
        rm -f "$core_applied"
        log "backed out the earlier core patch"
    elif ! patch_q --dry-run <"$core_patch" >/dev/null 2>&1; then
        # A tree patched before copies were kept, with an older version whose
        # hunks the current one still has: back out those that are there.
        patch_q -R -r - <"$core_patch" >/dev/null 2>&1 || true
        log "backed out an earlier core patch"
    fi
    patch_q --dry-run <"$core_patch" >/dev/null 2>&1 ||
        die "$core_patch does not apply to $SRC_DIR"
    patch_q <"$core_patch"
    cp "$core_patch" "$core_applied"
    log "patched the virtio core (hw/virtio/virtio.c, virtio-pci.c, virtio-mmio.c)"
fi

# trace/ and qapi/meson.build: one tracetool process for every trace group, and the generated
# sources compiled as a few unity files (devices/qemu-trace-batch.py and kernelcraft_unity.py say
# why); --no-unity builds them as QEMU does. A change to the patch re-runs meson by itself.
copy_if_changed "$SCRIPT_DIR/qemu-trace-batch.py" "$SRC_DIR/scripts/kernelcraft-trace-batch.py"
copy_if_changed "$SCRIPT_DIR/kernelcraft_unity.py" "$SRC_DIR/scripts/kernelcraft_unity.py"
tree_patch unity "$SCRIPT_DIR/qemu-7.2-unity.patch" "$unity"

# tests/qtest/meson.build and scripts/symlink-install-tree.py: configure without a CMake lookup and a
# second meson start that a kernelcraft build never needs (the patch says why); --stock-configure
# keeps QEMU's.
tree_patch configure "$SCRIPT_DIR/qemu-7.2-configure.patch" "$((1 - stock_configure))"

# hw/virtio/trace-events: devices/virtio-hello/trace-events, as one marked
# block replaced whole (an event whose format changed must not appear twice);
# rewritten only when it changes, so ninja regenerates the trace headers only
# then.
trace_file="$SRC_DIR/hw/virtio/trace-events"
trace_begin="# >>> virtio-hello (kernelcraft devices/virtio-hello/trace-events)"
trace_end="# <<< virtio-hello"
trace_new=$(mktemp)
awk -v b="$trace_begin" -v e="$trace_end" '$0 == b {skip = 1} !skip {print} $0 == e {skip = 0}' \
    "$trace_file" >"$trace_new"
{ echo "$trace_begin"; cat "$DEV_DIR/trace-events"; echo "$trace_end"; } >>"$trace_new"
if cmp -s "$trace_new" "$trace_file"; then
    rm -f "$trace_new"
else
    cat "$trace_new" >"$trace_file"
    rm -f "$trace_new"
    log "patched hw/virtio/trace-events"
fi

# hw/virtio/meson.build: the lines in devices/virtio-hello/meson.build
while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    add_line "$SRC_DIR/hw/virtio/meson.build" "$line"
done <"$DEV_DIR/meson.build"

# hw/virtio/Kconfig: the stanza in devices/virtio-hello/Kconfig, once
if ! grep -qx 'config VIRTIO_HELLO' "$SRC_DIR/hw/virtio/Kconfig"; then
    { echo; cat "$DEV_DIR/Kconfig"; } >>"$SRC_DIR/hw/virtio/Kconfig"
    log "patched hw/virtio/Kconfig"
fi

# ---------------------------------------------------------------- 4. devices
# devices/qemu-devices.mak lists every device the milestones start (one
# comment each says which); configure only takes a name under
# configs/devices/x86_64-softmmu/, so it goes into the tree. A change to it
# makes ninja re-run meson (the file is an input of config-devices.mak).
DEVICES_MAK="$SCRIPT_DIR/qemu-devices.mak"
[ -f "$DEVICES_MAK" ] || die "$DEVICES_MAK missing"
copy_if_changed "$DEVICES_MAK" "$SRC_DIR/configs/devices/x86_64-softmmu/kernelcraft.mak"
if [ "$all_devices" -eq 1 ]; then
    DEVICE_ARGS=()      # Kconfig defaults: every device QEMU builds for x86_64 by default
else
    DEVICE_ARGS=(--without-default-devices --with-devices-x86_64=kernelcraft)
fi
# -g changes no generated code (the tune milestone's figures stay comparable).
if [ "$debug_info" -eq 1 ]; then DEBUG_ARGS=(--enable-debug-info); else DEBUG_ARGS=(--disable-debug-info); fi
# With the precompiled osdep.h (section 6): -fpch-deps keeps the headers it was made from in each
# object's .d file (ninja's and ccache's view of what an object depends on); -Wno-invalid-pch
# because GCC tries both headers of qemu/osdep.h.gch/ and one of them never fits.
#
# Two flags that change no byte of any object (checked on every object of a build) and make each
# compile cheaper, 5-10 % of a compile's time measured on QEMU's own files:
#   -pipe: cc1 hands its assembly to `as` through a pipe, not a temporary file;
#   -ftrack-macro-expansion=0: GCC does not keep, for every token, the chain of macros it came
#     from. That chain only serves diagnostics: an error inside a macro (DEFINE_PROP_UINT16 with a
#     field of the wrong type) is then reported at the line that uses the macro, without the
#     "in expansion of macro" notes that lead into QEMU's headers.
EXTRA_CFLAGS=()
[ "$pch" -eq 1 ] && EXTRA_CFLAGS+=(-fpch-deps -Wno-invalid-pch)
[ "$fast_cflags" -eq 1 ] && EXTRA_CFLAGS+=(-pipe -ftrack-macro-expansion=0)
CFLAG_ARGS=()
[ ${#EXTRA_CFLAGS[@]} -gt 0 ] && CFLAG_ARGS=("--extra-cflags=${EXTRA_CFLAGS[*]}")

# QEMU's configure tries each of its ~27 warning flags on the C compiler and on an Objective-C
# one: 54 compile-and-link runs in a row. Objective-C is only compiled on macOS (meson.build adds the
# language there alone), so `--objcc=` (none) spares half of them and changes no file of the build
# (config-host.h, config-host.mak and build.ninja are the same; only config-meson.cross loses its
# objc lines).
OBJC_ARGS=()
[ "$stock_configure" -eq 0 ] && OBJC_ARGS=(--objcc=)

# ---------------------------------------------------------------- 5. configure
CONFIGURE_ARGS=(
    --target-list=x86_64-softmmu
    ${DEVICE_ARGS[@]+"${DEVICE_ARGS[@]}"}
    "${DEBUG_ARGS[@]}"
    ${CFLAG_ARGS[@]+"${CFLAG_ARGS[@]}"}
    ${OBJC_ARGS[@]+"${OBJC_ARGS[@]}"}
    --without-default-features
    --enable-kvm --enable-tcg
    --enable-fdt=system
    --disable-docs --disable-werror --disable-install-blobs
    --meson=/usr/bin/meson
)
stamp="$BUILD_DIR/.kernelcraft-configure"
want="$SRC_DIR ${CONFIGURE_ARGS[*]}"
if [ ! -f "$BUILD_DIR/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "configure in $BUILD_DIR"
    mkdir -p "$BUILD_DIR"
    (cd "$BUILD_DIR" && "$SRC_DIR/configure" "${CONFIGURE_ARGS[@]}")
    echo "$want" >"$stamp"
else
    log "already configured: $BUILD_DIR"
fi
[ "$no_build" -eq 1 ] && exit 0

# ---------------------------------------------------------------- 6. precompiled osdep.h
# Before ninja, so no object is compiled against an older one. build.ninja first (a meson.build the
# patch changed re-runs meson, and with it compile_commands.json), and config-poison.h, the one
# generated header osdep.h includes that configure does not write. Its "[n/m]" lines are prefixed:
# kernelcraft reads them as the build's progress.
if [ "$pch" -eq 1 ]; then
    command -v python3 >/dev/null || die "python3 missing (meson needs it too): apt-get install python3"
    ninja -C "$BUILD_DIR" build.ninja config-poison.h 2>&1 | sed 's/^/qemu-build: pre-step: /'
    python3 "$SCRIPT_DIR/qemu-pch.py" "$BUILD_DIR" "$SRC_DIR"
else
    rm -rf "$BUILD_DIR/qemu/osdep.h.gch" "$BUILD_DIR/qemu-pch"
fi

# ---------------------------------------------------------------- 7. build
# meson.build/Kconfig edits make ninja re-run meson by itself.
# A learner's device (--device-dir) may not compile yet: -k 0 compiles the rest of QEMU all the
# same, so once it does, that is all there is left to build.
keep_going=()
[ "$DEV_DIR" != "$SCRIPT_DIR/virtio-hello" ] && keep_going=(-k 0)
log "ninja -j$jobs ${keep_going[*]+${keep_going[*]} }qemu-system-x86_64"
ninja -C "$BUILD_DIR" -j"$jobs" ${keep_going[@]+"${keep_going[@]}"} qemu-system-x86_64
QEMU="$BUILD_DIR/qemu-system-x86_64"
# What the milestones start, asked of the binary itself (a device list that
# lost a line fails here, not halfway through a milestone). `-device X,help`
# exits 0 even for a device it does not have: read the list instead.
devices=$("$QEMU" -device help 2>&1)
grep -qF 'name "virtio-hello-pci"' <<<"$devices" ||
    die "built binary does not know -device virtio-hello-pci"
for dev in virtio-blk-pci pcie-root-port isa-serial; do
    grep -qF "name \"$dev\"" <<<"$devices" || die "built binary does not know -device $dev: see $DEVICES_MAK"
done
machines=$("$QEMU" -machine help 2>&1)
for machine in q35; do
    grep -q "^$machine " <<<"$machines" || die "built binary has no -machine $machine: see $DEVICES_MAK"
done
"$QEMU" -nodefaults -machine none -display none -drive format=help 2>&1 | grep -qw null-co || die "built binary has no null-co block driver"
log "done: $BUILD_DIR/qemu-system-x86_64"
