// What copy, template and lineinfile share: "these bytes at dest, with this
// owner, group and mode". Facts are one probe (dest, its parent when dest is
// missing, dest/<name> in case dest is a directory, with SHA1 and, for --diff,
// the old text); the plan compares by SHA1 like Ansible and writes through one
// exec's stdin.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import * as z from 'zod';
import type { Change, Diff, ModuleContext, Plan } from '../module.js';
import { pathSlot, type PredictionWrite, type Predictions } from '../predictions.js';
import { applyMode, formatMode, modeArg, parseMode } from './mode.js';
import { noFollowArgv } from './no-follow.js';
import { pmxcfsMode, pmxcfsRefusal, underPmxcfs } from './pmxcfs.js';
import { accountArg, resolveAccount } from './owner.js';
import { overlayProbe, probe, type FileState, type Identity, type ProbeResult } from './probe.js';
import { backupName, writeFileScript } from './write.js';

/** Largest old content read for --diff; bigger files get a placeholder, like Ansible's max diff size. */
export const DIFF_MAX_BYTES = 100_000;

/** Largest file lineinfile edits. */
export const READ_MAX_BYTES = 64 * 1024 * 1024;

/** Arguments copy and template share, with Ansible's names (a function: module schemas are built on first use). */
export const putArgShape = () => ({
  dest: z
    .string()
    .min(1)
    .describe('remote path; a directory (existing, or ending in /) receives the file under its own name'),
  owner: accountArg.optional(),
  group: accountArg.optional(),
  mode: z
    .union([z.literal('preserve'), modeArg])
    .optional()
    .describe("'0644', 0644, 'u=rw,g=r,o=r', or 'preserve' (the source file's mode)"),
  backup: z.boolean().default(false).describe('keep the old file as dest.<pid>.<time>~'),
  force: z.boolean().default(true).describe('replace a file whose content differs (false: only create)'),
  validate: z.string().includes('%s', { message: 'validate must contain %s (the temp file to check)' }).optional(),
  unsafe_writes: z.boolean().optional().describe('accepted for compatibility; ignored'),
  follow: z.boolean().optional().describe('accepted for compatibility; links at dest are replaced'),
});

export interface PutRequest {
  dest: string;
  /** name used when dest is a directory (basename of src); undefined for content */
  name?: string;
  owner?: string | number;
  group?: string | number;
  diff: boolean;
  /** read the current content whatever its size (lineinfile edits it) */
  readContent?: boolean;
  /** stat the parent even when dest exists (by default it is then only known to exist: a process fewer) */
  parentState?: boolean;
}

export interface PutFacts {
  /** [dest, parent of dest (when dest exists: `implied`, only `exists` known, unless parentState), dest/name] */
  paths: FileState[];
  me: Identity;
  probe: ProbeResult;
}

export async function putFacts(ctx: ModuleContext, r: PutRequest): Promise<PutFacts> {
  const contentMax = r.readContent ? READ_MAX_BYTES : r.diff ? DIFF_MAX_BYTES : undefined;
  const dest = r.dest.replace(/\/+$/, '') || '/';
  const paths = [
    { path: dest, checksum: 'sha1' as const, contentMax },
    // an existing dest has a parent: only whether it exists is used, except by parentState callers
    { path: posix.dirname(dest), ...(r.parentState ? {} : { existsIfExists: dest }) },
    ...(r.name !== undefined ? [{ path: posix.join(dest, r.name), checksum: 'sha1' as const, contentMax }] : []),
  ];
  const p = await probe(ctx, {
    paths,
    identity: true,
    users: r.owner !== undefined ? [String(r.owner)] : [],
    groups: r.group !== undefined ? [String(r.group)] : [],
  });
  return { paths: p.paths, me: p.identity!, probe: p };
}

/** Check mode: dest as earlier tasks of the run would leave it (the overlay step of copy, template, lineinfile). */
export function overlayPutFacts(f: PutFacts, predicted: Predictions): PutFacts {
  const p = overlayProbe(f.probe, predicted);
  return { ...f, paths: p.paths, probe: p };
}

export interface PutWanted extends PutRequest {
  content: Buffer;
  mode?: string | number;
  /** mode: preserve → the source file's mode */
  srcMode?: number;
  backup: boolean;
  force: boolean;
  validate?: string;
  /** extra result fields (src) */
  result?: Record<string, unknown>;
  /** a missing parent directory is created (lineinfile create) instead of an error */
  createParent?: boolean;
  /** the write reads exactly its content's length from stdin (copy of a directory: one stream for all files) */
  exactStdin?: boolean;
}

