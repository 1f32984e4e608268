// `pvesm` — storage definitions in /etc/pve/storage.cfg: add (activating the
// storage on this node), set, remove, status, list, path.
import { mkdirSync, symlinkSync, lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import { withLock, SimError, out, err, hostPath, isSelfAddress, nodeName } from './env.js';
import { parsePveArgs, parsePveArgsExpecting, unknownOption, paramError } from './pve-args.js';
import {
  readStorages,
  writeStorages,
  OPTIONS,
  ALL_KEYS,
  FIXED_EVERYWHERE,
  CONTENT_TYPES,
  normaliseBool,
  isBooleanKey,
  enabledHere,
  contentOf,
  storageBase,
  usage,
  findStorage,
  volumePath,
  listDirVolumes,
  type Storage,
} from './storage.js';
import { readZfs } from './zfs-state.js';
import { checkCfsLockQuorum } from './membership.js';
import { nfsReady, exportCovering, activeExports, mountdRegistered } from './nfs.js';

const ID_RE = /^[a-z][a-z0-9._-]*[a-z0-9]$/i;
const SUBDIRS: Record<string, string> = {
  images: 'images',
  rootdir: 'private',
  vztmpl: 'template/cache',
  iso: 'template/iso',
  backup: 'dump',
  snippets: 'snippets',
  import: 'import',
};

export function pvesm(args: string[]): number {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'add':
      return add(rest);
    case 'set':
      return set(rest);
    case 'remove':
      return remove(rest);
    case 'status':
      return status(rest);
    case 'list':
      return list(rest);
    case 'path':
      return path(rest);
    case 'scan':
      return scan(rest);
    default:
      throw new SimError(`unknown command 'pvesm ${cmd ?? ''}'\nUSAGE: pvesm <COMMAND> [ARGS] [OPTIONS]`, 255);
  }
}

function checkId(id: string): void {
  if (id.length < 2) paramError({ storage: `storage ID '${id}' cannot be shorter than 2 characters` });
  if (!ID_RE.test(id)) paramError({ storage: `storage ID '${id}' contains illegal characters` });
}

/**
 * `pvesm add` options, checked as pve-storage does: the CLI's parser knows every key of every
 * type (else "Unknown option", pve-common CLIHandler); then PVE::SectionConfig::check_config
 * (pve-common src/PVE/SectionConfig.pm, check_value) refuses a key this type's options() lacks
 * ("unexpected property"), and a required one missing ("missing value for required option").
 * API2/Storage/Config.pm `create` calls check_config outside the storage lock: no prefix.
 */
function addOptions(type: string, options: Array<[string, string]>): Record<string, string> {
  for (const [k] of options) if (!ALL_KEYS.has(k)) unknownOption(k);
  const rules = OPTIONS[type];
  const props: Record<string, string> = {};
  for (const [k, v] of options) {
    if (!rules[k]) throw new SimError(`unexpected property '${k}'`, 255);
    props[k] = isBooleanKey(k) ? normaliseBool(v) : v;
  }
  checkContent(type, props);
  return props;
}

/**
 * `pvesm set` options: the parser (SectionConfig updateSchema) knows keys some type may change,
 * plus `delete` and `digest`; API2/Storage/Config.pm `update` runs check_config (fixed, then
 * unexpected) and the delete checks inside the storage lock: "update storage failed: …".
 */
function setOptions(type: string, options: Array<[string, string]>): { props: Record<string, string>; del: string[] } {
  for (const [k] of options)
    if ((!ALL_KEYS.has(k) || FIXED_EVERYWHERE.has(k)) && k !== 'delete' && k !== 'digest') unknownOption(k);
  const rules = OPTIONS[type];
  const failed = (m: string) => new SimError(`update storage failed: ${m}`, 255);
  const props: Record<string, string> = {};
  let del: string[] = [];
  for (const [k, v] of options) {
    if (k === 'digest') continue;
    if (k === 'delete') {
      del = v.split(/[,;\s]+/).filter(Boolean);
      continue;
    }
    if (rules[k]?.fixed) throw failed(`can't change value of fixed parameter '${k}'`);
    if (!rules[k]) throw failed(`unexpected property '${k}'`);
    props[k] = isBooleanKey(k) ? normaliseBool(v) : v;
  }
  for (const k of del) {
    if (!rules[k]) throw failed(`no such option '${k}'`);
    if (!rules[k].optional) throw failed(`unable to delete required option '${k}'`);
    if (rules[k].fixed) throw failed(`unable to delete fixed option '${k}'`);
    if (props[k] !== undefined) throw failed(`cannot set and delete property '${k}' at the same time!`);
  }
  checkContent(type, props);
  return { props, del };
}

