// Which host uid/gid a container's ids map to (spec §1 "Default idmap").
// Read from `pct config` (unprivileged + lxc.idmap), never from
// /var/lib/lxc/<id>/config, which exists only after a start.
import type { PctConfig } from './pct-config.js';

export interface IdmapEntry {
  kind: 'u' | 'g';
  ctStart: number;
  hostStart: number;
  count: number;
}

export const DEFAULT_UNPRIVILEGED_BASE = 100000;
export const DEFAULT_MAP_COUNT = 65536;

/** `lxc.idmap: u 0 100000 65536` entries; malformed ones are skipped. */
export function parseIdmap(cfg: PctConfig): IdmapEntry[] {
  const out: IdmapEntry[] = [];
  for (const e of cfg.lxc) {
    if (e.key !== 'lxc.idmap') continue;
    const m = /^([ug])\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(e.value.trim());
    if (!m) continue;
    out.push({ kind: m[1] as 'u' | 'g', ctStart: Number(m[2]), hostStart: Number(m[3]), count: Number(m[4]) });
  }
  return out;
}

export function isUnprivileged(cfg: PctConfig): boolean {
  const v = cfg.keys.unprivileged;
  return v === '1' || v === 'true';
}

/** The map in effect: the custom lxc.idmap lines, else the default for unprivileged CTs, else identity. */
export function effectiveIdmap(cfg: PctConfig): IdmapEntry[] | 'identity' {
  const custom = parseIdmap(cfg);
  if (custom.length > 0) return custom;
  if (!isUnprivileged(cfg)) return 'identity';
  return [
    { kind: 'u', ctStart: 0, hostStart: DEFAULT_UNPRIVILEGED_BASE, count: DEFAULT_MAP_COUNT },
    { kind: 'g', ctStart: 0, hostStart: DEFAULT_UNPRIVILEGED_BASE, count: DEFAULT_MAP_COUNT },
  ];
}

/**
 * Host uid and gid of the container's root: the lxc.idmap entry with ct-start 0,
 * else 100000 for an unprivileged CT, else 0.
 */
export function containerRoot(cfg: PctConfig): { uid: number; gid: number } {
  const entries = parseIdmap(cfg);
  const fallback = isUnprivileged(cfg) ? DEFAULT_UNPRIVILEGED_BASE : 0;
  const root = (kind: 'u' | 'g') => entries.find((e) => e.kind === kind && e.ctStart === 0)?.hostStart ?? fallback;
  return { uid: root('u'), gid: root('g') };
}

/** Host id of container id `id` (uid for 'u', gid for 'g'); undefined when unmapped (shows as 65534 inside). */
export function mapToHost(cfg: PctConfig, kind: 'u' | 'g', id: number): number | undefined {
  const map = effectiveIdmap(cfg);
  if (map === 'identity') return id;
  const e = map.find((x) => x.kind === kind && id >= x.ctStart && id < x.ctStart + x.count);
  return e ? e.hostStart + id - e.ctStart : undefined;
}
