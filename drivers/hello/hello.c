// SPDX-License-Identifier: GPL-2.0
/*
 * hello - the expedition's first kernel module.
 *
 * Loading it runs hello_init(), unloading it runs hello_exit(): both are called by the
 * kernel's module loader (kernel/module/main.c: do_init_module() and the delete_module
 * system call), in process context, on behalf of insmod and rmmod.
 *
 * It is also the reference solution of the hello exercise (source/expedition/exercises.ts): the
 * learner's copy is this file with each marked region replaced by the text of its TODO.
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

/*
 * Module parameters are set on the insmod command line (insmod hello.ko whom=Ada) and,
 * with a non-zero permission, appear under /sys/module/hello/parameters/.
 */
static char *whom = "world";
module_param(whom, charp, 0444);
MODULE_PARM_DESC(whom, "Whom to greet on load and bid farewell on unload");

static int times = 1;
/* exercise hello TODO 1 */
module_param(times, int, 0644);
MODULE_PARM_DESC(times, "How many times to greet (1-10); writable at run time in sysfs");
/* end exercise hello TODO 1 */

static int __init hello_init(void)
{
	int i;

	if (times < 1 || times > 10) {
		pr_err("hello: times=%d is out of range (1-10)\n", times);
		/* A non-zero return refuses the load: insmod reports it, nothing stays loaded. */
		return -EINVAL;
	}

	for (i = 0; i < times; i++)
		pr_info("hello: Hello, %s!\n", whom);

	return 0;
}
module_init(hello_init);

/* exercise hello TODO 2 */
static void __exit hello_exit(void)
{
	pr_info("hello: Goodbye, %s.\n", whom);
}
module_exit(hello_exit);
/* end exercise hello TODO 2 */

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kernelcraft");
MODULE_DESCRIPTION("The expedition's first module: a greeting on load and a farewell on unload");
