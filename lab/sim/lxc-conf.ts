// /etc/pve/lxc/<id>.conf: `#` description lines, sorted `key: value` lines, raw
// `lxc.*` lines, an optional [pve:pending] section and snapshot sections.
export interface CtConf {
  description: string[];
  keys: Record<string, string>;
  lxc: Array<[string, string]>;
  pending: Record<string, string>;
  pendingDelete: string[];
  snapshots: string; // raw, kept as is
}

export function parseCtConf(text: string): CtConf {
  const conf: CtConf = { description: [], keys: {}, lxc: [], pending: {}, pendingDelete: [], snapshots: '' };
  let section: 'main' | 'pending' | 'snap' = 'main';
  for (const line of text.split('\n')) {
    if (section === 'snap') {
      conf.snapshots += line + '\n';
      continue;
    }
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      if (sec[1] === 'pve:pending') section = 'pending';
      else {
        section = 'snap';
        conf.snapshots += line + '\n';
      }
      continue;
    }
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (section === 'main') conf.description.push(decodeURIComponent(line.slice(1)));
      continue;
    }
    const lx = /^(lxc\.[^\s:=]+)\s*(?::|=)\s*(.*)$/.exec(line);
    if (lx) {
      if (section === 'main') conf.lxc.push([lx[1], lx[2]]);
      continue;
    }
    const kv = /^([a-z][a-z0-9_-]*):\s*(.*)$/.exec(line);
    if (!kv) continue;
    if (section === 'pending') {
      if (kv[1] === 'delete') conf.pendingDelete = kv[2].split(',').filter(Boolean);
      else conf.pending[kv[1]] = kv[2];
    } else conf.keys[kv[1]] = kv[2];
  }
  return conf;
}

export function formatCtConf(conf: CtConf): string {
  let text = conf.description.map((d) => `#${d.replace(/%/g, '%25').replace(/\n/g, '%0A')}\n`).join('');
  for (const k of Object.keys(conf.keys).sort()) text += `${k}: ${conf.keys[k]}\n`;
  for (const [k, v] of conf.lxc) text += `${k}: ${v}\n`;
  if (Object.keys(conf.pending).length || conf.pendingDelete.length) {
    text += '\n[pve:pending]\n';
    if (conf.pendingDelete.length) text += `delete: ${conf.pendingDelete.join(',')}\n`;
    for (const k of Object.keys(conf.pending).sort()) text += `${k}: ${conf.pending[k]}\n`;
  }
  if (conf.snapshots) text += '\n' + conf.snapshots;
  return text;
}

/** `vol,mp=/x,ro=1` → { volume: 'vol', opts: { mp: '/x', ro: '1' } } */
export function parsePropString(value: string, firstKey = 'volume'): { volume: string; opts: Record<string, string> } {
  const opts: Record<string, string> = {};
  let volume = '';
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) volume = part;
    else if (part.slice(0, eq) === firstKey) volume = part.slice(eq + 1);
    else opts[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { volume, opts };
}

/** Normalised as PVE writes mount points: volume, then mp, then the other keys sorted. */
export function formatMountPoint(volume: string, opts: Record<string, string>): string {
  const rest = Object.keys(opts)
    .filter((k) => k !== 'mp')
    .sort()
    .map((k) => `${k}=${opts[k]}`);
  return [volume, ...(opts.mp !== undefined ? [`mp=${opts.mp}`] : []), ...rest].join(',');
}

/** net0: name first, then the other keys sorted. */
export function formatNet(opts: Record<string, string>): string {
  const rest = Object.keys(opts)
    .filter((k) => k !== 'name')
    .sort()
    .map((k) => `${k}=${opts[k]}`);
  return [...(opts.name !== undefined ? [`name=${opts.name}`] : []), ...rest].join(',');
}

export interface IdMapEntry {
  kind: 'u' | 'g';
  ctStart: number;
  hostStart: number;
  count: number;
}

/** The effective id map: custom lxc.idmap lines, else the unprivileged default, else none (privileged). */
export function idMap(conf: CtConf): IdMapEntry[] | null {
  const custom = conf.lxc
    .filter(([k]) => k === 'lxc.idmap')
    .map(([, v]) => v.trim().split(/\s+/))
    .filter((p) => p.length === 4)
    .map((p) => ({ kind: p[0] as 'u' | 'g', ctStart: Number(p[1]), hostStart: Number(p[2]), count: Number(p[3]) }));
  if (custom.length) return custom;
  if (conf.keys.unprivileged === '1')
    return [
      { kind: 'u', ctStart: 0, hostStart: 100000, count: 65536 },
      { kind: 'g', ctStart: 0, hostStart: 100000, count: 65536 },
    ];
  return null;
}

export function hostId(map: IdMapEntry[] | null, kind: 'u' | 'g', ctId: number): number {
  if (!map) return ctId;
  const e = map.find((m) => m.kind === kind && ctId >= m.ctStart && ctId < m.ctStart + m.count);
  return e ? e.hostStart + ctId - e.ctStart : 65534;
}

export function isMountPointKey(k: string): boolean {
  return /^mp\d+$/.test(k);
}

export function mountPointType(volume: string): 'bind' | 'device' | 'volume' {
  return volume.startsWith('/dev/') ? 'device' : volume.startsWith('/') ? 'bind' : 'volume';
}
