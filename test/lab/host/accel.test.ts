import test from 'ava';
import {decideFromFacts} from '../../../source/lab/host/accel.js';

test('a /dev/kvm without vmx/svm means TCG, and says why', t => {
	const choice = decideFromFacts({kvmNode: true, kvmAccessible: true, cpuFlag: undefined});
	t.is(choice?.accel, 'tcg');
	t.regex(choice!.reason, /no vmx\/svm/);
});

test('no /dev/kvm, or no permission, means TCG', t => {
	t.regex(decideFromFacts({kvmNode: false, kvmAccessible: false, cpuFlag: 'vmx'})!.reason, /no \/dev\/kvm/);
	t.regex(decideFromFacts({kvmNode: true, kvmAccessible: false, cpuFlag: 'svm'})!.reason, /kvm group/);
});

test('with the flag and the device, only a probe can tell', t => {
	t.is(decideFromFacts({kvmNode: true, kvmAccessible: true, cpuFlag: 'vmx'}), undefined);
});
