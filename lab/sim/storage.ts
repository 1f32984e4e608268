// /etc/pve/storage.cfg in PVE's SectionConfig format, and the volumes that live
// on those storages (templates, container root/mount-point directories).
import { mkdirSync, existsSync, readdirSync, statfsSync, rmSync } from 'node:fs';
import { readText, writeFileAtomic, hostPath, SimError, nodeName } from './env.js';
import {
  readZfs,
  writeZfs,
  createDataset,
  mountpointOf,
  destroyDataset,
  usedBytes,
  availableBytes,
} from './zfs-state.js';

export interface Storage {
  type: string;
  id: string;
  props: Record<string, string>;
}

export const CFG = '/etc/pve/storage.cfg';
/** How a plugin's `options()` lists a key: `fixed` = only at creation; not `optional` = required at creation. */
export interface OptionRule {
  fixed?: true;
  optional?: true;
}
const opt: OptionRule = { optional: true };
const fixedOnly: OptionRule = { fixed: true };
const fixedOptional: OptionRule = { fixed: true, optional: true };

/**
 * Each type's `options()` (pve-storage 9.1.7: src/PVE/Storage/DirPlugin.pm, NFSPlugin.pm,
 * ZFSPoolPlugin.pm). `pvesm add/set` of a key missing here fails even if another type knows it.
 */
export const OPTIONS: Record<string, Record<string, OptionRule>> = {
  dir: {
    path: fixedOnly,
    'content-dirs': opt,
    nodes: opt,
    shared: opt,
    disable: opt,
    'prune-backups': opt,
    'max-protected-backups': opt,
    content: opt,
    format: opt,
    mkdir: opt,
    'create-base-path': opt,
    'create-subdirs': opt,
    is_mountpoint: opt,
    bwlimit: opt,
    preallocation: opt,
    'snapshot-as-volume-chain': fixedOptional,
  },
  nfs: {
    path: fixedOnly,
    'content-dirs': opt,
    server: fixedOnly,
    export: fixedOnly,
    nodes: opt,
    disable: opt,
    'prune-backups': opt,
    'max-protected-backups': opt,
    options: opt,
    content: opt,
    format: opt,
    mkdir: opt,
    'create-base-path': opt,
    'create-subdirs': opt,
    bwlimit: opt,
    preallocation: opt,
    'snapshot-as-volume-chain': fixedOptional,
  },
  zfspool: {
    pool: fixedOnly,
    blocksize: opt,
    sparse: opt,
    nodes: opt,
    disable: opt,
    content: opt,
    bwlimit: opt,
    mountpoint: opt,
  },
};

/** Fixed keys per type (storage.cfg writes them first). */
export const FIXED: Record<string, string[]> = Object.fromEntries(
  Object.entries(OPTIONS).map(([t, o]) => [t, Object.keys(o).filter((k) => o[k].fixed)]),
);

/**
 * Every key some storage type's options() knows (all plugins of pve-storage 9.1.7): the CLI's option
 * parser accepts these for `pvesm add` (PVE::Storage::Plugin->createSchema, the union of all types).
 */
export const ALL_KEYS: ReadonlySet<string> = new Set(
  (
    'base blocksize bwlimit comstar_hg comstar_tg content content-dirs create-base-path create-subdirs data-pool ' +
    'datastore disable domain encryption-key export fingerprint format fs-name fuse is_mountpoint iscsiprovider ' +
    'keyring krbd lio_tpg master-pubkey max-protected-backups mkdir monhost mountpoint namespace nocow nodes ' +
    'nowritecache options password path pool port portal preallocation prune-backups saferemove ' +
    'saferemove-stepsize saferemove_throughput server share shared skip-cert-verification smbversion ' +
    'snapshot-as-volume-chain sparse subdir tagged_only target thinpool username vgname zfs-base-path'
  ).split(' '),
);

/**
 * Keys fixed in every type that has them: SectionConfig updateSchema leaves them out, so
 * `pvesm set --path` is an unknown option (others fixed only here, like pool or server, pass
 * the parser and fail in check_config).
 */
export const FIXED_EVERYWHERE: ReadonlySet<string> = new Set(
  'base datastore export iscsiprovider path portal share target thinpool vgname'.split(' '),
);

