// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-hello: statistics in /sys/bus/virtio/devices/virtioN/stats/, one
 * counter per file, read under vh->lock so each value is whole.
 */

#include <linux/device.h>
#include <linux/sysfs.h>
#include <linux/virtio.h>

#include "virtio_hello_drv.h"

const char * const vh_state_names[] = {
	[VH_LIVE] = "live",
	[VH_NEEDS_RESET] = "needs-reset",
	[VH_RESETTING] = "resetting",
	[VH_DEAD] = "dead",
	[VH_GONE] = "gone",
};

#define VH_STAT_ATTR(field)						\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct virtio_hello *vh = dev_to_virtio(dev)->priv;		\
	u64 v;								\
									\
	spin_lock_irq(&vh->lock);					\
	v = vh->stats.field;						\
	spin_unlock_irq(&vh->lock);					\
	return sysfs_emit(buf, "%llu\n", v);				\
}									\
static DEVICE_ATTR_RO(field)

VH_STAT_ATTR(requests);
VH_STAT_ATTR(completed);
VH_STAT_ATTR(errors);
VH_STAT_ATTR(bytes_out);
VH_STAT_ATTR(bytes_in);
VH_STAT_ATTR(kicks);
VH_STAT_ATTR(interrupts);
VH_STAT_ATTR(resets);

static ssize_t inflight_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct virtio_hello *vh = dev_to_virtio(dev)->priv;
	unsigned int v;

	spin_lock_irq(&vh->lock);
	v = vh->inflight;
	spin_unlock_irq(&vh->lock);
	return sysfs_emit(buf, "%u\n", v);
}
static DEVICE_ATTR_RO(inflight);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct virtio_hello *vh = dev_to_virtio(dev)->priv;

	return sysfs_emit(buf, "%s\n", vh_state_names[READ_ONCE(vh->state)]);
}
static DEVICE_ATTR_RO(state);

static struct attribute *vh_stats_attrs[] = {
	&dev_attr_requests.attr,
	&dev_attr_completed.attr,
	&dev_attr_errors.attr,
	&dev_attr_bytes_out.attr,
	&dev_attr_bytes_in.attr,
	&dev_attr_kicks.attr,
	&dev_attr_interrupts.attr,
	&dev_attr_resets.attr,
	&dev_attr_inflight.attr,
	&dev_attr_state.attr,
	NULL,
};

static const struct attribute_group vh_stats_group = {
	.name = "stats",
	.attrs = vh_stats_attrs,
};

const struct attribute_group *vh_groups[] = {
	&vh_stats_group,
	NULL,
};
