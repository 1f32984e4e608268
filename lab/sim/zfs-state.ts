// The simulated ZFS pools of a host: datasets and their local properties in
// /var/lib/phx-lab/zfs.json; a filesystem's data is the real directory at its
// mountpoint, so what is written there is what `ls` shows.
import { mkdirSync, readdirSync, lstatSync, statfsSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJson, writeJson, hostPath, STATE_DIR, SimError } from './env.js';
import { SIZE_PROPERTIES } from '../../src/proxmox/sizes.js';
import {
  canonicalValue,
  isUserPropertyName,
  nativeProperty,
  PROPERTY_ALIASES,
  type DatasetType,
  type ZfsVersion,
} from '../../src/proxmox/zfs-props.js';

export interface Dataset {
  type: 'filesystem' | 'volume';
  props: Record<string, string>; // locally set values, canonical (sizes in bytes, index values as zfs prints them)
  creation: number; // epoch seconds
}
export interface Snapshot {
  creation: number; // epoch seconds
  createtxg: number; // orders the snapshots of one dataset, as zfs lists them
}
export interface ZfsState {
  datasets: Record<string, Dataset>;
  /** `pool/ds@snap` → snapshot (absent in states written before snapshots existed) */
  snapshots?: Record<string, Snapshot>;
}

const STATE_FILE = `${STATE_DIR}/zfs.json`;

/** The OpenZFS the lab's `zfs` behaves as (Proxmox VE 9.1's): its xattr table is the 2.3 one. */
export const SIM_VERSION: ZfsVersion = '2.3';
export const SIM_VERSION_TEXT = 'zfs-2.3.4-pve1\nzfs-kmod-2.3.4-pve1\n';

export function readZfs(): ZfsState {
  return readJson<ZfsState>(STATE_FILE, { datasets: {} });
}
export function writeZfs(s: ZfsState): void {
  writeJson(STATE_FILE, s);
}

/** Readonly numbers zfs prints as sizes (the rest of the size-like numbers come from sizes.ts). */
const READONLY_SIZES = new Set([
  'used',
  'available',
  'referenced',
  'written',
  'usedbysnapshots',
  'usedbydataset',
  'usedbychildren',
  'usedbyrefreservation',
  'logicalused',
  'logicalreferenced',
]);

