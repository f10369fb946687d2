#!/bin/busybox sh
# PID 1 of the virtio-hello smoke test guest (packed by run-smoke.py).
# Prints KC-* markers the host side waits for.
/bin/busybox --install -s /bin
export PATH=/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

fail=0
step() {
	echo "KC-STEP: $*"
	"$@" || { echo "KC-FAIL: $*"; fail=1; }
}

step insmod /lib/modules/virtio_hello.ko allow_raw=1
dmesg | grep -i virtio_hello
ls -l /dev/virtio-hello*
step hello-client info
step hello-client greet Alice
echo Bob > /dev/virtio-hello0 && cat /dev/virtio-hello0
step hello-client echo 1M 5
step hello-client echo 4097 3
step hello-client echo 1 1
step hello-client crc 1M
step hello-client nop 200
step hello-client batch 16 50
for d in /dev/virtio-hello*; do step hello-client -d "$d" greet "$d"; done
step hello-client stress 4 20 64K
step hello-client bad all
for f in /sys/bus/virtio/devices/virtio*/stats; do
	echo "$f:"; (cd "$f" && grep . *)
done

# Hot-unplug while requests are in flight: the device behind the PCIe root
# port (0000:01:00.0) is removed by the host with QMP device_del.
hp=
for m in /sys/bus/pci/devices/0000:01:00.0/virtio*/misc/virtio-hello*; do
	[ -e "$m" ] && hp=$(basename "$m")
done
if [ -z "$hp" ]; then
	echo "KC-FAIL: no virtio-hello device behind the root port"
	fail=1
else
	hello-client -d /dev/$hp stress 4 1000000 256K &
	pid=$!
	sleep 1
	echo "KC-READY-UNPLUG $hp"
	sleep 2
	n=$(cat /sys/bus/pci/devices/0000:01:00.0/virtio*/stats/inflight)
	echo "in flight on $hp after the host stalled it: $n"
	[ "$n" -gt 0 ] || { echo "KC-FAIL: nothing in flight"; fail=1; }
	i=0
	while [ -e /dev/$hp ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	[ -e /dev/$hp ] && { echo "KC-FAIL: /dev/$hp still there"; fail=1; }
	wait $pid
	rc=$?
	echo "stress after unplug exited $rc (3 = ENODEV seen)"
	[ $rc -eq 3 ] || { echo "KC-FAIL: stress rc $rc"; fail=1; }
	dmesg | grep -E "virtio_hello|pciehp" | tail -4
	# the other device must still work
	step hello-client greet after-unplug
fi

step rmmod virtio_hello
dmesg | grep -iE "BUG|WARNING|Oops|leak" && fail=1
[ $fail -eq 0 ] && echo "KC-RESULT: PASS" || echo "KC-RESULT: FAIL"
reboot -f