export const CONTENT_TYPES: Record<string, string[]> = {
  dir: ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'],
  zfspool: ['images', 'rootdir'],
  nfs: ['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import'],
};
export const DEFAULT_CONTENT: Record<string, string> = {
  dir: 'images,rootdir',
  zfspool: 'images,rootdir',
  nfs: 'images',
};
const BOOLEAN = new Set([
  'shared',
  'disable',
  'sparse',
  'create-base-path',
  'create-subdirs',
  'mkdir',
  'snapshot-as-volume-chain',
]);

export function parseStorageCfg(text: string): Storage[] {
  const out: Storage[] = [];
  let cur: Storage | null = null;
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) || line.trim() === '') {
      if (line.trim() === '') cur = null;
      continue;
    }
    const head = /^(\S+):\s*(\S+)\s*$/.exec(line);
    if (head && !/^\s/.test(line)) {
      cur = { type: head[1], id: head[2], props: {} };
      out.push(cur);
      continue;
    }
    const kv = /^\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (kv && cur) cur.props[kv[1]] = kv[2] === undefined ? '1' : kv[2].trim();
  }
  return out;
}

export function formatStorageCfg(list: Storage[]): string {
  return list
    .map((s) => {
      let text = `${s.type}: ${s.id}\n`;
      const keys = Object.keys(s.props);
      if (s.props.disable === '1') text += '\tdisable\n';
      const fixed = (FIXED[s.type] ?? []).filter((k) => keys.includes(k)).sort();
      const rest = keys.filter((k) => !fixed.includes(k) && k !== 'disable').sort();
      for (const k of [...fixed, ...rest]) text += `\t${k} ${s.props[k]}\n`;
      return text;
    })
    .join('\n');
}

/**
 * The definitions as PVE sees them: a dir `local` at /var/lib/vz is always there, added when the file
 * lacks it (pve-storage src/PVE/Storage/Plugin.pm parse_config), and written with the next change.
 */
export function readStorages(): Storage[] {
  const list = parseStorageCfg(readText(CFG) ?? '');
  const local = list.find((s) => s.id === 'local');
  if (local && local.type === 'dir' && (local.props.path ?? '/var/lib/vz') === '/var/lib/vz') {
    delete local.props.nodes; // "remove node restrictions for local storage"
    return list;
  }
  const def: Storage = {
    type: 'dir',
    id: 'local',
    props: { path: '/var/lib/vz', content: 'backup,images,iso,rootdir,snippets,vztmpl', 'prune-backups': 'keep-all=1' },
  };
  return [def, ...list.filter((s) => s !== local)];
}

export function writeStorages(list: Storage[]): void {
  writeFileAtomic(CFG, formatStorageCfg(list), 0o640);
}

export function normaliseBool(v: string): string {
  return /^(1|yes|on|true)$/i.test(v) ? '1' : '0';
}
export function isBooleanKey(k: string): boolean {
  return BOOLEAN.has(k);
}

export function enabledHere(s: Storage): boolean {
  if (s.props.disable === '1') return false;
  if (s.props.nodes && !s.props.nodes.split(',').includes(nodeName())) return false;
  return true;
}

/** pve-storage Storage.pm storage_check_enabled: `disable` first, then storage_check_node (`nodes`). */
export function checkEnabled(s: Storage): void {
  if (s.props.disable === '1') throw new SimError(`storage '${s.id}' is disabled`);
  if (s.props.nodes && !s.props.nodes.split(',').includes(nodeName()))
    throw new SimError(`storage '${s.id}' is not available on node '${nodeName()}'`);
}

export function contentOf(s: Storage): string[] {
  return (s.props.content ?? DEFAULT_CONTENT[s.type] ?? '').split(',').filter(Boolean);
}

export function findStorage(id: string): Storage | undefined {
  return readStorages().find((s) => s.id === id);
}

/** Base directory of a dir/nfs storage, or the dataset mountpoint of a zfspool. */
export function storageBase(s: Storage): string {
  if (s.type === 'zfspool') {
    const z = readZfs();
    return s.props.mountpoint ?? (z.datasets[s.props.pool] ? mountpointOf(z, s.props.pool) : `/${s.props.pool}`);
  }
  if (s.type === 'nfs') return s.props.path ?? `/mnt/pve/${s.id}`;
  return s.props.path;
}

