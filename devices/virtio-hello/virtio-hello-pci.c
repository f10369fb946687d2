/*
 * virtio-hello PCI bindings
 *
 * A modern-only (VIRTIO_F_VERSION_1) virtio-pci device: PCI vendor 0x1af4,
 * device 0x1040 + VIRTIO_ID_HELLO.  The device's statistics are aliased
 * here so "qom-get <id> requests" works on the -device id directly.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or
 * (at your option) any later version.  See the COPYING file in the
 * top-level directory.
 */

#include "qemu/osdep.h"

#include "hw/virtio/virtio-pci.h"
#include "hw/virtio/virtio-hello.h"
#include "hw/qdev-properties.h"
#include "qapi/error.h"
#include "qemu/module.h"
#include "qom/object.h"

typedef struct VirtIOHelloPCI VirtIOHelloPCI;

/*
 * virtio-hello-pci: This extends VirtioPCIProxy.
 */
#define TYPE_VIRTIO_HELLO_PCI "virtio-hello-pci-base"
DECLARE_INSTANCE_CHECKER(VirtIOHelloPCI, VIRTIO_HELLO_PCI,
                         TYPE_VIRTIO_HELLO_PCI)

struct VirtIOHelloPCI {
    VirtIOPCIProxy parent_obj;
    VirtIOHello vdev;
};

static const char *const virtio_hello_pci_aliases[] = {
    "requests", "errors", "bytes-in", "bytes-out", "kicks", "resets", "stall",
};

static Property virtio_hello_pci_properties[] = {
    DEFINE_PROP_BIT("ioeventfd", VirtIOPCIProxy, flags,
                    VIRTIO_PCI_FLAG_USE_IOEVENTFD_BIT, true),
    DEFINE_PROP_UINT32("vectors", VirtIOPCIProxy, nvectors,
                       DEV_NVECTORS_UNSPECIFIED),
    DEFINE_PROP_END_OF_LIST(),
};

static void virtio_hello_pci_realize(VirtIOPCIProxy *vpci_dev, Error **errp)
{
    VirtIOHelloPCI *dev = VIRTIO_HELLO_PCI(vpci_dev);
    DeviceState *vdev = DEVICE(&dev->vdev);

    if (vpci_dev->nvectors == DEV_NVECTORS_UNSPECIFIED) {
        vpci_dev->nvectors = 2;         /* config changes + request queue */
    }
    virtio_pci_force_virtio_1(vpci_dev);
    qdev_realize(vdev, BUS(&vpci_dev->bus), errp);
}

static void virtio_hello_pci_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioPCIClass *k = VIRTIO_PCI_CLASS(klass);
    PCIDeviceClass *pcidev_k = PCI_DEVICE_CLASS(klass);

    k->realize = virtio_hello_pci_realize;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    pcidev_k->vendor_id = PCI_VENDOR_ID_REDHAT_QUMRANET;
    pcidev_k->device_id = 0;    /* set by virtio-pci: 0x1040 + virtio id */
    pcidev_k->revision = 0x01;  /* modern virtio-pci */
    pcidev_k->class_id = PCI_CLASS_OTHERS;
    device_class_set_props(dc, virtio_hello_pci_properties);
}

static void virtio_hello_pci_instance_init(Object *obj)
{
    VirtIOHelloPCI *dev = VIRTIO_HELLO_PCI(obj);
    size_t i;

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->vdev),
                                TYPE_VIRTIO_HELLO);
    for (i = 0; i < ARRAY_SIZE(virtio_hello_pci_aliases); i++) {
        object_property_add_alias(obj, virtio_hello_pci_aliases[i],
                                  OBJECT(&dev->vdev),
                                  virtio_hello_pci_aliases[i]);
    }
}

static const VirtioPCIDeviceTypeInfo virtio_hello_pci_info = {
    .base_name     = TYPE_VIRTIO_HELLO_PCI,
    .generic_name  = "virtio-hello-pci",
    .instance_size = sizeof(VirtIOHelloPCI),
    .instance_init = virtio_hello_pci_instance_init,
    .class_init    = virtio_hello_pci_class_init,
};

static void virtio_hello_pci_register(void)
{
    virtio_pci_types_register(&virtio_hello_pci_info);
}

type_init(virtio_hello_pci_register)