/** The property's own name for a column alias (`avail` → `available`). */
export function propertyName(p: string): string {
  return PROPERTY_ALIASES[p] ?? p;
}
export function isKnownProperty(p: string): boolean {
  return p === 'name' || nativeProperty(p) !== undefined || isUserPropertyName(p);
}
export function isReadonlyProperty(p: string): boolean {
  return nativeProperty(p)?.attr === 'readonly';
}
export function isSizeProperty(p: string): boolean {
  const name = propertyName(p);
  return SIZE_PROPERTIES.has(name) || READONLY_SIZES.has(name);
}
/** zfs_prop_inheritable(): PROP_INHERIT and PROP_ONETIME, and user properties. */
export function isInheritable(p: string): boolean {
  const attr = nativeProperty(p)?.attr;
  return isUserPropertyName(p) || attr === 'inherit' || attr === 'onetime';
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

const NONE_ALLOWED = new Set(['quota', 'refquota', 'reservation', 'refreservation']);

/**
 * Validates a `set`/`create -o` assignment and returns the value to store, in
 * the order of openzfs lib/libzfs/libzfs_dataset.c zfs_valid_proplist(): user
 * property, unknown name, type of dataset, readonly, then the value
 * (libzfs_util.c zprop_parse_value()). Throws the message zfs prints.
 */
export function normaliseValue(
  ds: string,
  prop: string,
  value: string,
  action = 'set property for',
  type: DatasetType = 'filesystem',
): string {
  const fail = (why: string): never => {
    throw new SimError(`cannot ${action} '${ds}': ${why}`, 1);
  };
  const spec = nativeProperty(prop);
  if (!spec) {
    if (isUserPropertyName(prop)) return value;
    return fail(`invalid property '${prop}'`);
  }
  if (!spec.types.includes(type)) fail(`'${prop}' does not apply to datasets of this type`);
  // PROP_ONETIME properties are only taken at creation
  if (spec.attr === 'readonly' || (spec.attr === 'onetime' && action !== 'create')) fail(`'${prop}' is readonly`);
  const name = propertyName(prop);
  if (spec.kind === 'number') {
    const n = value === 'none' && !NONE_ALLOWED.has(name) ? null : parseSize(value);
    if (n === null) return fail(`bad numeric value '${value}'`);
    if ((name === 'recordsize' || name === 'volblocksize') && (n < 512 || n > 16 * 1024 * 1024 || (n & (n - 1)) !== 0))
      fail(`'${prop}' must be power of 2 from 512B to 16M`);
    return String(n);
  }
  if (spec.kind === 'index') {
    const canonical = canonicalValue(name, value, SIM_VERSION);
    if (!spec.table!.some(([n]) => n === canonical)) fail(`'${prop}' must be one of '${spec.values}'`);
    return canonical;
  }
  if (name === 'mountpoint') {
    if (value !== 'none' && value !== 'legacy' && !value.startsWith('/'))
      fail(`'mountpoint' must be an absolute path, 'none', or 'legacy'`);
    return value.replace(/(.)\/+$/, '$1');
  }
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
export function getProperty(s: ZfsState, name: string, asked: string): { value: string; source: string } {
  const prop = propertyName(asked);
  if (prop === 'name') return { value: name, source: '-' };
  if (name.includes('@')) return snapshotProperty(s, name, prop);
  const ds = s.datasets[name];
  if (prop === 'type') return { value: ds.type, source: '-' };
  const spec = nativeProperty(prop);
  // a property of another dataset type: zfs get prints '-' (zfs_main.c get_callback)
  if (spec && !spec.types.includes(ds.type)) return { value: '-', source: '-' };
  if (prop === 'creation') return { value: String(ds.creation), source: '-' };
  if (prop === 'mounted') return { value: mountpointOf(s, name).startsWith('/') ? 'yes' : 'no', source: '-' };
  if (prop === 'compressratio' || prop === 'refcompressratio') return { value: '1.00x', source: '-' };
  if (prop === 'origin') return { value: '-', source: '-' };
  if (prop === 'used' || prop === 'referenced' || prop === 'written' || prop === 'logicalused')
    return { value: String(usedBytes(s, name)), source: '-' };
  if (prop === 'available') return { value: String(availableBytes(s, name)), source: '-' };
  if (prop === 'mountpoint') {
    if (ds.props.mountpoint !== undefined) return { value: ds.props.mountpoint, source: 'local' };
    for (let p = parentOf(name); p; p = parentOf(p))
      if (s.datasets[p]?.props.mountpoint !== undefined)
        return { value: mountpointOf(s, name), source: `inherited from ${p}` };
    return { value: mountpointOf(s, name), source: 'default' };
  }
  // stored values are canonical already; states seeded by hand may hold an alias (xattr=sa prints "on" on 2.3)
  const shown = (v: string) => canonicalValue(prop, v, SIM_VERSION);
  if (ds.props[prop] !== undefined) return { value: shown(ds.props[prop]), source: 'local' };
  if (spec?.attr === 'inherit' || (!spec && isUserPropertyName(prop)))
    for (let p = parentOf(name); p; p = parentOf(p)) {
      const v = s.datasets[p]?.props[prop];
      if (v !== undefined) return { value: shown(v), source: `inherited from ${p}` };
    }
  if (!spec) return { value: '-', source: '-' };
  return { value: spec.def, source: spec.attr === 'readonly' ? '-' : 'default' };
}

function snapshotProperty(s: ZfsState, name: string, prop: string): { value: string; source: string } {
  const snap = s.snapshots?.[name];
  const ds = name.slice(0, name.indexOf('@'));
  if (!snap || !s.datasets[ds]) return { value: '-', source: '-' };
  if (prop === 'type') return { value: 'snapshot', source: '-' };
  if (prop === 'creation') return { value: String(snap.creation), source: '-' };
  if (prop === 'createtxg') return { value: String(snap.createtxg), source: '-' };
  if (prop === 'used' || prop === 'written') return { value: '0', source: '-' };
  if (prop === 'referenced') return { value: String(usedBytes(s, ds)), source: '-' };
  return { value: '-', source: '-' };
}

/** Snapshot names of `ds` (its own only), oldest first as zfs lists them. */
export function snapshotsOf(s: ZfsState, ds: string): string[] {
  return Object.entries(s.snapshots ?? {})
    .filter(([n]) => n.slice(0, n.indexOf('@')) === ds)
    .sort(([, a], [, b]) => a.createtxg - b.createtxg)
    .map(([n]) => n);
}

export function createSnapshot(s: ZfsState, name: string): void {
  const txgs = Object.values(s.snapshots ?? {}).map((x) => x.createtxg);
  (s.snapshots ??= {})[name] = { creation: Math.floor(Date.now() / 1000), createtxg: Math.max(0, ...txgs) + 1 };
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
  for (const snap of snapshotsOf(s, name)) delete s.snapshots![snap];
  if (mp.startsWith('/') && mp !== '/') rmSync(hostPath(mp), { recursive: true, force: true });
}
