// The simulated ZFS pools of a host: datasets and their local properties in
// /var/lib/phx-lab/zfs.json; a filesystem's data is the real directory at its
// mountpoint, so what is written there is what `ls` shows.
import { mkdirSync, readdirSync, lstatSync, statfsSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJson, writeJson, hostPath, STATE_DIR, SimError } from './env.js';

export interface Dataset {
  type: 'filesystem' | 'volume';
  props: Record<string, string>; // locally set values, normalised (sizes in bytes)
  creation: number; // epoch seconds
}
export interface ZfsState {
  datasets: Record<string, Dataset>;
}

const STATE_FILE = `${STATE_DIR}/zfs.json`;

export function readZfs(): ZfsState {
  return readJson<ZfsState>(STATE_FILE, { datasets: {} });
}
export function writeZfs(s: ZfsState): void {
  writeJson(STATE_FILE, s);
}

/** Native properties: default value, inherited by children?, a size? */
const NATIVE: Record<string, { def: string; inherit: boolean; size?: boolean; values?: RegExp }> = {
  compression: {
    def: 'off',
    inherit: true,
    values: /^(on|off|lzjb|gzip|gzip-[1-9]|zle|lz4|zstd|zstd-([1-9]|1[0-9])|zstd-fast)$/,
  },
  atime: { def: 'on', inherit: true, values: /^(on|off)$/ },
  relatime: { def: 'off', inherit: true, values: /^(on|off)$/ },
  xattr: { def: 'on', inherit: true, values: /^(on|off|sa|dir)$/ },
  acltype: { def: 'off', inherit: true, values: /^(off|noacl|nfsv4|posix|posixacl)$/ },
  aclinherit: { def: 'restricted', inherit: true },
  recordsize: { def: '131072', inherit: true, size: true },
  sharenfs: { def: 'off', inherit: true },
  sharesmb: { def: 'off', inherit: true },
  sync: { def: 'standard', inherit: true, values: /^(standard|always|disabled)$/ },
  dedup: { def: 'off', inherit: true },
  checksum: { def: 'on', inherit: true },
  readonly: { def: 'off', inherit: true, values: /^(on|off)$/ },
  exec: { def: 'on', inherit: true, values: /^(on|off)$/ },
  setuid: { def: 'on', inherit: true, values: /^(on|off)$/ },
  devices: { def: 'on', inherit: true, values: /^(on|off)$/ },
  snapdir: { def: 'hidden', inherit: true, values: /^(hidden|visible)$/ },
  copies: { def: '1', inherit: true, values: /^[123]$/ },
  logbias: { def: 'latency', inherit: true },
  primarycache: { def: 'all', inherit: true },
  secondarycache: { def: 'all', inherit: true },
  dnodesize: { def: 'legacy', inherit: true },
  canmount: { def: 'on', inherit: false, values: /^(on|off|noauto)$/ },
  quota: { def: '0', inherit: false, size: true },
  refquota: { def: '0', inherit: false, size: true },
  reservation: { def: '0', inherit: false, size: true },
  refreservation: { def: '0', inherit: false, size: true },
  volsize: { def: '0', inherit: false, size: true },
  mountpoint: { def: '', inherit: true },
};
const READONLY = new Set([
  'type',
  'creation',
  'used',
  'available',
  'avail',
  'referenced',
  'refer',
  'mounted',
  'name',
  'compressratio',
  'origin',
  'usedbysnapshots',
  'written',
]);
const SIZE_PROPS = new Set(['used', 'available', 'avail', 'referenced', 'refer', 'written', 'usedbysnapshots']);

export function isKnownProperty(p: string): boolean {
  return p in NATIVE || READONLY.has(p) || p.includes(':');
}
export function isReadonlyProperty(p: string): boolean {
  return READONLY.has(p);
}
export function isSizeProperty(p: string): boolean {
  return Boolean(NATIVE[p]?.size) || SIZE_PROPS.has(p);
}
export function isInheritable(p: string): boolean {
  return p.includes(':') || Boolean(NATIVE[p]?.inherit);
}

