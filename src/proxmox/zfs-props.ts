// The native ZFS dataset properties as OpenZFS defines them, read from
// openzfs module/zcommon/zfs_prop.c zfs_prop_init() (zfs-2.3.4, the version of
// Proxmox VE 9; 2.2 and 2.4 differ only in the xattr table, see below).
// One table for both sides: zfs_dataset compares a wanted value with what
// `zfs get -p` prints, and the lab's zfs prints what real zfs prints.
//
// An index property stores a number; `zfs get` prints the FIRST name of the
// table with that number (openzfs module/zcommon/zprop_common.c
// zprop_index_to_string()), so aliases print as their canonical name:
// acltype=posixacl → posix, compression=gzip-6 → gzip, aclinherit=secure → restricted.
import { normalizeValue } from './sizes.js';

export type DatasetType = 'filesystem' | 'volume' | 'snapshot';

/** PROP_INHERIT, PROP_DEFAULT, PROP_READONLY, PROP_ONETIME(_DEFAULT) of zfs_prop.c */
export type PropertyAttr = 'inherit' | 'default' | 'readonly' | 'onetime';

export interface NativeProperty {
  kind: 'index' | 'number' | 'string';
  attr: PropertyAttr;
  /** the ZFS_TYPE_* the property applies to */
  types: readonly DatasetType[];
  /** index properties: [name, stored number] in table order */
  table?: readonly (readonly [string, number])[];
  /** what `zfs get -p` prints when nothing is set (Linux defaults) */
  def: string;
  /** the human list zfs prints in "'x' must be one of '…'" (zprop_values) */
  values?: string;
}

const FS: readonly DatasetType[] = ['filesystem'];
const FS_VOL: readonly DatasetType[] = ['filesystem', 'volume'];
const FS_SNAP: readonly DatasetType[] = ['filesystem', 'snapshot'];
const VOL: readonly DatasetType[] = ['volume'];
const ALL: readonly DatasetType[] = ['filesystem', 'volume', 'snapshot'];
const VOL_SNAP: readonly DatasetType[] = ['volume', 'snapshot'];

const t = (...names: (string | [string, number])[]): [string, number][] =>
  names.map((n, i) => (typeof n === 'string' ? [n, i] : n));

// zfs_prop.c: boolean_table
const BOOLEAN = t('off', 'on');
// checksum_table, dedup_table (the checksum numbers; verify is a flag bit)
const CHECKSUM = t('on', 'off', 'fletcher2', 'fletcher4', 'sha256', 'noparity', 'sha512', 'skein', 'edonr', 'blake3');
const VERIFY = 0x100;
const DEDUP = t(
  ['on', 0],
  ['off', 1],
  ['verify', VERIFY],
  ['sha256', 4],
  ['sha256,verify', 4 | VERIFY],
  ['sha512', 6],
  ['sha512,verify', 6 | VERIFY],
  ['skein', 7],
  ['skein,verify', 7 | VERIFY],
  ['edonr,verify', 8 | VERIFY],
  ['blake3', 9],
  ['blake3,verify', 9 | VERIFY],
);
// compress_table: "gzip" is gzip-6 and comes first, so gzip-6 prints as gzip
const GZIP = (level: number): number => 100 + level;
const COMPRESS = t(
  ['on', 0],
  ['off', 1],
  ['lzjb', 2],
  ['gzip', GZIP(6)],
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((l): [string, number] => [`gzip-${l}`, GZIP(l)]),
  ['zle', 10],
  ['lz4', 11],
  ['zstd', 12],
  ['zstd-fast', 1000],
  ...Array.from({ length: 19 }, (_, i): [string, number] => [`zstd-${i + 1}`, 200 + i + 1]),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 500, 1000].map((l): [string, number] => [
    `zstd-fast-${l}`,
    1000 + l,
  ]),
);
// acltype_table: disabled/noacl/posixacl are "bkwrd compatibility" aliases
const ACLTYPE = t(['off', 0], ['posix', 1], ['nfsv4', 2], ['disabled', 0], ['noacl', 0], ['posixacl', 1]);
// acl_inherit_table: secure = restricted
const ACLINHERIT = t(
  ['discard', 0],
  ['noallow', 1],
  ['restricted', 2],
  ['passthrough', 3],
  ['secure', 2],
  ['passthrough-x', 4],
);
// volmode_table: full = geom
const VOLMODE = t(['default', 0], ['full', 1], ['geom', 1], ['dev', 2], ['none', 3]);
const CACHE = t('none', 'metadata', 'all');

