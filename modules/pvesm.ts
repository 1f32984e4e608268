// pvesm — Proxmox storage definitions (/etc/pve/storage.cfg) as declared.
// One storage (`id`, `type`, its keys) or a whole list (`storages:`, with
// `prune: true` removing definitions not listed — never the installer's
// `local`, `local-zfs`, `local-lvm` unless listed `state: absent`, and never
// one in use: referenced by a guest config of the cluster or holding volumes,
// which `pvesm remove` itself does not check). Missing ones
// are added, differing keys `set` (content and nodes compared as sets); a
// fixed key (path, pool, server, export) or the type differing is drift: the
// task fails and names it, unless `recreate: true` (remove + add). An nfs
// storage first waits (bounded) for exactly what `pvesm add nfs` checks
// (NFSPlugin.pm check_connection), since it fails on a server not answering yet.
// Keys per type are those the type's `options()` in pve-storage allow.
// In a cluster storage.cfg is every member's (pmxcfs): the members of one cluster
// run this module one after another in a run (sharedScope), so one adds each
// storage and the others find it there; prune never removes a definition
// restricted (`nodes`) to other nodes as well.
import * as z from 'zod';
import { defineModule, CommandFailed, ModuleError, type Change, type Plan } from '../src/module.js';
import { describeProbes, pveOnlineCheck, waitForNfs, type NfsWaitOptions } from '../src/proxmox/nfs.js';
import { inUseReason, parseStorageUse, storageUseArgv, type StorageUse } from '../src/proxmox/storage-use.js';
import { seconds } from '../src/remote/seconds-arg.js';
import { clusterMembership, clusterScopeKey, type ClusterMembership } from '../src/proxmox/cluster.js';
import { printCommaList } from '../src/encode/comma-list.js';
import { printMountOptions } from '../src/encode/mount-options.js';
import { printPropertyString } from '../src/encode/property-string.js';
import { listElement, mountOptionRecord, propertyRecord } from '../src/encode/schemas.js';
import { storageSlot, type PredictionWrite, type Predictions } from '../src/predictions.js';
import { once } from '../src/once.js';
import {
  FIXED_KEYS,
  TYPE_KEYS,
  effectiveValue,
  isStorageType,
  parseStorageCfg,
  sameStorageValue,
  serializeStorageCfg,
  storageIdError,
  type StorageDef,
  type StorageType,
} from '../src/proxmox/storage-cfg.js';

export const STORAGE_CFG = '/etc/pve/storage.cfg';

// ---------------------------------------------------------------- arguments

/** A key accepted only to be refused with a hint (instead of zod's bare "unrecognized key"). */
function refused(message: string) {
  return z
    .unknown()
    .refine(() => false, { message })
    .optional();
}

