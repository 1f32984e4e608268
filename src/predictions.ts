// Check-mode memory of one host: what earlier tasks of the run would have
// made. Each kind of thing is one typed slot with its own key normaliser, so
// a writer and a reader can never disagree on a key (`/srv/d/` and `/srv/d`
// are one path) nor on the shape of the value. Modules write through their
// plan's `predict` (a list of `slot.entry(key, value)`) and read in their
// `overlay` step; nothing else builds a key or casts a value.
import { posix } from 'node:path';
import type { PctConfig } from './proxmox/pct-config.js';
import type { StorageDef } from './proxmox/storage-cfg.js';
import type { ZfsProperty } from './proxmox/zfs.js';
import type { FileState } from './remote/probe.js';

/** Per slot name, normalised key → value. Kept outside the class so only slots reach it. */
const tables = new WeakMap<Predictions, Map<string, Map<string, unknown>>>();

/** The predictions of one host (ModuleContext.predicted, HostState.predicted). */
export class Predictions {
  constructor() {
    tables.set(this, new Map());
  }

  /** predictions holding these writes (in order) */
  static of(writes: readonly PredictionWrite[]): Predictions {
    const p = new Predictions();
    applyPredictions(p, writes);
    return p;
  }

  /** `base`'s predictions with `top`'s laid over them (a new object; neither changes) */
  static layered(base: Predictions, top: Predictions): Predictions {
    const p = new Predictions();
    for (const source of [base, top])
      for (const [slot, entries] of tables.get(source)!) for (const [k, v] of entries) table(p, slot).set(k, v);
    return p;
  }

  /** nothing predicted yet (the common case: a real run, or the first tasks of a check run) */
  get empty(): boolean {
    for (const t of tables.get(this)!.values()) if (t.size > 0) return false;
    return true;
  }
}

function table(p: Predictions, slot: string): Map<string, unknown> {
  const all = tables.get(p)!;
  let t = all.get(slot);
  if (!t) all.set(slot, (t = new Map<string, unknown>()));
  return t;
}

/** One write a plan asks for; built by `slot.entry(key, value)`, so its value type is checked. */
export interface PredictionWrite {
  /** the slot's name, e.g. `path` */
  readonly slot: string;
  /** the normalised key */
  readonly key: string;
  readonly value: unknown;
  /** stores the value in `p` */
  apply(p: Predictions): void;
}

/** A kind of prediction: its name, how its keys normalise, and the type of its values. */
export class Slot<K, V> {
  constructor(
    readonly name: string,
    /** the one normalisation of this slot's keys */
    readonly key: (k: K) => string,
  ) {}

  has(p: Predictions, k: K): boolean {
    return table(p, this.name).has(this.key(k));
  }

  get(p: Predictions, k: K): V | undefined {
    return table(p, this.name).get(this.key(k)) as V | undefined;
  }

  set(p: Predictions, k: K, v: V): void {
    table(p, this.name).set(this.key(k), v);
  }

  /** every prediction of this slot: normalised key → value, in the order they were first made */
  entries(p: Predictions): Array<[string, V]> {
    return [...table(p, this.name)] as Array<[string, V]>;
  }

  /** a write for a plan's `predict` */
  entry(k: K, v: V): PredictionWrite {
    const key = this.key(k);
    return { slot: this.name, key, value: v, apply: (p) => void table(p, this.name).set(key, v) };
  }
}

/** Stores a plan's writes, in order (a later write of the same key wins). */
export function applyPredictions(p: Predictions, writes: readonly PredictionWrite[]): void {
  for (const w of writes) w.apply(p);
}

/** `slot:key` → value of a list of writes (the last write of a key wins): for tests and debugging. */
export function predictionRecord(writes: readonly PredictionWrite[] | undefined): Record<string, unknown> {
  return Object.fromEntries((writes ?? []).map((w) => [`${w.slot}:${w.key}`, w.value]));
}

// ---------------------------------------------------------------- key normalisers

