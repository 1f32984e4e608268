// The Proxmox VE release of a host, from `pveversion` (pve-manager
// bin/pveversion: "<package>/<version>/<repoid> (running kernel: <uname -r>)",
// e.g. "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)").
// Read once per connection, like the identity in src/remote/probe.ts: it does
// not change while a connection lives. Only for behaviour that really differs
// between releases (docs/PVE-VERSIONS.md).
import type { ModuleContext } from '../module.js';

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

const versions = new WeakMap<object, PveVersion | null>();

/**
 * The host's PVE version, asked once per connection; null when the host is
 * no PVE host (no pveversion, or output that is not pve-manager's line).
 */
export async function pveVersion(ctx: ModuleContext): Promise<PveVersion | null> {
  const known = versions.get(ctx.conn);
  if (known !== undefined) return known;
  const r = await ctx.run(['pveversion'], { okExit: 'any' });
  const v = (r.rc === 0 ? parsePveVersion(r.stdout) : undefined) ?? null;
  versions.set(ctx.conn, v);
  return v;
}