/** "1G" → 1073741824; "none" → 0; bad → null. */
export function parseSize(v: string): number | null {
  if (v === 'none') return 0;
  const m = /^(\d+(?:\.\d+)?)([KMGTPE]?)B?$/i.exec(v);
  if (!m) return null;
  const exp = ' KMGTPE'.indexOf(m[2].toUpperCase() || ' ');
  return Math.round(Number(m[1]) * 1024 ** exp);
}

/** zfs_nicenum: 131072 → 128K, 1610612736 → 1.50G. */
export function niceNum(n: number): string {
  if (n < 1024) return String(n);
  let i = 0;
  let v = n;
  while (v >= 1024 && i < 6) {
    v /= 1024;
    i++;
  }
  const suffix = 'BKMGTPE'[i];
  if (Number.isInteger(v)) return `${v}${suffix}`;
  for (const digits of [2, 1, 0]) {
    const s = v.toFixed(digits);
    if (s.length <= 4) return `${s}${suffix}`;
  }
  return `${Math.round(v)}${suffix}`;
}

/** Validates and normalises a value for `set`/`create -o`; throws the zfs message. */
export function normaliseValue(ds: string, prop: string, value: string, action = 'set property for'): string {
  if (prop.includes(':')) return value;
  const spec = NATIVE[prop];
  if (!spec) throw new SimError(`cannot ${action} '${ds}': invalid property '${prop}'`, 1);
  if (spec.size) {
    const n = parseSize(value);
    if (n === null) throw new SimError(`cannot ${action} '${ds}': bad numeric value '${value}'`, 1);
    if (prop === 'recordsize' && (n < 512 || n > 16 * 1024 * 1024 || (n & (n - 1)) !== 0))
      throw new SimError(`cannot ${action} '${ds}': 'recordsize' must be power of 2 from 512B to 16M`, 1);
    return String(n);
  }
  if (prop === 'mountpoint') {
    if (value !== 'none' && value !== 'legacy' && !value.startsWith('/'))
      throw new SimError(`cannot ${action} '${ds}': 'mountpoint' must be an absolute path, 'none', or 'legacy'`, 1);
    return value.replace(/(.)\/+$/, '$1');
  }
  if (spec.values && !spec.values.test(value))
    throw new SimError(
      `cannot ${action} '${ds}': '${prop}' must be one of '${spec.values.source.replace(/^\^\(|\)\$$/g, '').replace(/\|/g, ' | ')}'`,
      1,
    );
  return value;
}

export function parentOf(name: string): string | null {
  const i = name.lastIndexOf('/');
  return i < 0 ? null : name.slice(0, i);
}

export function childrenOf(s: ZfsState, name: string): string[] {
  return Object.keys(s.datasets)
    .filter((n) => n.startsWith(name + '/'))
    .sort();
}

/** The effective value and its source, as `zfs get` reports them (value normalised, not formatted). */
export function getProperty(s: ZfsState, name: string, prop: string): { value: string; source: string } {
  const ds = s.datasets[name];
  if (prop === 'name') return { value: name, source: '-' };
  if (prop === 'type') return { value: ds.type, source: '-' };
  if (prop === 'creation') return { value: String(ds.creation), source: '-' };
  if (prop === 'mounted')
    return { value: ds.type === 'volume' ? '-' : mountpointOf(s, name).startsWith('/') ? 'yes' : 'no', source: '-' };
  if (prop === 'compressratio') return { value: '1.00x', source: '-' };
  if (prop === 'origin') return { value: '-', source: '-' };
  if (prop === 'used' || prop === 'referenced' || prop === 'refer' || prop === 'written')
    return { value: String(usedBytes(s, name)), source: '-' };
  if (prop === 'usedbysnapshots') return { value: '0', source: '-' };
  if (prop === 'available' || prop === 'avail') return { value: String(availableBytes(s, name)), source: '-' };
  if (prop === 'mountpoint') {
    if (ds.type === 'volume') return { value: '-', source: '-' };
    if (ds.props.mountpoint !== undefined) return { value: ds.props.mountpoint, source: 'local' };
    for (let p = parentOf(name); p; p = parentOf(p))
      if (s.datasets[p]?.props.mountpoint !== undefined)
        return { value: mountpointOf(s, name), source: `inherited from ${p}` };
    return { value: mountpointOf(s, name), source: 'default' };
  }
  if (ds.props[prop] !== undefined) return { value: ds.props[prop], source: 'local' };
  if (isInheritable(prop))
    for (let p = parentOf(name); p; p = parentOf(p)) {
      const v = s.datasets[p]?.props[prop];
      if (v !== undefined) return { value: v, source: `inherited from ${p}` };
    }
  if (prop.includes(':')) return { value: '-', source: '-' };
  return { value: NATIVE[prop]?.def ?? '-', source: 'default' };
}