/** The argument schemas, built on first use (src/module.ts ModuleSpec). */
const schemas = once(() => {
  const boolish = z
    .union([z.boolean(), z.literal(0), z.literal(1)])
    .transform((v) => (v === true || v === 1 ? '1' : '0'));
  const commaList = z
    .union([z.array(listElement()), z.string()])
    .transform((v) => (Array.isArray(v) ? printCommaList(v) : v));
  const text = z.union([z.string(), z.number()]).transform((v) => String(v));

  /** The storage keys, named as in storage.cfg. `null` removes an optional key (`pvesm set --delete`). */
  const storageKeys = {
    path: z.string().optional(),
    pool: z.string().optional(),
    server: z.string().optional(),
    export: z.string().optional(),
    content: commaList.nullable().optional(),
    nodes: commaList.nullable().optional(),
    disable: boolish.optional(),
    shared: boolish.nullable().optional(),
    sparse: boolish.nullable().optional(),
    'create-base-path': boolish.nullable().optional(),
    'create-subdirs': boolish.nullable().optional(),
    is_mountpoint: z
      .union([z.boolean(), z.string()])
      .transform((v) => (v === true ? 'yes' : v === false ? 'no' : v))
      .nullable()
      .optional(),
    mountpoint: z.string().nullable().optional(),
    blocksize: text.nullable().optional(),
    options: z
      .union([z.string(), mountOptionRecord()])
      .transform((v) => (typeof v === 'string' ? v : printMountOptions(Object.entries(v))))
      .nullable()
      .optional()
      .describe('NFS mount options: a string, or a mapping like {vers: 4.2, soft: true}'),
    'prune-backups': z
      .union([z.string(), propertyRecord()])
      .transform((v) =>
        typeof v === 'string'
          ? v
          : printPropertyString(
              undefined,
              Object.entries(v).map(([k, n]) => [k, String(n)]),
            ),
      )
      .nullable()
      .optional(),
  };
  const keyNames = Object.keys(storageKeys);

  const perStorage = {
    type: z.enum(['dir', 'zfspool', 'nfs']).optional(),
    state: z.enum(['present', 'absent']).optional(),
    /** a fixed key or the type differs: remove the definition and add it again (data stays) */
    recreate: z.boolean().optional(),
    /** seconds an nfs storage waits for its export before `pvesm add` */
    nfs_timeout: seconds(3600).optional(),
    /** gone: the wait now makes PVE's own check (v4-only servers: `options: vers=4.2`) */
    nfs_showmount: refused(
      'nfs_showmount is gone: pvesm now waits for exactly what `pvesm add nfs` checks (NFSPlugin.pm check_connection): showmount exiting 0, or with options: vers=4.x rpcinfo/TCP only. For an NFSv4-only server set options: vers=4.2',
    ),
    /** pve-storage has no comment property: `pvesm add … --comment` is an unknown option */
    comment: refused(
      "comment is not a storage property: pve-storage has none (`pvesm add/set --comment` fails with 'Unknown option: comment'); write the note as a YAML comment or in the task name",
    ),
    ...storageKeys,
  };

  const storageItem = z.object({ id: z.string(), ...perStorage }).strict();

  const rawArgs = z
    .object({
      id: z.string().optional(),
      ...perStorage,
      /** the whole desired list */
      storages: z.array(storageItem).optional(),
      /** with `storages`: remove definitions not in the list (never the installer's nor one in use) */
      prune: z.boolean().default(false),
      /** with prune: ids never removed although not listed */
      keep: z.array(z.string()).default([]),
    })
    .strict();
  return { storageItem, rawArgs, keyNames };
});

export interface DesiredStorage {
  id: string;
  type?: StorageType;
  state: 'present' | 'absent';
  /** wanted key → value; null = remove the key */
  keys: Record<string, string | null>;
  recreate: boolean;
  nfsTimeout: number;
}

export interface PvesmArgs {
  storages: DesiredStorage[];
  prune: boolean;
  /** ids prune leaves alone (besides the installer's, those in use and types this module cannot declare) */
  keep: string[];
  /** the task named one storage (result fields for one) */
  single: boolean;
}

type RawStorage = z.output<ReturnType<typeof schemas>['storageItem']>;

function desired(raw: RawStorage, defaults: Partial<RawStorage>): DesiredStorage {
  const keys: Record<string, string | null> = {};
  for (const k of schemas().keyNames) {
    const v = (raw as Record<string, unknown>)[k];
    if (v !== undefined) keys[k] = v as string | null;
  }
  return {
    id: raw.id,
    type: raw.type,
    state: raw.state ?? 'present',
    keys,
    recreate: raw.recreate ?? defaults.recreate ?? false,
    nfsTimeout: raw.nfs_timeout ?? defaults.nfs_timeout ?? 60,
  };
}