// xattr_table is the one table that changed between the versions Proxmox VE ships:
//   zfs-2.2: off, on=dir, sa, dir   → dir prints "on", sa prints "sa"
//   zfs-2.3: off, on=sa, sa, dir    → sa prints "on" (commit e419a63bf4 "xattr dataset prop: change defaults to sa")
//   zfs-2.4: off, sa, on=sa, dir    → sa prints "sa" (commit fa4d4b1f80 "Fix display of default xattr to show 'sa'")
const XATTR_OFF = 0;
const XATTR_DIR = 1;
const XATTR_SA = 2;
const XATTR_BY_VERSION: Record<'2.2' | '2.3' | '2.4', [string, number][]> = {
  '2.2': [
    ['off', XATTR_OFF],
    ['on', XATTR_DIR],
    ['sa', XATTR_SA],
    ['dir', XATTR_DIR],
  ],
  '2.3': [
    ['off', XATTR_OFF],
    ['on', XATTR_SA],
    ['sa', XATTR_SA],
    ['dir', XATTR_DIR],
  ],
  '2.4': [
    ['off', XATTR_OFF],
    ['sa', XATTR_SA],
    ['on', XATTR_SA],
    ['dir', XATTR_DIR],
  ],
};

const index = (
  attr: PropertyAttr,
  types: readonly DatasetType[],
  table: [string, number][],
  def: string,
  values: string,
): NativeProperty => ({ kind: 'index', attr, types, table, def, values });
const num = (attr: PropertyAttr, types: readonly DatasetType[], def: string): NativeProperty => ({
  kind: 'number',
  attr,
  types,
  def,
});
const str = (attr: PropertyAttr, types: readonly DatasetType[], def: string): NativeProperty => ({
  kind: 'string',
  attr,
  types,
  def,
});
const onOff = (types: readonly DatasetType[], def: 'on' | 'off', attr: PropertyAttr = 'inherit') =>
  index(attr, types, BOOLEAN, def, 'on | off');

