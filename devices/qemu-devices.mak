# The devices compiled into kernelcraft's QEMU: exactly what the milestones start on it.
#
# devices/qemu-build.sh copies this file into the QEMU tree as
# configs/devices/x86_64-softmmu/kernelcraft.mak and configures with
# `--without-default-devices --with-devices-x86_64=kernelcraft`: Kconfig's
# `default y` and the boards' `imply` lines are then ignored, so a device is
# in the binary only when it is listed here or a listed symbol `select`s it
# (hw/*/Kconfig). The file is part of the build's cache key
# (source/lab/build/qemu-build.ts): editing it rebuilds QEMU.
#
# A device missing here makes QEMU stop at start with
#   qemu-system-x86_64: -device xyz: 'xyz' is not a valid device model name
# and kernelcraft shows that line as the step's failure. Add its CONFIG_ line
# (grep `config` in the tree's hw/*/Kconfig) with the milestone that needs it.
# `qemu-build.sh --all-devices` builds QEMU's full default set instead.
#
# Not Kconfig symbols, always built: the null-co block driver (milestone 5,
# tune: -blockdev null-co), raw/file (milestone 3, virtio-blk: -drive
# format=raw), fw_cfg and the linuxboot option ROM path (-kernel/-initrd), QMP,
# HMP and the trace backend (the virtqueue panel).

# Machines. -machine pc and microvm are left out: nothing starts them, and they bring PIIX IDE,
# xHCI USB and virtio-mmio with them (3.5 s of an 87 s cold build, AMD EPYC, 2 CPUs).
CONFIG_Q35=y            # milestones 1-5: -machine q35 (source/lab/vm/qemu-vm.ts); selects LPC_ICH9 (its ISA bus), PCIE (pcie.0), ACPI, FW_CFG_DMA

# PCI Express root ports and hotplug
CONFIG_PCIE_PORT=y      # milestone 4, virtio-hello: -device pcie-root-port, device_del of a device behind it (test/lab/virtio-hello*.test.ts)

# Serial lines
CONFIG_SERIAL_ISA=y     # milestones 1-5: -serial stdio + two chardev sockets = isa-serial ttyS0-2 (console, panel stats, check shell)

# virtio
CONFIG_VIRTIO_PCI=y     # milestones 4-5: the virtio-*-pci transport (virtio-hello-pci, virtio-blk-pci)
CONFIG_VIRTIO_BLK=y     # milestone 5, tune: virtio-blk-pci on null-co, the production peer (milestone 3 runs it too)
CONFIG_VIRTIO_HELLO=y   # milestones 4-5: kernelcraft's device (devices/virtio-hello/)