/** Checks one storage; issues go to `path` (for located errors). */
function checkStorage(d: DesiredStorage, path: (string | number)[], c: z.RefinementCtx): void {
  const issue = (message: string, key?: string) =>
    c.addIssue({ code: 'custom', path: key ? [...path, key] : path, message });
  const idErr = storageIdError(d.id);
  if (idErr) issue(idErr, 'id');
  for (const [k, v] of Object.entries(d.keys)) {
    if (v !== null && /[\n\r]/.test(v)) issue(`${k} must not contain a newline: storage.cfg holds one line per key`, k);
    else if (v !== null && v.includes('\0')) issue(`${k} must not contain a NUL character`, k);
  }
  if (d.state === 'absent') return;
  if (!d.type) return issue(`storage '${d.id}': type is required (dir, zfspool or nfs)`, 'type');
  const allowed = new Set([...TYPE_KEYS[d.type], 'disable']);
  for (const k of Object.keys(d.keys)) {
    if (!allowed.has(k))
      issue(`${k} is not a key of ${d.type} storage (allowed: ${[...allowed].sort().join(', ')})`, k);
  }
  const required = d.type === 'dir' ? ['path'] : d.type === 'zfspool' ? ['pool'] : ['server', 'export'];
  for (const k of required)
    if (d.keys[k] === undefined || d.keys[k] === null || d.keys[k] === '')
      issue(`storage '${d.id}': ${d.type} storage needs ${k}`, k);
  for (const k of FIXED_KEYS[d.type])
    if (d.keys[k] === null) issue(`${k} is a fixed key of ${d.type} storage and cannot be removed`, k);
  for (const k of ['path', 'export', 'mountpoint']) {
    const v = d.keys[k];
    if (typeof v === 'string' && !v.startsWith('/')) issue(`${k} must be an absolute path`, k);
  }
  if (
    d.keys.server !== undefined &&
    d.keys.server !== null &&
    (/\s/.test(d.keys.server) || d.keys.server.startsWith('-'))
  )
    issue('server must be a host name or IP address', 'server');
}

const args = () =>
  schemas()
    .rawArgs.superRefine((a, c) => {
      const listForm = a.storages !== undefined;
      if (listForm && a.id !== undefined)
        c.addIssue({
          code: 'custom',
          path: ['storages'],
          message: 'give either one storage (id, type, ...) or storages: [...], not both',
        });
      if (!listForm && a.id === undefined)
        c.addIssue({ code: 'custom', path: ['id'], message: 'id is required (or storages: [...] for a whole list)' });
      if (!listForm && a.prune)
        c.addIssue({ code: 'custom', path: ['prune'], message: 'prune needs the whole list: storages: [...]' });
      if (a.keep.length && !a.prune)
        c.addIssue({ code: 'custom', path: ['keep'], message: 'keep only means something with prune: true' });
      if (listForm) {
        const single = schemas()
          .keyNames.filter((k) => (a as Record<string, unknown>)[k] !== undefined)
          .concat(a.type ? ['type'] : [], a.state ? ['state'] : []);
        if (single.length)
          c.addIssue({
            code: 'custom',
            path: [single[0]],
            message: `with storages: [...], put ${single.join(', ')} inside each storage`,
          });
        const seen = new Set<string>();
        a.storages!.forEach((s, i) => {
          if (seen.has(s.id))
            c.addIssue({ code: 'custom', path: ['storages', i, 'id'], message: `storage '${s.id}' is listed twice` });
          seen.add(s.id);
          checkStorage(desired(s, a), ['storages', i], c);
        });
      } else if (a.id !== undefined) {
        checkStorage(desired({ ...a, id: a.id }, {}), [], c);
      }
    })
    .transform((a): PvesmArgs => ({
      storages: a.storages ? a.storages.map((s) => desired(s, a)) : [desired({ ...a, id: a.id! }, {})],
      prune: a.prune,
      keep: a.keep,
      single: a.storages === undefined,
    }));

// ---------------------------------------------------------------- facts

export interface PvesmFacts {
  /** the definitions in storage.cfg, in file order */
  storages: StorageDef[];
  /** with prune: what uses each storage prune would otherwise remove */
  use?: Record<string, StorageUse>;
  /** the facts include check-mode predictions of earlier tasks */
  predicted?: boolean;
  /** this node and its cluster (absent: a standalone node, as in facts recorded before clusters) */
  membership?: ClusterMembership;
}

/**
 * The `local` storage PVE always has (pve-storage src/PVE/Storage/Plugin.pm parse_config): when storage.cfg
 * is missing, or has no dir `local` at /var/lib/vz, PVE uses this one.
 */
const DEFAULT_LOCAL: StorageDef = {
  type: 'dir',
  id: 'local',
  keys: { path: '/var/lib/vz', content: 'backup,images,iso,rootdir,snippets,vztmpl', 'prune-backups': 'keep-all=1' },
};

/** PVE's view of the file: `local` is there even when the file lacks it (parse_config). */
function withLocal(storages: StorageDef[]): StorageDef[] {
  const local = storages.find((s) => s.id === 'local');
  if (local && local.type === 'dir' && (local.keys.path ?? '/var/lib/vz') === '/var/lib/vz') return storages;
  return [{ ...DEFAULT_LOCAL, keys: { ...DEFAULT_LOCAL.keys } }, ...storages.filter((s) => s.id !== 'local')];
}

