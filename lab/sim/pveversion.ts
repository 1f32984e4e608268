// `pveversion [--verbose]` as pve-manager's bin/pveversion prints it: PVE::pvecfg's
// package() and version_text() from the host's own /usr/share/perl5/PVE/pvecfg.pm
// (lab/sim/pvecfg.ts: a PVE 9 host when seeded, `phx-lab-pve-version 8.4.1` makes it
// a PVE 8 one) and the kernel of POSIX::uname: the machine's, as `uname -r` on the
// host says. So the line is exactly what src/proxmox/pve-version.ts makes of the file.
import { release as kernelRelease } from 'node:os';
import { SimError, out } from './env.js';
import { readPvecfg, writePvecfg } from './pvecfg.js';

export { DEFAULT_PVE_VERSION } from './pvecfg.js';

export function pveversion(args: string[]): number {
  const verbose = args.length === 1 && args[0] === '--verbose';
  if (args.length > 0 && !verbose) {
    // Getopt::Long's complaint, then print_usage; exit(-1)
    const bad = args.find((a) => a.startsWith('-'));
    throw new SimError(`${bad ? `Unknown option: ${bad.replace(/^-+/, '')}\n` : ''}USAGE: pveversion [--verbose]`, 255);
  }
  const cfg = readPvecfg();
  const kernel = kernelRelease();
  if (!verbose) {
    out(`${cfg.package}/${cfg.version_text} (running kernel: ${kernel})\n`);
    return 0;
  }
  out(
    `proxmox-ve: ${cfg.release}.0 (running kernel: ${kernel})\n${cfg.package}: ${cfg.version} (running version: ${cfg.version_text})\n`,
  );
  return 0;
}

/** `phx-lab-pve-version <x.y.z>`: the lab's knob, rewrites the host's pvecfg.pm (a PVE upgrade/downgrade). */
export function phxLabPveVersion(args: string[]): number {
  if (args.length !== 1) throw new SimError('usage: phx-lab-pve-version <release, e.g. 8.4.1>', 2);
  writePvecfg(args[0]);
  return 0;
}