function checkContent(type: string, props: Record<string, string>): void {
  if (props.content !== undefined)
    for (const c of props.content.split(',').filter(Boolean))
      if (!CONTENT_TYPES[type].includes(c)) throw new SimError(`storage does not support content type '${c}'`, 255);
}

/**
 * NFS reachability as PVE tests it (pve-storage src/PVE/Storage/NFSPlugin.pm, check_connection):
 * options matching `vers=4.*` → rpcinfo nfs 4, else a TCP ping of 2049 (or port=N; 0 = offline);
 * otherwise `showmount --exports` must exit 0 — which a v4-only server (no mountd) fails.
 */
function nfsOnline(s: Storage): boolean {
  if (!isSelfAddress(s.props.server) || !nfsReady()) return false;
  const opts = s.props.options ?? '';
  // v4: rpcinfo nfs 4 answers whenever nfsd runs here (so port=N, used only after rpcinfo failed, never matters)
  return /vers=4/.test(opts) || mountdRegistered();
}

function activate(s: Storage): void {
  if (s.type === 'dir') {
    if (s.props['create-base-path'] !== '0') mkdirSync(hostPath(s.props.path), { recursive: true });
    if (s.props['create-subdirs'] !== '0')
      for (const c of contentOf(s))
        if (SUBDIRS[c]) mkdirSync(hostPath(`${s.props.path}/${SUBDIRS[c]}`), { recursive: true });
  } else if (s.type === 'zfspool') {
    if (!readZfs().datasets[s.props.pool])
      throw new Error(`zfs error: cannot open '${s.props.pool}': dataset does not exist`);
  } else if (s.type === 'nfs') {
    if (!nfsOnline(s)) throw new Error(`storage '${s.id}' is not online`);
    if (!exportCovering(s.props.export))
      throw new Error(
        `mount error: mount.nfs: access denied by server while mounting ${s.props.server}:${s.props.export}`,
      );
    // The "mount": a symlink to the export on this same host (the lab's NFS server is the host itself).
    const mnt = hostPath(storageBase(s));
    try {
      lstatSync(mnt);
    } catch {
      mkdirSync(dirname(mnt), { recursive: true });
      try {
        symlinkSync(s.props.export, mnt);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // a concurrent activation made it
      }
    }
  }
}

function add(args: string[]): number {
  const p = parsePveArgsExpecting(args, 2);
  const [type, id] = p.positional;
  if (!OPTIONS[type])
    paramError({
      type: `value '${type}' does not have a value in the enumeration 'btrfs, cephfs, cifs, dir, esxi, glusterfs, iscsi, iscsidirect, lvm, lvmthin, nfs, pbs, rbd, zfs, zfspool'`,
    });
  checkId(id);
  const props = addOptions(type, p.options);
  if (type === 'nfs') props.path ??= `/mnt/pve/${id}`; // NFSPlugin.pm check_config, before the required check
  for (const [k, rule] of Object.entries(OPTIONS[type]))
    if (!rule.optional && props[k] === undefined) throw new SimError(`missing value for required option '${k}'`, 255);
  if (type === 'dir' && (!props.path.startsWith('/') || props.path.includes('/../') || props.path.endsWith('/..')))
    throw new SimError(`create storage failed: illegal path for directory storage: ${props.path}`, 255);
  return withLock(() => {
    checkCfsLockQuorum('storage.cfg', 'create storage failed');
    const list = readStorages();
    if (list.some((s) => s.id === id))
      throw new SimError(`create storage failed: storage ID '${id}' already defined`, 255);
    const s: Storage = { type, id, props };
    if (enabledHere(s)) {
      try {
        activate(s);
      } catch (e) {
        throw new SimError(`create storage failed: ${(e as Error).message}`, 255);
      }
    }
    list.push(s);
    writeStorages(list);
    return 0;
  });
}