/** zfs_prop_init() of zfs-2.3.4, the dataset properties (Linux build). */
export const NATIVE_PROPERTIES: Readonly<Record<string, NativeProperty>> = {
  // inherit index properties
  redundant_metadata: index('inherit', FS_VOL, t('all', 'most', 'some', 'none'), 'all', 'all | most | some | none'),
  sync: index('inherit', FS_VOL, t('standard', 'always', 'disabled'), 'standard', 'standard | always | disabled'),
  checksum: index(
    'inherit',
    FS_VOL,
    CHECKSUM,
    'on',
    'on | off | fletcher2 | fletcher4 | sha256 | sha512 | skein | edonr | blake3',
  ),
  dedup: index(
    'inherit',
    FS_VOL,
    DEDUP,
    'off',
    'on | off | verify | sha256[,verify] | sha512[,verify] | skein[,verify] | edonr,verify | blake3[,verify]',
  ),
  compression: index(
    'inherit',
    FS_VOL,
    COMPRESS,
    'on',
    'on | off | lzjb | gzip | gzip-[1-9] | zle | lz4 | zstd | zstd-[1-19] | zstd-fast | zstd-fast-[1-10,20,30,40,50,60,70,80,90,100,500,1000]',
  ),
  snapdir: index('inherit', FS, t('hidden', 'visible', 'disabled'), 'hidden', 'disabled | hidden | visible'),
  snapdev: index('inherit', FS_VOL, t('hidden', 'visible'), 'hidden', 'hidden | visible'),
  aclmode: index(
    'inherit',
    FS,
    t('discard', 'groupmask', 'passthrough', 'restricted'),
    'discard',
    'discard | groupmask | passthrough | restricted',
  ),
  acltype: index('inherit', FS_SNAP, ACLTYPE, 'off', 'off | nfsv4 | posix'),
  aclinherit: index(
    'inherit',
    FS,
    ACLINHERIT,
    'restricted',
    'discard | noallow | restricted | passthrough | passthrough-x',
  ),
  copies: index('inherit', FS_VOL, t(['1', 1], ['2', 2], ['3', 3]), '1', '1 | 2 | 3'),
  primarycache: index('inherit', ALL, CACHE, 'all', 'all | none | metadata'),
  secondarycache: index('inherit', ALL, CACHE, 'all', 'all | none | metadata'),
  prefetch: index('inherit', ALL, CACHE, 'all', 'none | metadata | all'),
  logbias: index('inherit', FS_VOL, t('latency', 'throughput'), 'latency', 'latency | throughput'),
  xattr: index('inherit', FS_SNAP, XATTR_BY_VERSION['2.3'], 'on', 'on | off | dir | sa'),
  dnodesize: index(
    'inherit',
    FS,
    t('legacy', 'auto', '1k', '2k', '4k', '8k', '16k'),
    'legacy',
    'legacy | auto | 1k | 2k | 4k | 8k | 16k',
  ),
  volmode: index('inherit', FS_VOL, VOLMODE, 'default', 'default | full | geom | dev | none'),
  direct: index('inherit', FS, t('disabled', 'standard', 'always'), 'standard', 'disabled | standard | always'),
  // inherit index (boolean) properties
  atime: onOff(FS, 'on'),
  relatime: onOff(FS, 'on'), // 1 except on FreeBSD
  devices: onOff(FS_SNAP, 'on'),
  exec: onOff(FS_SNAP, 'on'),
  setuid: onOff(FS_SNAP, 'on'),
  readonly: onOff(FS_VOL, 'off'),
  zoned: onOff(FS, 'off'),
  vscan: onOff(FS, 'off'),
  nbmand: onOff(FS_SNAP, 'off'),
  overlay: onOff(FS, 'on'),
  // default index properties
  version: index(
    'default', // PROP_DEFAULT: `zfs upgrade` raises it
    FS_SNAP,
    t(['1', 1], ['2', 2], ['3', 3], ['4', 4], ['5', 5], ['current', 5]),
    '5',
    '1 | 2 | 3 | 4 | 5 | current',
  ),
  canmount: index('default', FS, t('off', 'on', 'noauto'), 'on', 'on | off | noauto'),
  volthreading: onOff(VOL, 'on', 'default'),
  // readonly index properties
  mounted: index('readonly', FS, t('no', 'yes'), 'no', 'yes | no'),
  // set once index properties
  normalization: index(
    'onetime',
    FS_SNAP,
    t('none', 'formD', 'formKC', 'formC', 'formKD'),
    'none',
    'none | formC | formD | formKC | formKD',
  ),
  casesensitivity: index(
    'onetime',
    FS_SNAP,
    t('sensitive', 'insensitive', 'mixed'),
    'sensitive',
    'sensitive | insensitive | mixed',
  ),
  utf8only: onOff(FS_SNAP, 'off', 'onetime'),
  keyformat: index('onetime', FS_VOL, t('none', 'raw', 'hex', 'passphrase'), 'none', 'none | raw | hex | passphrase'),
  encryption: index(
    'onetime',
    ALL,
    t('on', 'off', 'aes-128-ccm', 'aes-192-ccm', 'aes-256-ccm', 'aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm'),
    'off',
    'on | off | aes-128-ccm | aes-192-ccm | aes-256-ccm | aes-128-gcm | aes-192-gcm | aes-256-gcm',
  ),
  // string properties
  origin: str('readonly', FS_VOL, '-'),
  mountpoint: str('inherit', FS, '/'),
  sharenfs: str('inherit', FS, 'off'),
  type: str('readonly', ALL, '-'),
  sharesmb: str('inherit', FS, 'off'),
  mlslabel: str('inherit', ALL, 'none'),
  context: str('default', ALL, 'none'),
  fscontext: str('default', ALL, 'none'),
  defcontext: str('default', ALL, 'none'),
  rootcontext: str('default', ALL, 'none'),
  keylocation: str('default', FS_VOL, 'none'),
  encryptionroot: str('readonly', ALL, '-'),
  // readonly number properties
  used: num('readonly', ALL, '0'),
  available: num('readonly', FS_VOL, '0'),
  referenced: num('readonly', ALL, '0'),
  compressratio: num('readonly', ALL, '1.00'),
  refcompressratio: num('readonly', ALL, '1.00'),
  volblocksize: num('onetime', VOL, '16384'),
  usedbysnapshots: num('readonly', FS_VOL, '0'),
  usedbydataset: num('readonly', FS_VOL, '0'),
  usedbychildren: num('readonly', FS_VOL, '0'),
  usedbyrefreservation: num('readonly', FS_VOL, '0'),
  written: num('readonly', ALL, '0'),
  logicalused: num('readonly', FS_VOL, '0'),
  logicalreferenced: num('readonly', ALL, '0'),
  createtxg: num('readonly', ALL, '0'),
  guid: num('readonly', ALL, '0'),
  objsetid: num('readonly', ALL, '0'),
  creation: num('readonly', ALL, '0'),
  // default number properties
  quota: num('default', FS, '0'),
  reservation: num('default', FS_VOL, '0'),
  volsize: num('default', VOL_SNAP, '0'),
  refquota: num('default', FS, '0'),
  refreservation: num('default', FS_VOL, '0'),
  // inherit number properties
  recordsize: num('inherit', FS, '131072'),
  special_small_blocks: num('inherit', FS_VOL, '0'),
};

