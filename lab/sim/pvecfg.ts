// A lab host's /usr/share/perl5/PVE/pvecfg.pm: the file pve-manager's build makes from
// PVE/pvecfg.pm.in (each sub returns a literal: @PACKAGE@, @VERSION@, @PVERELEASE@,
// @REPOID@ substituted). Each host has its own (its root's usr/share/perl5/PVE, bound over
// the machine's in the host's mount namespace: lab/hostfs.ts); the lab's pveversion reads
// it as bin/pveversion reads PVE::pvecfg, so that the file and the tool always agree.
import { readFileSync } from 'node:fs';
import { SimError, hostPath, writeFileAtomic } from './env.js';

/** Where pve-manager installs PVE::pvecfg (src/proxmox/pve-version.ts reads the same path). */
export const PVECFG_PM = '/usr/share/perl5/PVE/pvecfg.pm';
export const PVECFG_DIR = '/usr/share/perl5/PVE';

export const DEFAULT_PVE_VERSION = '9.1.1';
/** The repository id (git commit) a release was built from; made up, stable per major release. */
const repoidOf = (version: string) => (version.startsWith('8.') ? '2a5fa54a8503f96d' : '42fc0aec1b5c7f6c');

/** A release the lab can be: `<major>.<minor>.<patch>` (pve-manager's version). */
export const isPveRelease = (v: string) => /^\d+\.\d+\.\d+$/.test(v);

/** pvecfg.pm as PVE/pvecfg.pm.in produces it for `version` (PVERELEASE: major.minor). */
export function pvecfgText(version: string, pkg = 'pve-manager'): string {
  const release = version.split('.').slice(0, 2).join('.');
  const repoid = repoidOf(version);
  return `package PVE::pvecfg;

use strict;
use warnings;

sub package {
    return '${pkg}';
}

sub version {
    return '${version}';
}

sub release {
    return '${release}';
}

sub repoid {
    return '${repoid}';
}

sub version_text {
    return '${version}/${repoid}';
}

# this is returned by the API
sub version_info {
    return {
\t'version' => '${version}',
\t'release' => '${release}',
\t'repoid' => '${repoid}',
    }
}

1;
`;
}

/** Writes the host's pvecfg.pm for `version` (seed, `phx-lab-pve-version`). */
export function writePvecfg(version: string): void {
  if (!isPveRelease(version)) throw new SimError(`phx-lab: '${version}' is no PVE release (e.g. 8.4.1)`, 2);
  writeFileAtomic(PVECFG_PM, pvecfgText(version), 0o644);
}

export interface Pvecfg {
  package: string;
  version: string;
  release: string;
  repoid: string;
  version_text: string;
}

/**
 * PVE::pvecfg's subs as perl would return them from the host's file. Only the literal form the build
 * writes is understood; anything else fails as the lab cannot run perl (a real host would).
 */
export function readPvecfg(): Pvecfg {
  let text: string;
  try {
    text = readFileSync(hostPath(PVECFG_PM), 'utf8');
  } catch {
    // perl's `use PVE::pvecfg;` failing (exit 2)
    throw new SimError(
      `Can't locate PVE/pvecfg.pm in @INC (you may need to install the PVE::pvecfg module) (@INC contains: /etc/perl /usr/local/lib/x86_64-linux-gnu/perl/5.36.0 /usr/local/share/perl/5.36.0 /usr/lib/x86_64-linux-gnu/perl5/5.36 /usr/share/perl5 /usr/lib/x86_64-linux-gnu/perl-base /usr/lib/x86_64-linux-gnu/perl/5.36 /usr/share/perl/5.36 /usr/local/lib/site_perl) at /usr/bin/pveversion line 7.\nBEGIN failed--compilation aborted at /usr/bin/pveversion line 7.`,
      2,
    );
  }
  const sub = (name: string) => {
    const m = new RegExp(`^sub ${name} \\{\\s*return '([^'\\\\\\n]*)';\\s*\\}`, 'm').exec(text);
    if (!m)
      throw new SimError(`phx-lab: ${PVECFG_PM}: sub ${name} does not return a literal (the lab runs no perl)`, 70);
    return m[1];
  };
  return {
    package: sub('package'),
    version: sub('version'),
    release: sub('release'),
    repoid: sub('repoid'),
    version_text: sub('version_text'),
  };
}