function set(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  return withLock(() => {
    checkCfsLockQuorum('storage.cfg', 'update storage failed');
    const list = readStorages();
    const s = list.find((x) => x.id === id);
    if (!s) throw new SimError(`update storage failed: storage '${id}' does not exist`, 255);
    const { props, del } = setOptions(s.type, p.options);
    for (const k of del) delete s.props[k];
    for (const [k, v] of Object.entries(props)) {
      if (k === 'disable' && v === '0') delete s.props.disable;
      else s.props[k] = v;
    }
    writeStorages(list);
    return 0;
  });
}

function remove(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  return withLock(() => {
    checkCfsLockQuorum('storage.cfg', 'delete storage failed');
    const list = readStorages();
    const i = list.findIndex((x) => x.id === id);
    if (i < 0) throw new SimError(`delete storage failed: storage '${id}' does not exist`, 255);
    list.splice(i, 1);
    writeStorages(list);
    return 0;
  });
}

/** pve-storage API2/Storage/Status.pm index over Storage.pm storage_info: a storage not enabled on this
 *  node (`disable`, or `nodes` without it) is listed as `disabled`; with --content it is left out, as are
 *  storages without that content; --enabled leaves out `disable`d ones; --target keeps shared storages
 *  available on both nodes. */
function status(args: string[]): number {
  const p = parsePveArgs(args);
  let only: string | undefined;
  let content: string[] | undefined;
  let enabledOnly = false;
  let target: string | undefined;
  for (const [k, v] of p.options) {
    if (k === 'storage') only = v;
    else if (k === 'content') content = v.split(/[,;\s]+/).filter(Boolean);
    else if (k === 'enabled') enabledOnly = normaliseBool(v) === '1';
    else if (k === 'target') target = v;
    else if (k !== 'format') unknownOption(k);
  }
  const here = nodeName();
  if (target === here || target === 'localhost') target = undefined;
  // Plugin.pm parse_config: @SHARED_STORAGE types are shared whatever the `shared` flag says
  const shared = (s: Storage) =>
    s.props.shared === '1' ||
    ['iscsi', 'nfs', 'cifs', 'rbd', 'cephfs', 'iscsidirect', 'zfs', 'drbd', 'pbs'].includes(s.type);
  const availableOn = (s: Storage, node: string) => !s.props.nodes || s.props.nodes.split(',').includes(node);
  const known = readStorages().filter(
    (s) => content === undefined || (enabledHere(s) && content.some((c) => contentOf(s).includes(c))),
  );
  if (only !== undefined && !known.some((s) => s.id === only)) paramError({ storage: 'No such storage.' });
  const list = known
    .filter((s) => only === undefined || s.id === only)
    .filter((s) => !(enabledOnly && s.props.disable === '1'))
    .filter((s) => !target || (shared(s) && availableOn(s, here) && availableOn(s, target)))
    .sort((a, b) => a.id.localeCompare(b.id));
  const width = Math.max(...list.map((s) => s.id.length), 0) + 1;
  const row = (cols: string[]) =>
    `${cols[0].padEnd(width)} ${cols[1].padStart(10)} ${cols[2].padStart(10)} ${cols[3].padStart(15)} ${cols[4].padStart(15)} ${cols[5].padStart(15)} ${cols[6].padStart(8)}\n`;
  let text = row(['Name', 'Type', 'Status', 'Total (KiB)', 'Used (KiB)', 'Available (KiB)', '%']);
  for (const s of list) {
    if (!enabledHere(s)) {
      text += row([s.id, s.type, 'disabled', '0', '0', '0', 'N/A']);
      continue;
    }
    // storage_info activates every enabled storage (a dir storage added on another node gets its
    // directories here); a failure is warned and the storage stays inactive
    let active = true;
    try {
      activate(s);
    } catch (e) {
      err(`${(e as Error).message}\n`);
      active = false;
    }
    const u = active ? usage(s) : { total: 0, used: 0, avail: 0 };
    const pct = u.total > 0 ? ((u.used / u.total) * 100).toFixed(2) : '0.00';
    text += row([
      s.id,
      s.type,
      active ? 'active' : 'inactive',
      String(u.total),
      String(u.used),
      String(u.avail),
      `${pct.padStart(7)}%`,
    ]);
  }
  out(text);
  return 0;
}