/** Check mode: lays the storage definitions earlier tasks would add, change or remove over the file's. */
export function overlay(f: PvesmFacts, _a: unknown, predicted: Predictions): PvesmFacts {
  const writes = storageSlot.entries(predicted);
  if (writes.length === 0) return f;
  let out = f.storages.map((d) => ({ ...d, keys: { ...d.keys } }));
  for (const [id, v] of writes) {
    const i = out.findIndex((d) => d.id === id);
    if (v === null) out = out.filter((d) => d.id !== id);
    else if (i >= 0) out[i] = v;
    else out.push(v);
  }
  return { ...f, storages: out, predicted: true };
}

/** Installer-made storages (ZFS or LVM root install): prune keeps them unless listed `state: absent`. */
export const INSTALLER_STORAGES: readonly string[] = ['local', 'local-zfs', 'local-lvm'];

/** The definitions prune would remove, before asking what uses them. */
function pruneCandidates(storages: readonly StorageDef[], a: PvesmArgs): StorageDef[] {
  if (!a.prune) return [];
  const listed = new Set(a.storages.map((d) => d.id));
  // storages of types this module cannot declare (lvmthin, pbs, cifs…) stay: they could never be listed to keep them
  return storages.filter(
    (s) => !listed.has(s.id) && !INSTALLER_STORAGES.includes(s.id) && !a.keep.includes(s.id) && isStorageType(s.type),
  );
}

// ---------------------------------------------------------------- plan

/** `--key value` pairs for the keys of a definition, fixed keys first. */
function keyArgs(type: StorageType, keys: Record<string, string>): string[] {
  const fixed = FIXED_KEYS[type].filter((k) => keys[k] !== undefined);
  const rest = Object.keys(keys)
    .filter((k) => !fixed.includes(k))
    .sort();
  return [...fixed, ...rest].flatMap((k) => [`--${k}`, keys[k]]);
}

function presentKeys(keys: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(Object.entries(keys).filter((e): e is [string, string] => e[1] !== null));
}

/**
 * The wait before `pvesm add nfs`, for what add checks before writing anything (pve-storage
 * NFSPlugin.pm check_connection, via pveOnlineCheck): bounded, fails with what the probes last saw.
 */
function nfsWaitChange(d: DesiredStorage): Change {
  const o: NfsWaitOptions = {
    server: d.keys.server!,
    export: d.keys.export!,
    timeout: d.nfsTimeout,
    interval: 1,
    ...pveOnlineCheck(d.keys.options),
  };
  return {
    description: `wait for NFS ${o.server}:${o.export}`,
    apply: async (ctx) => {
      const r = await waitForNfs(ctx, o);
      if (r.ready) return;
      const last = describeProbes(r, o);
      throw new ModuleError(
        `wait for NFS ${o.server}:${o.export} before pvesm add nfs ${d.id}: storage '${d.id}': NFS export ${o.server}:${o.export} not ready after ${r.elapsed} s (${r.attempts} probes, nfs_timeout ${d.nfsTimeout} s); nothing was added. Last probe:\n${last}`,
      );
    },
  };
}

interface Step {
  changes: Change[];
  after: StorageDef | null;
  kind: 'added' | 'updated' | 'removed' | 'recreated';
}

function addStep(d: DesiredStorage & { type: StorageType }): Change[] {
  const keys = presentKeys(d.keys);
  return [
    // add activates (so checks the server) only an enabled storage (API2/Storage/Config.pm create)
    ...(d.type === 'nfs' && d.keys.disable !== '1' ? [nfsWaitChange(d)] : []),
    { description: `add ${d.type} storage ${d.id}`, argv: ['pvesm', 'add', d.type, d.id, ...keyArgs(d.type, keys)] },
  ];
}