/** The filesystem path of a volume id like `local:vztmpl/x.tar.zst` or `tank-ct:subvol-101-disk-0`. */
export function volumePath(volid: string): string | null {
  const m = /^([a-zA-Z][\w.-]*):(.+)$/.exec(volid);
  if (!m) return volid.startsWith('/') ? volid : null;
  const s = findStorage(m[1]);
  if (!s) return null;
  const base = storageBase(s);
  const vol = m[2];
  if (s.type === 'zfspool') return `${base}/${vol}`;
  if (vol.startsWith('vztmpl/')) return `${base}/template/cache/${vol.slice(7)}`;
  if (vol.startsWith('iso/')) return `${base}/template/iso/${vol.slice(4)}`;
  if (vol.startsWith('backup/')) return `${base}/dump/${vol.slice(7)}`;
  if (vol.startsWith('snippets/')) return `${base}/snippets/${vol.slice(9)}`;
  return `${base}/images/${vol}`;
}

/** Allocates a container directory volume (`pct create --rootfs stor:GiB`, `--mpN stor:GiB`). */
export function allocContainerVolume(storeId: string, vmid: string, sizeGiB: number, taken: Set<number>): string {
  const s = findStorage(storeId);
  if (!s) throw new SimError(`storage '${storeId}' does not exist`);
  checkEnabled(s);
  if (!contentOf(s).includes('rootdir'))
    throw new SimError(`storage '${storeId}' does not support container directories`);
  let n = 0;
  while (taken.has(n) || volumeExists(s, vmid, n)) n++;
  taken.add(n);
  if (s.type === 'zfspool') {
    const z = readZfs();
    const name = `${s.props.pool}/subvol-${vmid}-disk-${n}`;
    if (!z.datasets[s.props.pool])
      throw new SimError(`zfs error: cannot open '${s.props.pool}': dataset does not exist`);
    createDataset(z, name, 'filesystem', sizeGiB > 0 ? { refquota: String(sizeGiB * 1024 ** 3) } : {});
    writeZfs(z);
    return `${storeId}:subvol-${vmid}-disk-${n}`;
  }
  const vol = `${vmid}/subvol-${vmid}-disk-${n}.subvol`;
  mkdirSync(hostPath(`${storageBase(s)}/images/${vol}`), { recursive: true });
  return `${storeId}:${vol}`;
}

function volumeExists(s: Storage, vmid: string, n: number): boolean {
  if (s.type === 'zfspool') return Boolean(readZfs().datasets[`${s.props.pool}/subvol-${vmid}-disk-${n}`]);
  return existsSync(hostPath(`${storageBase(s)}/images/${vmid}/subvol-${vmid}-disk-${n}.subvol`));
}

export function freeVolume(volid: string): void {
  const m = /^([a-zA-Z][\w.-]*):(.+)$/.exec(volid);
  if (!m) return;
  const s = findStorage(m[1]);
  if (!s) return;
  if (s.type === 'zfspool') {
    const z = readZfs();
    const name = `${s.props.pool}/${m[2]}`;
    if (z.datasets[name]) {
      destroyDataset(z, name);
      writeZfs(z);
    }
    return;
  }
  const p = volumePath(volid);
  if (p) rmSync(hostPath(p), { recursive: true, force: true });
}

/** Total/used/avail in KiB for `pvesm status`. */
export function usage(s: Storage): { total: number; used: number; avail: number } {
  if (s.type === 'zfspool') {
    const z = readZfs();
    if (!z.datasets[s.props.pool]) return { total: 0, used: 0, avail: 0 };
    const used = Math.floor(usedBytes(z, s.props.pool) / 1024);
    const avail = Math.floor(availableBytes(z, s.props.pool) / 1024);
    return { total: used + avail, used, avail };
  }
  try {
    const st = statfsSync(hostPath(storageBase(s)));
    const total = Math.floor((st.blocks * st.bsize) / 1024);
    const avail = Math.floor((st.bavail * st.bsize) / 1024);
    const used = Math.floor(((st.blocks - st.bfree) * st.bsize) / 1024);
    return { total, used, avail };
  } catch {
    return { total: 0, used: 0, avail: 0 };
  }
}

export function listDirVolumes(s: Storage, sub: string): string[] {
  try {
    return readdirSync(hostPath(`${storageBase(s)}/${sub}`)).sort();
  } catch {
    return [];
  }
}