function isText(b: Buffer): boolean {
  return !b.includes(0) && Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

export function putPlan(f: PutFacts, w: PutWanted): Plan {
  const endsWithSlash = w.dest.endsWith('/');
  const [destState, parent, inDir] = f.paths;
  let path = w.dest.replace(/\/+$/, '') || '/';
  let cur = destState;
  let mkdirParent = false;
  if (endsWithSlash || destState.type === 'directory') {
    if (w.name === undefined)
      return { changes: [], fail: `can not use content with a dir as dest`, result: { dest: w.dest } };
    path = posix.join(path, w.name);
    cur = inDir ?? { exists: false };
    mkdirParent = !destState.exists;
  } else if (!parent.exists && w.createParent) {
    mkdirParent = true;
  }
  const refused = pmxcfsRefusal(path, {
    owner: w.owner,
    group: w.group,
    mode:
      w.mode === 'preserve'
        ? w.srcMode !== undefined
          ? { kind: 'octal', value: w.srcMode }
          : undefined
        : w.mode !== undefined
          ? parseMode(w.mode)
          : undefined,
    isDir: false,
  });
  if (refused) return { changes: [], fail: refused, result: { dest: path } };
  if (!endsWithSlash && destState.type !== 'directory' && !parent.exists && !w.createParent)
    return { changes: [], fail: `Destination directory ${posix.dirname(path)} does not exist`, result: { dest: path } };
  if (cur.exists && cur.type === 'directory')
    return { changes: [], fail: `dest ${path} is a directory`, result: { dest: path } };

  let owner: { id: number; name: string } | undefined;
  let group: { id: number; name: string } | undefined;
  if (w.owner !== undefined) {
    const r = resolveAccount(String(w.owner), f.probe.users, 'user');
    if ('error' in r) return { changes: [], fail: r.error, result: { dest: path } };
    owner = r;
  }
  if (w.group !== undefined) {
    const r = resolveAccount(String(w.group), f.probe.groups, 'group');
    if ('error' in r) return { changes: [], fail: r.error, result: { dest: path } };
    group = r;
  }

  const checksum = createHash('sha1').update(w.content).digest('hex');
  const exists = cur.exists;
  const same = exists && cur.checksum === checksum;
  const write = !exists || (!same && w.force);
  // force: false leaves an existing file entirely alone, attributes too (as Ansible)
  const leaveAlone = exists && !w.force;
  if (leaveAlone) [owner, group] = [undefined, undefined];
  // a new file on pmxcfs gets its fixed mode; chmod to anything else is EPERM there
  const baseMode = exists ? cur.mode! : underPmxcfs(path) ? pmxcfsMode(path, false) : 0o666 & ~f.me.umask;
  const mode = leaveAlone
    ? baseMode
    : w.mode === 'preserve'
      ? (w.srcMode ?? baseMode)
      : w.mode !== undefined
        ? applyMode(parseMode(w.mode), baseMode, false)
        : baseMode;
  const uid = owner?.id ?? (exists ? cur.uid! : f.me.uid);
  const gid = group?.id ?? (exists ? cur.gid! : f.me.gid);
  const ownerName = owner?.name ?? (exists ? cur.owner! : f.me.user);
  const groupName = group?.name ?? (exists ? cur.group! : f.me.group);

  const changes: Change[] = [];
  let backupFile: string | undefined;
  if (write) {
    backupFile = w.backup && exists ? backupName(path) : undefined;
    const script = writeFileScript(path, {
      mode,
      uid: uid !== f.me.uid ? uid : undefined,
      gid: gid !== f.me.gid ? gid : undefined,
      backupTo: backupFile,
      validate: w.validate,
      mkdirParent,
      size: w.content.length,
      exactStdin: w.exactStdin,
    });
    changes.push({
      description: `${exists ? 'update' : 'create'} ${path}`,
      argv: ['sh', '-c', script],
      stdin: w.content,
    });
  } else if (exists) {
    // the file was regular when probed: if it is a symlink by now, it is not followed
    const ownerPart = uid !== cur.uid ? String(uid) : '';
    const groupPart = gid !== cur.gid ? String(gid) : '';
    if (ownerPart || groupPart)
      changes.push({
        description: `chown ${ownerName}:${groupName} ${path}`,
        argv: noFollowArgv(posix.dirname(path), 'chown', `${ownerPart}${groupPart ? `:${groupPart}` : ''}`, [path]),
      });
    if (mode !== cur.mode)
      changes.push({
        description: `chmod ${formatMode(mode)} ${path}`,
        argv: noFollowArgv(posix.dirname(path), 'chmod', formatMode(mode), [path]),
      });
  }

  const final = write || !exists ? { content: w.content, checksum } : { content: cur.content, checksum: cur.checksum };
  const result: Record<string, unknown> = {
    dest: path,
    ...(w.result ?? {}),
    checksum: final.checksum,
    size: write ? w.content.length : cur.size,
    state: 'file',
    mode: formatMode(mode),
    owner: ownerName,
    group: groupName,
    uid,
    gid,
    ...(backupFile ? { backup_file: backupFile } : {}),
  };
  // check mode: what later tasks should see at dest (and its new parent)
  const predict: PredictionWrite[] = [];
  if (changes.length > 0) {
    const after: FileState = {
      exists: true,
      type: 'file',
      mode,
      uid,
      gid,
      owner: ownerName,
      group: groupName,
      size: result.size as number,
      checksum: final.checksum,
      content: final.content,
    };
    predict.push(pathSlot.entry(path, after));
    if (mkdirParent) {
      predict.push(
        pathSlot.entry(posix.dirname(path), {
          exists: true,
          type: 'directory',
          mode: 0o777 & ~f.me.umask,
          uid: f.me.uid,
          gid: f.me.gid,
          owner: f.me.user,
          group: f.me.group,
        }),
      );
    }
  }
  return { changes, result, predict, diff: contentDiff(path, cur, write ? w.content : undefined) };
}

/** before/after text for --diff; binary or large content gets a placeholder. */
export function contentDiff(path: string, cur: FileState, after: Buffer | undefined): Diff {
  const shown = (b: Buffer | undefined, size: number | undefined): string => {
    if (b === undefined)
      return size !== undefined && size > DIFF_MAX_BYTES
        ? `(file larger than ${DIFF_MAX_BYTES} bytes: content not shown)\n`
        : '';
    return isText(b) ? b.toString('utf8') : '(binary content not shown)\n';
  };
  const before = cur.exists ? shown(cur.content, cur.size) : '';
  const afterText =
    after === undefined
      ? before
      : after.length > DIFF_MAX_BYTES
        ? `(file larger than ${DIFF_MAX_BYTES} bytes: content not shown)\n`
        : shown(after, after.length);
  return { before, after: afterText, before_header: cur.exists ? path : `${path} (absent)`, after_header: path };
}
