// file_perm: owner, group and mode of a path (optionally its whole tree, with
// separate modes for directories and files), where owner/group may be a
// container's root (`container_root: <ctid>`, from its idmap). Reads the whole
// tree, the accounts and the CT configs in ONE round trip; changes only the
// entries that differ, batched per target.
import * as z from 'zod';
import { defineModule, type Change, type ModuleContext, type Plan } from '../src/module.js';
import { containerSlot, pathSlot, predictedHostPath, type Predictions } from '../src/predictions.js';
import { ctConfPath, effectiveConfig, parsePctConfig, type PctConfig } from '../src/proxmox/pct-config.js';
import { containerRoot } from '../src/proxmox/idmap.js';
import { runBatch } from '../src/remote/batch.js';
import { octalModeArg } from '../src/remote/mode.js';
import type { FileState } from '../src/remote/probe.js';
import { noFollowArgv } from '../src/remote/no-follow.js';
import { pmxcfsRefusal } from '../src/remote/pmxcfs.js';

// ---------------------------------------------------------------- arguments

const ctidArg = () =>
  z
    .union([z.number().int(), z.string().regex(/^\d+$/, { message: 'must be a CT id like 105' })])
    .transform((v) => Number(v))
    .pipe(z.number().int().min(100, { message: 'CT ids start at 100' }).max(999999999));

const account = () =>
  z.union([
    z.number().int().nonnegative(),
    z
      .string()
      .min(1)
      .regex(/^[^:\s\0]+$/, { message: 'must be a user/group name or number (no spaces or colons)' }),
    z.object({ container_root: ctidArg() }).strict(),
  ]);

const args = () => {
  const modeArg = octalModeArg('0644');
  return z
    .object({
      path: z
        .string()
        .startsWith('/', { message: 'must be an absolute path' })
        .regex(/^[^\0]*$/, { message: 'must not contain NUL' }),
      state: z
        .enum(['directory', 'file', 'exists'])
        .default('exists')
        .describe('directory: created (mkdir -p) if missing; file/exists: must exist'),
      owner: account().optional(),
      group: account().optional(),
      mode: modeArg.optional(),
      recurse: z.boolean().default(false),
      dir_mode: modeArg.optional().describe('mode for directories (default: mode)'),
      file_mode: modeArg.optional().describe('mode for regular files (default: mode)'),
    })
    .strict()
    .refine(
      (a) =>
        a.owner !== undefined ||
        a.group !== undefined ||
        a.mode !== undefined ||
        a.dir_mode !== undefined ||
        a.file_mode !== undefined ||
        a.state === 'directory',
      {
        message: 'nothing to do: give owner, group, mode, dir_mode or file_mode',
      },
    );
};

export type FilePermArgs = z.output<ReturnType<typeof args>>;
type Account = z.output<ReturnType<typeof account>>;

// ---------------------------------------------------------------- facts

export interface Entry {
  /** find's %y: f, d, l, p, s, c, b */
  type: string;
  uid: number;
  gid: number;
  mode: number;
  path: string;
}

export interface FilePermFacts {
  /** null: the path does not exist */
  entries: Entry[] | null;
  error?: string;
  /** name → id (null: unknown on the host) */
  users: Record<string, number | null>;
  groups: Record<string, number | null>;
  /** ctid → config (null: no such CT) */
  cts: Record<string, PctConfig | null>;
  /** ctid → why its config could not be read */
  ctErrors: Record<string, string>;
}

/** Parses `find -printf '%y %U %G %m %p\0'`. */
export function parseFindOutput(out: string): Entry[] {
  const entries: Entry[] = [];
  for (const rec of out.split('\0')) {
    if (rec === '') continue;
    const m = /^(\S) (\d+) (\d+) ([0-7]+) ([\s\S]*)$/.exec(rec);
    if (!m) continue;
    entries.push({ type: m[1], uid: Number(m[2]), gid: Number(m[3]), mode: parseInt(m[4], 8), path: m[5] });
  }
  return entries;
}

const isName = (a: Account | undefined): a is string => typeof a === 'string' && !/^\d+$/.test(a);
const ctOf = (a: Account | undefined): number | undefined => (typeof a === 'object' ? a.container_root : undefined);