/** A host path: `.`/`..` resolved, no repeated or trailing slash (`/srv/d/`, `/srv/./d`, `/srv/x/../d` → `/srv/d`). */
export function normalizePath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** A CT id as a number or its decimal string (`105`, `'105'`). */
export function normalizeCtid(ctid: number | string): string {
  const s = String(ctid).trim();
  if (!/^\d+$/.test(s)) throw new Error(`not a CT id: ${JSON.stringify(ctid)}`);
  return String(Number(s));
}

/** A dataset name without empty components (`tank//ct/` → `tank/ct`). */
export function normalizeDataset(name: string): string {
  return name.split('/').filter(Boolean).join('/');
}

// ---------------------------------------------------------------- the slots

/** What check mode knows of a CT; null: it would not exist. */
export interface PredictedCt {
  config: PctConfig;
  status: string;
}

/** What check mode knows of a dataset; null: it would be destroyed. */
export interface PredictedDataset {
  exists: true;
  properties: Record<string, ZfsProperty>;
  mountpoint: string;
}

/** What check mode knows of a Docker volume; null: it would be removed. */
export interface PredictedVolume {
  driver: string;
  options: Record<string, string>;
  mountpoint?: string;
}

/** Where a Docker volume lives: inside VM `vmid`, or on the host itself. */
export interface VolumeRef {
  vmid?: number;
  name: string;
}

/** CTs (pct): ctid → config and status. */
export const containerSlot = new Slot<number | string, PredictedCt | null>('pct', normalizeCtid);

/**
 * Host paths (file, copy, template, lineinfile, file_perm, zfs mountpoints,
 * docker_volume sources): a FileState, possibly partial (new owner/mode of an
 * existing file), or `{ exists: false }`.
 */
export const pathSlot = new Slot<string, FileState>('path', normalizePath);

/** ZFS datasets (zfs_dataset). */
export const datasetSlot = new Slot<string, PredictedDataset | null>('zfs', normalizeDataset);

/** Storage definitions of storage.cfg (pvesm), by storage id; null: removed. */
export const storageSlot = new Slot<string, StorageDef | null>('storage', (id) => id);

/** Docker volumes (docker_volume). */
export const dockerVolumeSlot = new Slot<VolumeRef, PredictedVolume | null>(
  'docker_volume',
  (v) => `${v.vmid ?? 'host'}:${v.name}`,
);

// ---------------------------------------------------------------- queries over slots

/** What earlier tasks would have made of path `p` (its own prediction, or nothing below a predicted non-directory). */
export function predictedPath(p: Predictions, path: string): FileState | undefined {
  const own = pathSlot.get(p, path);
  if (own) return own;
  // below something predicted absent, or predicted to be a non-directory, nothing exists
  for (let d = posix.dirname(normalizePath(path)); ; d = posix.dirname(d)) {
    const up = pathSlot.get(p, d);
    if (up && (!up.exists || up.type !== 'directory')) return { exists: false };
    if (d === '/' || d === '.') return undefined;
  }
}

/**
 * A host path as earlier tasks would leave it: a `path` prediction that exists
 * ({exists, type, uid, gid, mode}), or the mountpoint of a predicted dataset (a
 * root-owned 0755 directory). Undefined when nothing predicted it.
 */
export function predictedHostPath(
  p: Predictions,
  path: string,
): { type: 'd' | 'f' | '?'; uid?: number; gid?: number; mode?: number } | undefined {
  const own = pathSlot.get(p, path);
  if (own?.exists)
    return {
      type: own.type === 'directory' ? 'd' : own.type === 'file' ? 'f' : '?',
      uid: own.uid,
      gid: own.gid,
      mode: own.mode,
    };
  const norm = normalizePath(path);
  for (const [, ds] of datasetSlot.entries(p))
    if (ds && ds.mountpoint.startsWith('/') && normalizePath(ds.mountpoint) === norm)
      return { type: 'd', uid: 0, gid: 0, mode: 0o755 };
  return undefined;
}
