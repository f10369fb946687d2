import {qemuOptionValue} from '../vm/socket-dir.js';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
	accel: Accel;
	/** Why this accelerator: shown to the learner, e.g. "no vmx/svm CPU flag". */
	reason: string;
}

export interface AccelFacts {
	kvmNode: boolean;
	kvmAccessible: boolean;
	cpuFlag: 'vmx' | 'svm' | undefined;
}

export function readAccelFacts(): AccelFacts {
	const kvmNode = fs.existsSync('/dev/kvm');
	let kvmAccessible = false;
	if (kvmNode) {
		try {
			fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
			kvmAccessible = true;
		} catch {}
	}
	let cpuFlag: AccelFacts['cpuFlag'];
	try {
		const flags = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
		cpuFlag = flags.includes('vmx') ? 'vmx' : flags.includes('svm') ? 'svm' : undefined;
	} catch {}
	return {kvmNode, kvmAccessible, cpuFlag};
}

/**
 * The cheap part of the decision: on these machines /dev/kvm exists and answers, yet a guest
 * spins forever, and the missing vmx/svm flag is what tells. Returns a choice when the facts
 * settle it, or undefined when only a probe can (flag present, node accessible).
 */
export function decideFromFacts(facts: AccelFacts): AccelChoice | undefined {
	if (!facts.kvmNode) return {accel: 'tcg', reason: 'no /dev/kvm: using TCG (software emulation)'};
	if (!facts.kvmAccessible)
		return {
			accel: 'tcg',
			reason: '/dev/kvm is not readable and writable by this user (add yourself to the kvm group): using TCG',
		};
	if (!facts.cpuFlag)
		return {
			accel: 'tcg',
			reason:
				'/dev/kvm exists but the CPU shows no vmx/svm flag (no nested virtualisation), so a KVM guest would hang: using TCG',
		};
	return undefined;
}

/**
 * Boots QEMU's own firmware under KVM for a few seconds and checks that SeaBIOS wrote to its
 * debug port: proof that guest code really runs, which "the device node opened" is not.
 */
export function probeKvm(qemu: string, timeoutMs = 5000): Promise<boolean> {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kernelcraft-kvm-'));
	const debugLog = path.join(dir, 'seabios.log');
	return new Promise(resolve => {
		const child = spawn(
			qemu,
			[
				'-accel',
				'kvm',
				'-nodefaults',
				'-no-user-config',
				'-display',
				'none',
				'-m',
				'64',
				'-L',
				'/usr/share/qemu',
				'-L',
				'/usr/share/seabios',
				'-chardev',
				`file,id=seabios,path=${qemuOptionValue(debugLog)}`,
				'-device',
				'isa-debugcon,iobase=0x402,chardev=seabios',
			],
			{stdio: 'ignore'},
		);
		const finish = (ok: boolean) => {
			clearInterval(poll);
			clearTimeout(timer);
			child.kill('SIGKILL');
			fs.rmSync(dir, {recursive: true, force: true});
			resolve(ok);
		};
		const poll = setInterval(() => {
			try {
				if (fs.readFileSync(debugLog, 'utf8').includes('SeaBIOS')) finish(true);
			} catch {}
		}, 100);
		const timer = setTimeout(() => finish(false), timeoutMs);
		child.on('exit', () => finish(false));
	});
}

export async function chooseAccel(qemu: string, forced?: string): Promise<AccelChoice> {
	if (forced === 'tcg') return {accel: 'tcg', reason: 'TCG asked for (--accel tcg / KERNELCRAFT_ACCEL)'};
	const decided = decideFromFacts(readAccelFacts());
	if (decided) {
		if (forced === 'kvm') return {...decided, reason: `KVM asked for, but ${decided.reason}`};
		return decided;
	}
	if (await probeKvm(qemu)) return {accel: 'kvm', reason: 'KVM works: a probe guest ran under it'};
	return {
		accel: 'tcg',
		reason: '/dev/kvm and the vmx/svm flag are present, but a probe guest did not run under KVM within 5 s: using TCG',
	};
}
