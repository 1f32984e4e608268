// copy with a directory src: every file compared by SHA1 in one probe, then
// missing directories, changed files (all contents in ONE stdin stream, each
// write reading exactly its length) and attribute fixes in one more command.
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Change, Diff, ModuleContext, Plan } from '../module.js';
import { pathSlot, type PredictionWrite, type Predictions } from '../predictions.js';
import { shellJoin } from '../quote.js';
import { applyMode, formatMode, parseMode } from './mode.js';
import { noFollowArgv } from './no-follow.js';
import { resolveAccount } from './owner.js';
import { overlayProbe, probe, safePath, type FileState, type ProbeResult } from './probe.js';
import { putPlan } from './put-content.js';

/** More than this many entries would make the probe larger than one SSH request should be. */
export const TREE_MAX_ENTRIES = 200;

export interface TreeEntry {
  /** path below the copied directory, '/'-separated */
  rel: string;
  dir: boolean;
  content?: Buffer;
  /** mode on the controller (for mode: preserve) */
  mode: number;
  /** copy local_follow: false: a symlink of the source, made again as a symlink with this target */
  link?: string;
}

/** Reads a controller directory, following links (local_follow, Ansible's default) or keeping them as links. */
export function readTree(root: string, follow = true): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = follow ? statSync(p) : lstatSync(p);
      if (st.isSymbolicLink()) out.push({ rel: r, dir: false, mode: st.mode & 0o7777, link: readlinkSync(p) });
      else if (st.isDirectory()) {
        out.push({ rel: r, dir: true, mode: st.mode & 0o7777 });
        walk(p, r);
      } else if (st.isFile()) out.push({ rel: r, dir: false, content: readFileSync(p), mode: st.mode & 0o7777 });
      if (out.length > TREE_MAX_ENTRIES) throw new Error(`more than ${TREE_MAX_ENTRIES} entries`);
    }
  };
  walk(root, '');
  return out;
}

export interface TreeFacts {
  /** [root, ...entries] on the host */
  paths: FileState[];
  probe: ProbeResult;
}

export async function putTreeFacts(
  ctx: ModuleContext,
  root: string,
  entries: TreeEntry[],
  owner?: string,
  group?: string,
): Promise<TreeFacts> {
  const r = await probe(ctx, {
    paths: [
      { path: root },
      ...entries.map((e) => ({
        path: posix.join(root, e.rel),
        checksum: e.dir || e.link !== undefined ? undefined : ('sha1' as const),
        contentMax: undefined,
      })),
    ],
    identity: true,
    users: owner !== undefined ? [owner] : [],
    groups: group !== undefined ? [group] : [],
  });
  return { paths: r.paths, probe: r };
}

/** Check mode: the tree as earlier tasks of the run would leave it (copy's overlay step). */
export function overlayTreeFacts(f: TreeFacts, predicted: Predictions): TreeFacts {
  const p = overlayProbe(f.probe, predicted);
  return { ...f, paths: p.paths, probe: p };
}

export interface TreeWanted {
  root: string;
  entries: TreeEntry[];
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  directoryMode?: string | number;
  force: boolean;
  result: Record<string, unknown>;
}

