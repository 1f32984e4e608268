// `pveversion [--verbose]` as pve-manager's bin/pveversion prints it. The
// release is the host's /var/lib/phx-lab/pve-version ("8.4.1" makes a PVE 8
// host); without it, a PVE 9 host (the lab's zfs is 2.3, PVE 9's).
import { readFileSync } from 'node:fs';
import { SimError, STATE_DIR, hostPath, out } from './env.js';

export const DEFAULT_PVE_VERSION = '9.1.1';
const REPO_ID = '42fc0aec1b5c7f6c';

function release(): string {
  try {
    const v = readFileSync(hostPath(`${STATE_DIR}/pve-version`), 'utf8').trim();
    if (/^\d+\.\d+(\.\d+)?$/.test(v)) return v;
  } catch {
    // no seed option: the default release
  }
  return DEFAULT_PVE_VERSION;
}

/** The kernel each release runs by default (proxmox-kernel 6.8 on PVE 8, 6.14 on PVE 9). */
const kernelOf = (v: string) => (v.startsWith('8.') ? '6.8.12-9-pve' : '6.14.11-4-pve');

export function pveversion(args: string[]): number {
  const verbose = args.length === 1 && args[0] === '--verbose';
  if (args.length > 0 && !verbose) {
    // Getopt::Long's complaint, then print_usage; exit(-1)
    const bad = args.find((a) => a.startsWith('-'));
    throw new SimError(`${bad ? `Unknown option: ${bad.replace(/^-+/, '')}\n` : ''}USAGE: pveversion [--verbose]`, 255);
  }
  const v = release();
  const kernel = kernelOf(v);
  if (!verbose) {
    out(`pve-manager/${v}/${REPO_ID} (running kernel: ${kernel})\n`);
    return 0;
  }
  out(
    `proxmox-ve: ${v.replace(/\.\d+$/, '.0')} (running kernel: ${kernel})\npve-manager: ${v} (running version: ${v}/${REPO_ID})\n`,
  );
  return 0;
}
