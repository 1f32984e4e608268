// Reads the PLAY RECAP lines that phx-play and ansible-playbook both print
// ("h01 : ok=20 changed=0 unreachable=0 failed=0 skipped=0 ...").
export interface HostRecap {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
}

const RECAP = /^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)(?:\s+skipped=(\d+))?/;

export function parseRecap(output: string): Map<string, HostRecap> {
  const hosts = new Map<string, HostRecap>();
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  const at = plain.lastIndexOf('PLAY RECAP');
  if (at < 0) return hosts;
  for (const line of plain.slice(at).split('\n')) {
    const m = RECAP.exec(line.trim());
    if (!m) continue;
    hosts.set(m[1], { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5], skipped: +(m[6] ?? 0) });
  }
  return hosts;
}

/** Sum over hosts, and whether every expected host has a recap line. */
export function totals(
  recap: Map<string, HostRecap>,
  expectedHosts: readonly string[],
): HostRecap & { complete: boolean } {
  const t = {
    ok: 0,
    changed: 0,
    unreachable: 0,
    failed: 0,
    skipped: 0,
    complete: expectedHosts.every((h) => recap.has(h)),
  };
  for (const r of recap.values()) {
    t.ok += r.ok;
    t.changed += r.changed;
    t.unreachable += r.unreachable;
    t.failed += r.failed;
    t.skipped += r.skipped;
  }
  return t;
}