async function facts(ctx: ModuleContext, a: FilePermArgs): Promise<FilePermFacts> {
  const cmds: string[][] = [
    ['find', '-H', a.path, ...(a.recurse ? [] : ['-maxdepth', '0']), '-printf', '%y %U %G %m %p\\0'],
  ];
  const lookups: Array<['user' | 'group' | 'ct', string]> = [];
  if (isName(a.owner)) {
    cmds.push(['getent', 'passwd', a.owner]);
    lookups.push(['user', a.owner]);
  }
  if (isName(a.group)) {
    cmds.push(['getent', 'group', a.group]);
    lookups.push(['group', a.group]);
  }
  for (const id of new Set([ctOf(a.owner), ctOf(a.group)].filter((x): x is number => x !== undefined))) {
    // the file `pct config` loads, read as pct config shows it (pending values taken in)
    cmds.push(['cat', '--', ctConfPath(id)]);
    lookups.push(['ct', String(id)]);
  }
  const [find, ...rest] = await runBatch(ctx, cmds);
  const f: FilePermFacts = { entries: null, users: {}, groups: {}, cts: {}, ctErrors: {} };
  const entries = parseFindOutput(find.stdout);
  if (find.rc === 0 || entries.length > 0) {
    f.entries = entries;
    if (find.rc !== 0) f.error = `reading ${a.path} failed: ${find.stderr.trim()}`;
  } else if (!/No such file or directory/.test(find.stderr)) {
    f.error = `reading ${a.path} failed: ${find.stderr.trim() || `exit code ${find.rc}`}`;
  }
  rest.forEach((r, i) => {
    const [kind, name] = lookups[i];
    if (kind === 'ct') {
      if (r.rc === 0) f.cts[name] = effectiveConfig(parsePctConfig(r.stdout));
      else if (/No such file or directory/.test(r.stderr)) f.cts[name] = null;
      else f.ctErrors[name] = `reading ${ctConfPath(Number(name))} failed: ${r.stderr.trim() || `exit code ${r.rc}`}`;
      return;
    }
    const id = r.rc === 0 ? Number(r.stdout.split(':')[2]) : NaN;
    (kind === 'user' ? f.users : f.groups)[name] = Number.isInteger(id) ? id : null;
  });
  return f;
}

/**
 * Check mode: a CT of container_root, or the path itself, that an earlier task
 * of the run would create (pct; file, copy, zfs_dataset, file_perm) is what
 * this task plans against.
 */
function overlay(f: FilePermFacts, a: FilePermArgs, predicted: Predictions): FilePermFacts {
  const out: FilePermFacts = { ...f, cts: { ...f.cts }, ctErrors: { ...f.ctErrors } };
  for (const ctid of [ctOf(a.owner), ctOf(a.group)]) {
    if (ctid === undefined || !containerSlot.has(predicted, ctid)) continue;
    out.cts[String(ctid)] = containerSlot.get(predicted, ctid)?.config ?? null;
    delete out.ctErrors[String(ctid)];
  }
  if (out.entries === null) {
    const p = predictedHostPath(predicted, a.path);
    if (p) out.entries = [{ type: p.type, uid: p.uid ?? -1, gid: p.gid ?? -1, mode: p.mode ?? -1, path: a.path }];
  }
  return out;
}

// ---------------------------------------------------------------- plan

const octal = (m: number) => m.toString(8).padStart(4, '0');
const CHUNK = 200;

/** Resolves an owner/group argument to a host id, or an error sentence. */
function resolve(acc: Account, kind: 'u' | 'g', f: FilePermFacts): number | string {
  if (typeof acc === 'number') return acc;
  if (typeof acc === 'string') {
    if (/^\d+$/.test(acc)) return Number(acc);
    const id = (kind === 'u' ? f.users : f.groups)[acc];
    return id ?? `${kind === 'u' ? 'user' : 'group'} ${JSON.stringify(acc)} does not exist on the host`;
  }
  const ctid = acc.container_root;
  const cfg = f.cts[String(ctid)];
  if (f.ctErrors[String(ctid)]) return f.ctErrors[String(ctid)];
  if (!cfg) return `container_root: CT ${ctid} does not exist (create it before this task, e.g. with the pct module)`;
  const root = containerRoot(cfg);
  return kind === 'u' ? root.uid : root.gid;
}

function wantedMode(e: Entry, a: FilePermArgs): number | undefined {
  if (e.type === 'd') return a.dir_mode ?? a.mode;
  if (e.type === 'f') return a.file_mode ?? a.mode;
  return undefined;
}

function line(e: Pick<Entry, 'type' | 'uid' | 'gid' | 'mode' | 'path'>): string {
  const n = (x: number) => (x < 0 ? '?' : String(x)); // unknown before a directory exists
  return `${e.type} ${n(e.uid)}:${n(e.gid)} ${e.mode < 0 ? '?' : octal(e.mode)} ${JSON.stringify(e.path).slice(1, -1)}`;
}

/** The top path as the file module's predictions describe it. */
function predictedTop(top: Entry, a: FilePermArgs, uid: number | undefined, gid: number | undefined): FileState {
  const mode = wantedMode(top, a) ?? (top.mode >= 0 ? top.mode : undefined);
  return {
    exists: true,
    type: top.type === 'd' ? 'directory' : top.type === 'f' ? 'file' : 'unknown',
    ...(uid !== undefined || top.uid >= 0 ? { uid: uid ?? top.uid } : {}),
    ...(gid !== undefined || top.gid >= 0 ? { gid: gid ?? top.gid } : {}),
    ...(mode !== undefined ? { mode } : {}),
  };
}