/** zfs_prop.c zprop_register_*(…, colname): the short names `zfs get/list` accept too. */
export const PROPERTY_ALIASES: Readonly<Record<string, string>> = {
  avail: 'available',
  refer: 'referenced',
  recsize: 'recordsize',
  reserv: 'reservation',
  refreserv: 'refreservation',
  volblock: 'volblocksize',
  compress: 'compression',
  rdonly: 'readonly',
  ratio: 'compressratio',
};

export type ZfsVersion = '2.2' | '2.3' | '2.4';

/**
 * The table generation from `zfs version`'s first line (`zfs-2.3.4-pve1`).
 * Unknown (no `zfs version`, which came with 0.8) → the older table.
 */
export function zfsVersionOf(versionLine: string | undefined): ZfsVersion {
  const m = /zfs-(\d+)\.(\d+)/.exec(versionLine ?? '');
  if (!m) return '2.2';
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major > 2 || (major === 2 && minor >= 4)) return '2.4';
  if (major === 2 && minor === 3) return '2.3';
  return '2.2';
}

export function nativeProperty(name: string): NativeProperty | undefined {
  const canonical = PROPERTY_ALIASES[name] ?? name;
  return Object.prototype.hasOwnProperty.call(NATIVE_PROPERTIES, canonical) ? NATIVE_PROPERTIES[canonical] : undefined;
}

function indexTable(name: string, version: ZfsVersion): readonly (readonly [string, number])[] | undefined {
  if (name === 'xattr') return XATTR_BY_VERSION[version];
  return nativeProperty(name)?.table;
}

/**
 * The value as `zfs get -p` prints it on a host of that version: an index
 * alias becomes its table's first name, a size becomes bytes (`none` → 0 for
 * quotas), a mountpoint loses its trailing slash. A value zfs would refuse
 * comes back unchanged (zfs reports it).
 */
export function canonicalValue(name: string, value: string, version: ZfsVersion = '2.3'): string {
  const table = indexTable(name, version);
  if (table) {
    const entry = table.find(([n]) => n === value);
    if (!entry) return value;
    return table.find(([, v]) => v === entry[1])![0];
  }
  return normalizeValue(name, value);
}

/** Whether a native property can be given to a dataset of that type (zfs_prop_valid_for_type). */
export function appliesTo(name: string, type: DatasetType): boolean {
  const p = nativeProperty(name);
  return !p || p.types.includes(type);
}

/** User property names: zfs_prop_user() — a ':' and only [a-z0-9-_.:] (zprop_valid_char), under ZAP_MAXNAMELEN. */
export function isUserPropertyName(name: string): boolean {
  return name.includes(':') && /^[a-z0-9\-_.:]+$/.test(name) && name.length < 256;
}
