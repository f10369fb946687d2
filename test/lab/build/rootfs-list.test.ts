import test from 'ava';
import {cpioList} from '../../../source/lab/build/rootfs.js';

test('the cpio list has init, busybox, a console node, and parents before extras', t => {
	const list = cpioList('/bin/busybox', '/x/init', [
		{guestPath: '/lib/modules/6.1.192/extra/hello.ko', hostPath: '/b/hello.ko'},
	]).split('\n');
	t.true(list.includes('file /init /x/init 755 0 0'));
	t.true(list.includes('file /bin/busybox /bin/busybox 755 0 0'));
	t.true(list.includes('nod /dev/console 600 0 0 c 5 1'));
	const module = list.indexOf('file /lib/modules/6.1.192/extra/hello.ko /b/hello.ko 644 0 0');
	const parent = list.indexOf('dir /lib/modules/6.1.192/extra 755 0 0');
	t.true(parent >= 0 && parent < module);
});