/** The mountpoint path (or none/legacy) of a filesystem. */
export function mountpointOf(s: ZfsState, name: string): string {
  const own = s.datasets[name]?.props.mountpoint;
  if (own !== undefined) return own;
  const parent = parentOf(name);
  if (!parent) return `/${name}`;
  const pm = mountpointOf(s, parent);
  if (pm === 'none' || pm === 'legacy') return pm;
  return `${pm === '/' ? '' : pm}/${name.slice(parent.length + 1)}`;
}

function dirBytes(dir: string, budget = { n: 20000 }): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (budget.n-- <= 0) break;
    try {
      const st = lstatSync(join(dir, e));
      total += Math.max(st.size, 512);
      if (st.isDirectory()) total += dirBytes(join(dir, e), budget);
    } catch {
      /* vanished */
    }
  }
  return total;
}

export function usedBytes(s: ZfsState, name: string): number {
  const ds = s.datasets[name];
  if (ds.type === 'volume') return Number(ds.props.volsize ?? 0);
  const mp = mountpointOf(s, name);
  return 98304 + (mp.startsWith('/') ? dirBytes(hostPath(mp)) : 0);
}

export function availableBytes(s: ZfsState, name: string): number {
  const pool = name.split('/')[0];
  let avail = 1930587357184;
  try {
    const st = statfsSync(hostPath(mountpointOf(s, pool).startsWith('/') ? mountpointOf(s, pool) : '/'));
    avail = st.bavail * st.bsize;
  } catch {
    /* keep the nominal size */
  }
  for (let n: string | null = name; n; n = parentOf(n)) {
    const q = Number(s.datasets[n]?.props.quota ?? 0) || Number(s.datasets[n]?.props.refquota ?? 0);
    if (q > 0) avail = Math.min(avail, Math.max(0, q - usedBytes(s, n)));
  }
  return avail;
}

/** Creates a dataset (parents must exist) and mounts it (mkdir of its mountpoint). */
export function createDataset(s: ZfsState, name: string, type: Dataset['type'], props: Record<string, string>): void {
  s.datasets[name] = { type, props, creation: Math.floor(Date.now() / 1000) };
  if (type === 'filesystem') {
    const mp = mountpointOf(s, name);
    if (mp.startsWith('/')) mkdirSync(hostPath(mp), { recursive: true });
  }
}

/** Mountpoint changes move the data, like a remount of the dataset elsewhere. */
export function moveMount(from: string, to: string): void {
  const src = from.startsWith('/') ? hostPath(from) : null;
  const dst = to.startsWith('/') ? hostPath(to) : null;
  if (src && dst && src !== dst && existsSync(src)) {
    mkdirSync(dirname(dst), { recursive: true });
    if (existsSync(dst)) rmSync(dst, { recursive: true, force: true });
    renameSync(src, dst);
  } else if (dst) mkdirSync(dst, { recursive: true });
}

export function destroyDataset(s: ZfsState, name: string): void {
  const mp = s.datasets[name].type === 'filesystem' ? mountpointOf(s, name) : '-';
  delete s.datasets[name];
  if (mp.startsWith('/') && mp !== '/') rmSync(hostPath(mp), { recursive: true, force: true });
}