export function plan(f: FilePermFacts, a: FilePermArgs): Plan {
  if (f.error) return { changes: [], fail: f.error };
  const uid = a.owner !== undefined ? resolve(a.owner, 'u', f) : undefined;
  const gid = a.group !== undefined ? resolve(a.group, 'g', f) : undefined;
  if (typeof uid === 'string') return { changes: [], fail: uid };
  if (typeof gid === 'string') return { changes: [], fail: gid };

  const changes: Change[] = [];
  let entries = f.entries;
  let creating = false;
  if (entries === null) {
    if (a.state !== 'directory') return { changes: [], fail: `${a.path} does not exist` };
    changes.push({ description: `create directory ${a.path}`, argv: ['mkdir', '-p', '--', a.path] });
    creating = true;
    // Owner and mode of a new directory are unknown until it exists: always set what is asked.
    entries = [{ type: 'd', uid: -1, gid: -1, mode: -1, path: a.path }];
  } else {
    const top = entries.find((e) => e.path === a.path) ?? entries[0];
    if (a.state === 'directory' && top && top.type !== 'd')
      return { changes: [], fail: `${a.path} exists but is not a directory` };
    if (a.state === 'file' && top && top.type !== 'f')
      return { changes: [], fail: `${a.path} exists but is not a regular file` };
  }

  const chown = new Map<string, string[]>();
  const chmod = new Map<number, string[]>();
  const before: string[] = [];
  const after: string[] = [];
  let changed = 0;
  for (const e of entries) {
    if (e.type === 'l') continue; // symlinks inside the tree are left alone, like chown -R
    const m = wantedMode(e, a);
    // /etc/pve keeps its own owner and modes: what it would refuse is not attempted (src/remote/pmxcfs.ts)
    const refused = pmxcfsRefusal(e.path, {
      owner: uid,
      group: a.group === 'www-data' ? a.group : gid,
      mode: m !== undefined ? { kind: 'octal', value: m } : undefined,
      isDir: e.type === 'd',
    });
    if (refused) return { changes: [], fail: refused };
    const needU = uid !== undefined && e.uid !== uid;
    const needG = gid !== undefined && e.gid !== gid;
    const needM = m !== undefined && e.mode !== m;
    if (!needU && !needG && !needM) continue;
    changed++;
    if (needU || needG) {
      const spec = `${needU ? uid : ''}${needG ? `:${gid}` : ''}`;
      chown.set(spec, [...(chown.get(spec) ?? []), e.path]);
    }
    if (needM) chmod.set(m, [...(chmod.get(m) ?? []), e.path]);
    if (before.length < 20) {
      before.push(creating ? `(absent) ${e.path}` : line(e));
      after.push(line({ ...e, uid: needU ? uid : e.uid, gid: needG ? gid : e.gid, mode: needM ? m : e.mode }));
    }
  }
  if (creating && changed === 0) {
    changed = 1;
    before.push(`(absent) ${a.path}`);
    after.push(`d ${a.path}`);
  }
  // Below a.path nothing is changed through a symlink, even one that appears
  // after find listed the tree (a container's root may be racing us).
  for (const [spec, paths] of chown) {
    for (let i = 0; i < paths.length; i += CHUNK) {
      const part = paths.slice(i, i + CHUNK);
      changes.push({
        description: `chown ${spec} ${part.length === 1 ? part[0] : `${part.length} entries`}`,
        argv: noFollowArgv(a.path, 'chown', spec, part),
      });
    }
  }
  for (const [mode, paths] of chmod) {
    for (let i = 0; i < paths.length; i += CHUNK) {
      const part = paths.slice(i, i + CHUNK);
      changes.push({
        description: `chmod ${octal(mode)} ${part.length === 1 ? part[0] : `${part.length} entries`}`,
        argv: noFollowArgv(a.path, 'chmod', octal(mode), part),
      });
    }
  }
  if (changed > 20) {
    before.push(`… and ${changed - 20} more`);
    after.push(`… and ${changed - 20} more`);
  }
  const result = {
    path: a.path,
    changed_entries: changed,
    entries: creating ? 1 : entries.filter((e) => e.type !== 'l').length,
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  };
  return {
    changes,
    result,
    msg: changes.length
      ? `${changed} ${changed === 1 ? 'entry' : 'entries'} of ${a.path} changed`
      : `${a.path} is as wanted`,
    ...(changes.length
      ? {
          diff: {
            before: before.join('\n') + '\n',
            after: after.join('\n') + '\n',
            before_header: a.path,
            after_header: a.path,
          },
        }
      : {}),
    // check mode: later tasks (pct bind mounts, file, copy) see the result
    ...(changes.length ? { predict: [pathSlot.entry(a.path, predictedTop(entries[0], a, uid, gid))] } : {}),
  };
}

export default defineModule<FilePermArgs, FilePermFacts>({
  name: 'file_perm',
  aliases: ['phx.proxmox.file_perm'],
  description: 'Owner, group and modes of a path or tree; owner may be a container root (container_root: <ctid>)',
  args,
  facts,
  overlay,
  plan,
  verify: true,
});