export function putTreePlan(f: TreeFacts, w: TreeWanted): Plan {
  const me = f.probe.identity!;
  const [rootState, ...states] = f.paths;
  if (rootState.exists && rootState.type !== 'directory')
    return { changes: [], fail: `dest ${w.root} exists and is not a directory`, result: w.result };
  const owner = w.owner !== undefined ? resolveAccount(String(w.owner), f.probe.users, 'user') : undefined;
  const group = w.group !== undefined ? resolveAccount(String(w.group), f.probe.groups, 'group') : undefined;
  for (const r of [owner, group]) if (r && 'error' in r) return { changes: [], fail: r.error, result: w.result };
  const uid = owner && 'id' in owner ? owner.id : undefined;
  const gid = group && 'id' in group ? group.id : undefined;

  const lines: string[] = [];
  const stdin: Buffer[] = [];
  const diffs: Diff[] = [];
  const predict: PredictionWrite[] = [];
  const described: string[] = [];

  // directories: create the missing ones (root first), then owner/group/directory_mode
  const dirs = [
    { path: w.root, state: rootState, srcMode: 0o755 },
    ...w.entries.flatMap((e, i) =>
      e.dir ? [{ path: posix.join(w.root, e.rel), state: states[i], srcMode: e.mode }] : [],
    ),
  ];
  for (const d of dirs) {
    if (d.state.exists && d.state.type !== 'directory')
      return { changes: [], fail: `${d.path} exists and is not a directory`, result: w.result };
    const now = d.state.exists ? d.state.mode! : 0o777 & ~me.umask;
    const mode =
      w.directoryMode !== undefined && !d.state.exists ? applyMode(parseMode(w.directoryMode), now, true) : now;
    const step: string[][] = [];
    if (!d.state.exists) step.push(['mkdir', '-p', safePath(d.path)]);
    // owner before mode (chown clears setuid bits); an existing name swapped for a symlink is not followed
    const attr = (op: 'chown' | 'chmod', spec: string) => noFollowArgv(posix.dirname(d.path), op, spec, [d.path]);
    const curUid = d.state.exists ? d.state.uid! : me.uid;
    const curGid = d.state.exists ? d.state.gid! : me.gid;
    const o = uid !== undefined && uid !== curUid ? String(uid) : '';
    const g = gid !== undefined && gid !== curGid ? String(gid) : '';
    if (o || g) step.push(attr('chown', `${o}${g ? `:${g}` : ''}`));
    if (mode !== now) step.push(attr('chmod', formatMode(mode)));
    if (step.length > 0) {
      described.push(d.state.exists ? `fix ${d.path}` : `create directory ${d.path}`);
      lines.push(...step.map((argv) => `${shellJoin(argv)} || exit 1`));
      predict.push(
        pathSlot.entry(d.path, { exists: true, type: 'directory', mode, uid: uid ?? curUid, gid: gid ?? curGid }),
      );
    }
  }

  // files: the same decision as a single copy, but reading their bytes from one shared stream
  for (const [i, e] of w.entries.entries()) {
    if (e.dir) continue;
    const path = posix.join(w.root, e.rel);
    if (e.link !== undefined) {
      const refused = linkStep(path, e.link, states[i], w.force, lines, predict, described);
      if (refused) return { changes: [], fail: refused, result: w.result };
      continue;
    }
    const plan = putPlan(
      { paths: [states[i], { exists: true, type: 'directory' }, { exists: false }], me, probe: f.probe },
      {
        dest: path,
        diff: true,
        content: e.content!,
        owner: w.owner,
        group: w.group,
        mode: w.mode,
        srcMode: e.mode,
        backup: false,
        force: w.force,
        exactStdin: true,
      },
    );
    if (plan.fail) return { changes: [], fail: plan.fail, result: w.result };
    for (const c of plan.changes) {
      lines.push(c.stdin !== undefined ? c.argv![2] : `${shellJoin(c.argv!)} || exit 1`);
      if (c.stdin !== undefined) stdin.push(Buffer.from(c.stdin));
    }
    if (plan.changes.length > 0) {
      described.push(plan.changes.map((c) => c.description).join('; '));
      if (!Array.isArray(plan.diff) && plan.diff) diffs.push(plan.diff);
      predict.push(...(plan.predict ?? []));
    }
  }

  const changes: Change[] = [];
  if (lines.length > 0) {
    const script = lines.join('\n');
    const data = Buffer.concat(stdin);
    changes.push({ description: described.join('; '), argv: ['sh', '-c', script], stdin: data });
  }
  return { changes, result: { ...w.result, state: 'directory' }, diff: diffs, predict };
}

/** A link of the source (local_follow: false) made again at path, unless it is there already; a refusal, or undefined. */
function linkStep(
  path: string,
  target: string,
  cur: FileState,
  force: boolean,
  lines: string[],
  predict: PredictionWrite[],
  described: string[],
): string | undefined {
  if (cur.exists && cur.type === 'link' && cur.linkTarget === target) return undefined;
  if (cur.exists && cur.type === 'directory') return `${path} is a directory: the link to ${target} cannot replace it`;
  if (cur.exists && !force) return undefined;
  // -n: a link to a directory already there is replaced, not followed into
  lines.push(`${shellJoin(['ln', '-sfn', '--', target, safePath(path)])} || exit 1`);
  predict.push(pathSlot.entry(path, { exists: true, type: 'link', linkTarget: target }));
  described.push(`link ${path} -> ${target}`);
  return undefined;
}
