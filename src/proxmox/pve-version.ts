// The Proxmox VE release of a host, from `pveversion` (pve-manager
// bin/pveversion: "<package>/<version>/<repoid> (running kernel: <uname -r>)",
// e.g. "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)").
// Read once per connection, like the identity in src/remote/probe.ts: it does
// not change while a connection lives. Only for behaviour that really differs
// between releases (docs/PVE-VERSIONS.md).
//
// Without starting pveversion (a Perl program that loads PVE::API2::APT): its
// line is `PVE::pvecfg::package() . '/' . PVE::pvecfg::version_text()` and the
// kernel of POSIX::uname (pve-manager bin/pveversion), and PVE/pvecfg.pm is
// generated from PVE/pvecfg.pm.in with those two subs returning literals
// (`return 'pve-manager';`, `return '8.4.1/2a5fa54a8503f96d';`). So the file and
// `uname -r` give the same line; a file that does not read like that keeps the tool.
import type { ModuleContext } from '../module.js';
import { runBatch } from '../remote/batch.js';

export interface PveVersion {
  major: number;
  minor: number;
  /** the release's third number (0 when absent) */
  patch: number;
  /** the version as printed, e.g. "8.4.1" */
  text: string;
  /** the running kernel, when printed */
  kernel?: string;
}

const LINE = /^pve-manager\/(\d+)\.(\d+)(?:[.-](\d+))?[^/\s]*(?:\/\S*)?(?: \(running kernel: ([^)\s]+)\))?\s*$/;

/** Parses pveversion's first line; undefined when it is not pve-manager's line. */
export function parsePveVersion(output: string): PveVersion | undefined {
  const first = output.split('\n', 1)[0].trim();
  const m = LINE.exec(first);
  if (!m) return undefined;
  const text = first.slice('pve-manager/'.length).split(/[/\s]/, 1)[0];
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: m[3] !== undefined ? Number(m[3]) : 0,
    text,
    ...(m[4] !== undefined ? { kernel: m[4] } : {}),
  };
}

/** Where pve-manager installs PVE::pvecfg. */
export const PVECFG_PM = '/usr/share/perl5/PVE/pvecfg.pm';

/** pveversion's line from pvecfg.pm and `uname -r`; undefined unless both subs return plain literals. */
export function pveversionLineFromPvecfg(pvecfgPm: string, unameR: string): string | undefined {
  const literal = (sub: string) =>
    new RegExp(`^sub ${sub} \\{\\s*return '([^'\\\\\\n]*)';\\s*\\}`, 'm').exec(pvecfgPm)?.[1];
  const pkg = literal('package');
  const versionText = literal('version_text');
  const kernel = unameR.trim();
  if (!pkg || !versionText || !/^\S+$/.test(kernel)) return undefined;
  return `${pkg}/${versionText} (running kernel: ${kernel})`;
}

const versions = new WeakMap<object, PveVersion | null>();

/**
 * The host's PVE version, asked once per connection; null when the host is
 * no PVE host (no pveversion, or output that is not pve-manager's line).
 */
export async function pveVersion(ctx: ModuleContext): Promise<PveVersion | null> {
  const known = versions.get(ctx.conn);
  if (known !== undefined) return known;
  const [cfg, uname] = await runBatch(ctx, [
    ['cat', '--', PVECFG_PM],
    ['uname', '-r'],
  ]);
  const line = cfg.rc === 0 && uname.rc === 0 ? pveversionLineFromPvecfg(cfg.stdout, uname.stdout) : undefined;
  let v = line !== undefined ? parsePveVersion(line) : undefined;
  if (v === undefined) {
    const r = await ctx.run(['pveversion'], { okExit: 'any' });
    v = r.rc === 0 ? parsePveVersion(r.stdout) : undefined;
  }
  versions.set(ctx.conn, v ?? null);
  return v ?? null;
}
