// /etc/pve/storage.cfg: the Proxmox storage definitions. Stanzas of
// `<type>: <id>` followed by TAB-indented `key value` lines (a bare `disable`
// is a flag), separated by blank lines. Parsed and written here so the pvesm
// module can compare definitions and show a diff of the file's stanzas.

import { lineProblem } from '../encode/line.js';
import { ValueRefused } from '../encode/property-string.js';

export type StorageType = 'dir' | 'zfspool' | 'nfs';
export const STORAGE_TYPES: readonly StorageType[] = ['dir', 'zfspool', 'nfs'];

export interface StorageDef {
  /** the type as written in the file; other types (lvmthin, pbs...) are kept but never managed */
  type: string;
  id: string;
  /** key → value as written; the `disable` flag is '1' */
  keys: Record<string, string>;
}

/** Keys `pvesm set` refuses: changing them means remove + add. */
export const FIXED_KEYS: Record<StorageType, readonly string[]> = {
  dir: ['path'],
  zfspool: ['pool'],
  nfs: ['server', 'export', 'path'],
};

/**
 * Keys the module manages per type (besides disable), fixed first, then optional sorted: a subset of each
 * type's `options()` in pve-storage (src/PVE/Storage/DirPlugin.pm, ZFSPoolPlugin.pm, NFSPlugin.pm); there is
 * no `comment`, and nfs has no `shared`.
 */
export const TYPE_KEYS: Record<StorageType, readonly string[]> = {
  dir: ['path', 'content', 'create-base-path', 'create-subdirs', 'is_mountpoint', 'nodes', 'prune-backups', 'shared'],
  zfspool: ['pool', 'blocksize', 'content', 'mountpoint', 'nodes', 'sparse'],
  nfs: [
    'export',
    'path',
    'server',
    'content',
    'create-base-path',
    'create-subdirs',
    'nodes',
    'options',
    'prune-backups',
  ],
};

export const DEFAULT_CONTENT: Record<StorageType, string> = {
  dir: 'images,rootdir',
  zfspool: 'images,rootdir',
  nfs: 'images',
};

/** Comma lists whose order means nothing. */
export const SET_KEYS: ReadonlySet<string> = new Set(['content', 'nodes', 'prune-backups']);

/** Boolean keys: written 0/1 (disable as a bare flag). */
export const BOOLEAN_KEYS: ReadonlySet<string> = new Set([
  'disable',
  'sparse',
  'shared',
  'create-base-path',
  'create-subdirs',
]);

export function isStorageType(t: string): t is StorageType {
  return (STORAGE_TYPES as readonly string[]).includes(t);
}

/**
 * Parses storage.cfg text. Unknown lines (comments) are skipped, as PVE does; so
 * is a section whose id is no storage id (PVE::SectionConfig parse_config: "skip
 * section"): PVE knows no such storage, and its id (`--delete`) would reach
 * `pvesm remove` as an option.
 */
export function parseStorageCfg(text: string): StorageDef[] {
  const defs: StorageDef[] = [];
  let current: StorageDef | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (/^\s*#/.test(line)) continue;
    const header = /^(\S+):\s*(\S+)\s*$/.exec(line);
    if (header) {
      current = { type: header[1], id: header[2], keys: {} };
      if (storageIdError(current.id) === undefined) defs.push(current);
      continue;
    }
    const kv = /^\s+(\S+)(?:\s+(.*?))?\s*$/.exec(line);
    if (kv && current) {
      const [, key, value] = kv;
      current.keys[key] = value === undefined || value === '' ? (BOOLEAN_KEYS.has(key) ? '1' : '') : value;
    }
  }
  return defs;
}

/** Key order inside a stanza as PVE writes it: comment, disable, fixed keys sorted, others sorted. */
function orderedKeys(def: StorageDef): string[] {
  const fixed = isStorageType(def.type) ? [...FIXED_KEYS[def.type]].sort() : [];
  const rest = Object.keys(def.keys)
    .filter((k) => k !== 'comment' && k !== 'disable' && !fixed.includes(k))
    .sort();
  return [
    ...(def.keys.comment !== undefined ? ['comment'] : []),
    ...(def.keys.disable !== undefined ? ['disable'] : []),
    ...fixed.filter((k) => def.keys[k] !== undefined),
    ...rest,
  ];
}

/** A value that would end its line (and start one of its own) cannot be written into storage.cfg. */
function oneLineValue(what: string, value: string): string {
  const why = lineProblem(value);
  if (why) throw new ValueRefused(`storage.cfg ${what}: ${JSON.stringify(value)} ${why}`);
  return value;
}

export function serializeStanza(def: StorageDef): string {
  const lines = [`${oneLineValue('type', def.type)}: ${oneLineValue('storage id', def.id)}`];
  for (const k of orderedKeys(def)) {
    const v = oneLineValue(k, def.keys[k]);
    oneLineValue('key', k);
    if (k === 'disable') {
      if (isTrue(v)) lines.push('\tdisable');
      continue;
    }
    lines.push(`\t${k} ${v}`);
  }
  return lines.join('\n') + '\n';
}

export function serializeStorageCfg(defs: readonly StorageDef[]): string {
  return defs.map(serializeStanza).join('\n');
}

export function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^(1|yes|on|true)$/i.test(v.trim());
}

/** Splits a comma list into a sorted set (for comparing content and nodes). */
export function commaSet(v: string): string[] {
  return [
    ...new Set(
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ].sort();
}

/** The value the storage really has for a key, applying PVE's defaults. */
export function effectiveValue(def: StorageDef, key: string): string | undefined {
  const v = def.keys[key];
  if (v !== undefined) return v;
  if (key === 'content' && isStorageType(def.type)) return DEFAULT_CONTENT[def.type];
  if (key === 'path' && def.type === 'nfs') return `/mnt/pve/${def.id}`;
  if (key === 'disable') return '0';
  return undefined;
}

/** Compares two values of a key the way PVE means them. */
export function sameStorageValue(key: string, a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (SET_KEYS.has(key)) return commaSet(a).join(',') === commaSet(b).join(',');
  if (BOOLEAN_KEYS.has(key) || key === 'is_mountpoint') {
    const bool = (s: string) =>
      /^(1|yes|on|true)$/i.test(s.trim()) ? '1' : /^(0|no|off|false)$/i.test(s.trim()) ? '0' : s.trim();
    return bool(a) === bool(b);
  }
  if (key === 'path' || key === 'export' || key === 'mountpoint')
    return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
  return a.trim() === b.trim();
}

const STORAGE_ID = /^[a-z][a-z0-9._-]*[a-z0-9]$/i;

/** PVE's storage id rule; the message matches pvesm's. */
export function storageIdError(id: string): string | undefined {
  if (id.length < 2) return `storage ID '${id}' cannot be shorter than 2 characters`;
  if (!STORAGE_ID.test(id)) return `storage ID '${id}' contains illegal characters`;
  return undefined;
}