/**
 * `pvesm list <id> [--content c] [--vmid n]`: the volumes of the storage's enabled content types
 * (pve-storage Storage.pm volume_list). Guest disks: zfspool datasets `<pool>/(subvol|vm|base)-N-disk-M`,
 * dir/nfs files under images/<vmid>/; then backups, templates, ISOs, snippets.
 */
function list(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const s = findStorage(p.positional[0]);
  if (!s) paramError({ storage: 'No such storage.' });
  const content = p.options.find(([k]) => k === 'content')?.[1];
  const vmid = p.options.find(([k]) => k === 'vmid')?.[1];
  const enabled = contentOf(s).filter((c) => !content || c === content);
  const rows: string[][] = [];
  const guestDisks: Array<{ vol: string; owner: string; rootdir: boolean; format: string }> = [];
  if (s.type === 'zfspool') {
    const prefix = `${s.props.pool}/`;
    for (const name of Object.keys(readZfs().datasets).sort()) {
      const m = /^(subvol|vm|base)-(\d+)-disk-\d+$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '');
      if (m)
        guestDisks.push({
          vol: m[0],
          owner: m[2],
          rootdir: m[1] === 'subvol',
          format: m[1] === 'subvol' ? 'subvol' : 'raw',
        });
    }
  } else {
    for (const owner of listDirVolumes(s, 'images').filter((d) => /^\d+$/.test(d)))
      for (const f of listDirVolumes(s, `images/${owner}`)) {
        const rootdir = f.endsWith('.subvol');
        guestDisks.push({ vol: `${owner}/${f}`, owner, rootdir, format: rootdir ? 'subvol' : f.replace(/^.*\./, '') });
      }
  }
  for (const d of guestDisks)
    if (enabled.includes(d.rootdir ? 'rootdir' : 'images'))
      rows.push([`${s.id}:${d.vol}`, d.format, d.rootdir ? 'rootdir' : 'images', '8589934592', d.owner]);
  if (s.type !== 'zfspool')
    for (const [kind, sub] of [
      ['backup', 'dump'],
      ['vztmpl', 'template/cache'],
      ['iso', 'template/iso'],
      ['snippets', 'snippets'],
    ] as const)
      if (enabled.includes(kind))
        for (const f of listDirVolumes(s, sub))
          rows.push([
            `${s.id}:${kind}/${f}`,
            f.endsWith('.iso') ? 'iso' : f.endsWith('.tar.zst') ? 'tzst' : f.replace(/^.*\./, ''),
            kind,
            '126248246',
            kind === 'backup' ? (/^vzdump-(?:lxc|qemu)-(\d+)-/.exec(f)?.[1] ?? '') : '',
          ]);
  let text = `${'Volid'.padEnd(60)} ${'Format'.padEnd(6)}  ${'Type'.padEnd(8)} ${'Size'.padStart(16)} VMID\n`;
  for (const r of rows.filter((r) => vmid === undefined || r[4] === vmid))
    text += `${r[0].padEnd(60)} ${r[1].padEnd(6)}  ${r[2].padEnd(8)} ${r[3].padStart(16)} ${r[4]}\n`;
  out(text);
  return 0;
}

function path(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const v = volumePath(p.positional[0]);
  if (!v) throw new SimError(`unable to parse volume ID '${p.positional[0]}'`, 255);
  out(`${v}\n`);
  return 0;
}

/** `pvesm scan nfs <server>`: the server's exports, `path clients` per line. */
function scan(args: string[]): number {
  const [kind, server] = args;
  if (kind !== 'nfs' || !server) throw new SimError('400 not enough arguments', 255);
  if (!isSelfAddress(server) || !nfsReady())
    throw new SimError('rpc mount export: RPC: Unable to receive; errno = Connection refused', 255);
  const byPath = new Map<string, string[]>();
  for (const e of activeExports()) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e.client]);
  const width = Math.max(0, ...[...byPath.keys()].map((p) => p.length));
  out([...byPath].map(([p, c]) => `${p.padEnd(width)} ${c.join(',')}\n`).join(''));
  return 0;
}