/** Plans one desired storage against its current definition; a string is a refusal. */
function planOne(d: DesiredStorage, cur: StorageDef | undefined): Step | string | undefined {
  const remove: Change = { description: `remove storage ${d.id}`, argv: ['pvesm', 'remove', d.id] };
  if (d.state === 'absent') return cur ? { changes: [remove], after: null, kind: 'removed' } : undefined;
  const type = d.type!;
  const wantedDef: StorageDef = { type, id: d.id, keys: presentKeys(d.keys) };
  // pvesm add writes the default mount path of an nfs storage into storage.cfg
  if (type === 'nfs' && wantedDef.keys.path === undefined) wantedDef.keys.path = `/mnt/pve/${d.id}`;
  if (!cur) return { changes: addStep({ ...d, type }), after: wantedDef, kind: 'added' };

  const drift: string[] = [];
  if (cur.type !== type) drift.push(`storage ID '${d.id}' is already defined as type ${cur.type}, wanted ${type}`);
  else {
    for (const k of FIXED_KEYS[type]) {
      const want = d.keys[k];
      if (want === undefined || want === null) continue;
      const have = effectiveValue(cur, k);
      if (!sameStorageValue(k, have, want))
        drift.push(`storage '${d.id}': fixed key ${k} is '${have ?? '(unset)'}' on the host, wanted '${want}'`);
    }
  }
  if (drift.length) {
    if (!d.recreate) {
      return `${drift.join('; ')} — pvesm set cannot change ${cur.type !== type ? 'the type' : 'a fixed key'}; set recreate: true to remove and re-add the definition (data on the storage stays; guests using it must be checked)`;
    }
    const changes = addStep({ ...d, type });
    // wait for NFS first, so a server that is down does not leave the storage removed
    const wait = type === 'nfs' ? [changes.shift()!] : [];
    return { changes: [...wait, remove, ...changes], after: wantedDef, kind: 'recreated' };
  }

  const set: string[] = [];
  const del: string[] = [];
  const after: StorageDef = { ...cur, keys: { ...cur.keys } };
  for (const [k, want] of Object.entries(d.keys)) {
    if (FIXED_KEYS[type].includes(k)) continue;
    if (want === null) {
      if (cur.keys[k] !== undefined) {
        del.push(k);
        delete after.keys[k];
      }
      continue;
    }
    if (sameStorageValue(k, effectiveValue(cur, k), want)) continue;
    set.push(`--${k}`, want);
    if (k === 'disable' && want === '0') delete after.keys.disable;
    else after.keys[k] = want;
  }
  if (!set.length && !del.length) return undefined;
  const argv = ['pvesm', 'set', d.id, ...set, ...(del.length ? ['--delete', del.join(',')] : [])];
  const what = [...set.filter((_, i) => i % 2 === 0).map((s) => s.slice(2)), ...del.map((k) => `-${k}`)];
  return { changes: [{ description: `set ${what.join(', ')} on storage ${d.id}`, argv }], after, kind: 'updated' };
}

/**
 * In a cluster, storage.cfg is every node's: a definition restricted (`nodes`) to other nodes
 * too belongs to them as well, and one node's prune must not take it from them. Returns the
 * other nodes (for the message), or undefined when the storage is this node's to prune.
 */
function otherNodesOf(s: StorageDef, m: ClusterMembership | undefined): string | undefined {
  if (!m?.cluster || s.keys.nodes === undefined) return undefined;
  const nodes = s.keys.nodes
    .split(/[,;\s]+/)
    .map((n) => n.trim())
    .filter(Boolean);
  const others = nodes.filter((n) => n !== m.node);
  return others.length ? `node${others.length > 1 ? 's' : ''} ${others.join(', ')}` : undefined;
}

