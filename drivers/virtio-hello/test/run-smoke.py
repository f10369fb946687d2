#!/usr/bin/env python3
"""Boot a guest with two virtio-hello devices, run guest-smoke.sh, hot-unplug
one device (QMP device_del) while requests are in flight, report PASS/FAIL.

usage: run-smoke.py QEMU KERNEL_BUILD_DIR [QEMU_EXTRA_ARGS...]
  QEMU              qemu-system-x86_64 built by devices/qemu-build.sh
  KERNEL_BUILD_DIR  has arch/x86/boot/bzImage and usr/gen_init_cpio
The driver (virtio_hello.ko) and client/hello-client must be built.
"""
import json, os, socket, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
drv = os.path.dirname(here)


def qmp_cmd(path, cmd):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    f = s.makefile('rw')
    json.loads(f.readline())
    res = None
    for c in [{"execute": "qmp_capabilities"}, cmd]:
        f.write(json.dumps(c) + "\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if 'event' not in r:
                res = r
                break
    s.close()
    return res


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    qemu, kdir = sys.argv[1], sys.argv[2]
    extra = sys.argv[3:]
    tmp = tempfile.mkdtemp(prefix='vh-smoke-')
    lst = os.path.join(tmp, 'list')
    with open(lst, 'w') as f:
        f.write("""dir /bin 755 0 0
dir /dev 755 0 0
dir /proc 755 0 0
dir /sys 755 0 0
dir /tmp 755 0 0
dir /lib 755 0 0
dir /lib/modules 755 0 0
nod /dev/console 600 0 0 c 5 1
file /bin/busybox /bin/busybox 755 0 0
file /init %s 755 0 0
file /lib/modules/virtio_hello.ko %s 644 0 0
file /bin/hello-client %s 755 0 0
""" % (os.path.join(here, 'guest-smoke.sh'), os.path.join(drv, 'virtio_hello.ko'),
       os.path.join(drv, 'client', 'hello-client')))
    initrd = os.path.join(tmp, 'initramfs.cpio')
    with open(initrd, 'wb') as out:
        subprocess.check_call([os.path.join(kdir, 'usr', 'gen_init_cpio'), lst], stdout=out)
    qmp = os.path.join(tmp, 'qmp.sock')
    args = [qemu, '-L', '/usr/share/qemu', '-L', '/usr/share/seabios', '-nic', 'none',
            '-M', 'q35', '-m', '512', '-smp', '2', '-display', 'none', '-no-reboot',
            '-serial', 'stdio', '-monitor', 'none',
            '-qmp', 'unix:%s,server=on,wait=off' % qmp,
            '-kernel', os.path.join(kdir, 'arch/x86/boot/bzImage'), '-initrd', initrd,
            '-append', 'console=ttyS0 panic=-1 loglevel=6',
            '-device', 'virtio-hello-pci,id=hello0,greeting=kernelcraft',
            # native PCIe hotplug (pciehp): the guest kernel has no ACPI
            '-global', 'ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off',
            '-device', 'pcie-root-port,id=rp1,slot=1,chassis=1',
            '-device', 'virtio-hello-pci,id=hello1,bus=rp1,greeting=hotplug'] + extra
    t0 = time.time()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    result = 'FAIL (no result)'
    for line in p.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.startswith('KC-READY-UNPLUG'):
            for dev in ('hello0', 'hello1'):
                for prop in ('requests', 'errors', 'bytes-in', 'bytes-out', 'kicks', 'resets'):
                    r = qmp_cmd(qmp, {"execute": "qom-get",
                                      "arguments": {"path": dev, "property": prop}})
                    print("host: qom-get %s %s = %s" % (dev, prop, r.get('return')))
            # a hung device: the guest's requests stay in flight until the unplug
            r = qmp_cmd(qmp, {"execute": "qom-set",
                              "arguments": {"path": "hello1", "property": "stall", "value": True}})
            print("host: qom-set hello1 stall true -> %s" % r)
            r = qmp_cmd(qmp, {"execute": "device_del", "arguments": {"id": "hello1"}})
            print("host: device_del hello1 -> %s" % r)
        if line.startswith('KC-RESULT:'):
            result = line.split(':', 1)[1].strip()
        if time.time() - t0 > 600:
            p.kill()
            result = 'FAIL (timeout)'
            break
    p.wait()
    print("host: qemu exited %d after %.1f s; result %s" % (p.returncode, time.time() - t0, result))
    return 0 if result == 'PASS' and p.returncode == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