export function planPvesm(f: PvesmFacts, a: PvesmArgs): Plan {
  const current = new Map(f.storages.map((s) => [s.id, s]));
  const refusals: string[] = [];
  const changes: Change[] = [];
  const added: string[] = [];
  const updated: string[] = [];
  const removed: string[] = [];
  const predict: PredictionWrite[] = [];
  let afterDefs = f.storages.map((s) => s);
  const setAfter = (id: string, def: StorageDef | null) => {
    predict.push(storageSlot.entry(id, def));
    if (def === null) afterDefs = afterDefs.filter((s) => s.id !== id);
    else if (afterDefs.some((s) => s.id === id)) afterDefs = afterDefs.map((s) => (s.id === id ? def : s));
    else afterDefs = [...afterDefs, def];
  };

  for (const d of a.storages) {
    const step = planOne(d, current.get(d.id));
    if (step === undefined) continue;
    if (typeof step === 'string') {
      refusals.push(step);
      continue;
    }
    changes.push(...step.changes);
    setAfter(d.id, step.after);
    if (step.kind === 'added') added.push(d.id);
    else if (step.kind === 'removed') removed.push(d.id);
    else updated.push(d.id);
  }
  const kept: string[] = [];
  const inUse: Record<string, string> = {};
  const otherNodes: Record<string, string> = {};
  if (a.prune) {
    const listed = new Set(a.storages.map((d) => d.id));
    const candidates = new Set(pruneCandidates(f.storages, a).map((s) => s.id));
    for (const s of f.storages) {
      if (listed.has(s.id)) continue;
      const why = inUseReason(f.use?.[s.id]);
      const others = candidates.has(s.id) ? otherNodesOf(s, f.membership) : undefined;
      if (!candidates.has(s.id) || why || others) {
        kept.push(s.id);
        if (why) inUse[s.id] = why;
        else if (others) otherNodes[s.id] = others;
        continue;
      }
      changes.push({ description: `remove storage ${s.id} (not in the list)`, argv: ['pvesm', 'remove', s.id] });
      setAfter(s.id, null);
      removed.push(s.id);
    }
  }
  if (refusals.length) return { changes: [], fail: refusals.join('\n') };

  const wanted = a.storages.filter((d) => d.state === 'present').map((d) => afterDefs.find((s) => s.id === d.id)!);
  const storages = Object.fromEntries(wanted.map((s) => [s.id, { type: s.type, ...s.keys }]));
  const result: Record<string, unknown> = { added, updated, removed, storages };
  if (a.prune) Object.assign(result, { kept, in_use: inUse, other_nodes: otherNodes });
  if (a.single) Object.assign(result, { id: a.storages[0].id, state: a.storages[0].state });
  const parts = [
    added.length && `added ${added.join(', ')}`,
    updated.length && `updated ${updated.join(', ')}`,
    removed.length && `removed ${removed.join(', ')}`,
  ].filter(Boolean);
  const keptInUse = [
    ...Object.entries(inUse).map(([id, why]) => `kept ${id} although not listed: in use (${why})`),
    ...Object.entries(otherNodes).map(
      ([id, nodes]) => `kept ${id} although not listed: restricted to ${nodes}, not this node's alone`,
    ),
  ];
  return {
    changes,
    result,
    msg:
      [parts.length ? parts.join('; ') : 'storage definitions are as wanted', ...keptInUse].join('; ') +
      (f.predicted ? ' (after the changes earlier tasks would make)' : ''),
    diff: changes.length
      ? {
          before: serializeStorageCfg(f.storages),
          after: serializeStorageCfg(afterDefs),
          before_header: STORAGE_CFG,
          after_header: STORAGE_CFG,
        }
      : undefined,
    predict: changes.length ? predict : undefined,
  };
}

// ---------------------------------------------------------------- module

export default defineModule<PvesmArgs, PvesmFacts>({
  name: 'pvesm',
  description:
    'Proxmox storage definitions (storage.cfg): add, set differing keys, remove, prune; fixed-key drift fails',
  args,
  // storage.cfg is cluster-wide: the members of one cluster take turns (src/shared-scope.ts)
  sharedScope: async (ctx) => clusterScopeKey(await clusterMembership(ctx)),
  async facts(ctx, a) {
    const membership = await clusterMembership(ctx);
    const r = await ctx.run(['cat', STORAGE_CFG], { okExit: 'any' });
    if (r.rc !== 0 && !/No such file/i.test(r.stderr)) throw new CommandFailed(['cat', STORAGE_CFG], r);
    const storages = withLocal(r.rc === 0 ? parseStorageCfg(r.stdout) : []);
    // another node's storage is kept whatever uses it: no need to ask (its pvesm list fails here anyway)
    const ids = pruneCandidates(storages, a)
      .filter((s) => !otherNodesOf(s, membership))
      .map((s) => s.id);
    if (!ids.length) return { storages, membership };
    const { argv, marker } = storageUseArgv(ids);
    const u = await ctx.run(argv, { okExit: 'any' });
    return { storages, membership, use: Object.fromEntries(parseStorageUse(u.stdout, marker, ids)) };
  },
  overlay,
  plan: (f, a) => planPvesm(f, a),
  verify: true,
});
