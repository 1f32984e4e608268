// copy: puts a controller file (src) or literal content on the host with
// owner, group and mode. Compared by SHA1 like Ansible; a small copy is two
// round trips: one probe, one write through stdin (temp, chown, chmod, mv).
// A directory src is copied the same way, all files in those two round trips.
// remote_src: src is read on the host (one more round trip) and written the same way.
import { readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, posix } from 'node:path';
import * as z from 'zod';
import { PhxError } from '../src/errors.js';
import { defineModule, type ModuleContext } from '../src/module.js';
import { modeArg } from '../src/remote/mode.js';
import { readRemoteSource } from '../src/remote/read-source.js';
import { overlayPutFacts, putArgShape, putFacts, putPlan, type PutFacts } from '../src/remote/put-content.js';
import {
  overlayTreeFacts,
  putTreeFacts,
  putTreePlan,
  readTree,
  type TreeEntry,
  type TreeFacts,
} from '../src/remote/put-tree.js';

const args = () =>
  z
    .object({
      src: z
        .string()
        .min(1)
        .optional()
        .describe('file on the controller, relative to the playbook (or its files/ directory)'),
      content: z.unknown().optional().describe('literal content (lists and dicts are written as JSON)'),
      ...putArgShape(),
      remote_src: z
        .boolean()
        .optional()
        .describe('true: src is a file or directory on the host, copied to dest there (links followed)'),
      directory_mode: modeArg.optional().describe('mode of directories created when src is a directory'),
      local_follow: z
        .boolean()
        .optional()
        .describe(
          "true (Ansible's default): symlinks in a controller src directory are followed; false: made as links",
        ),
    })
    .strict()
    .refine((a) => (a.src === undefined) !== (a.content === undefined), {
      message: 'copy needs exactly one of: src, content',
    })
    .refine((a) => !a.remote_src || a.src !== undefined, { path: ['remote_src'], message: 'remote_src needs src' });

type Args = z.infer<ReturnType<typeof args>>;

/** One file (content or src file), or a directory src. */
type Source = { kind: 'file'; content: Buffer; name?: string; mode?: number } | { kind: 'tree'; entries: TreeEntry[] };

/** Ansible looks for a relative src in files/ beside the playbook, then beside it. */
function readSource(a: Args, baseDir: string, roleDir?: string): Source {
  if (a.content !== undefined) {
    const text = typeof a.content === 'string' ? a.content : JSON.stringify(a.content);
    return { kind: 'file', content: Buffer.from(text, 'utf8') };
  }
  const src = a.src!;
  const dirs = roleDir ? [roleDir, baseDir] : [baseDir];
  // a role's task: the role's files/ and the role itself first (Ansible's search path), then the playbook's
  const candidates = isAbsolute(src) ? [src] : dirs.flatMap((d) => [join(d, 'files', src), join(d, src)]);
  for (const p of candidates) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      try {
        return { kind: 'tree', entries: readTree(p, a.local_follow !== false) };
      } catch (e) {
        throw new PhxError(`copy: src directory ${src}: ${(e as Error).message}`);
      }
    }
    return { kind: 'file', content: readFileSync(p), name: basename(src), mode: st.mode & 0o7777 };
  }
  throw new PhxError(`copy: could not find src ${src} (looked in ${candidates.join(', ')})`);
}

/** remote_src: the same shapes, read from the host (lib/ansible/modules/copy.py: 'Source … not found'). */
async function readHostSource(ctx: ModuleContext, src: string): Promise<Source> {
  const r = await readRemoteSource(ctx, src);
  if (r.kind === 'missing') throw new PhxError(`Source ${src} not found`);
  return r.kind === 'tree' ? r : { kind: 'file', content: r.content, name: posix.basename(src), mode: r.mode };
}

/** Where a directory src lands: `dir` goes inside dest, `dir/` means its contents. */
const treeRoot = (a: Args) => (a.src!.endsWith('/') ? a.dest : posix.join(a.dest, basename(a.src!)));

/** A missing src is this task's failure, not a crash of the run. */
type Facts =
  | { kind: 'file'; put: PutFacts; source: Source & { kind: 'file' } }
  | { kind: 'tree'; tree: TreeFacts; entries: TreeEntry[] }
  | { kind: 'error'; error: string };

export default defineModule<Args, Facts>({
  name: 'copy',
  aliases: ['ansible.builtin.copy', 'ansible.legacy.copy'],
  pathArgs: ['dest'],
  readAhead: 'facts',
  // a controller file would be read twice (early, then for the task): only literal content
  readAheadFor: (a) => (a.content !== undefined ? 'read' : 'pass'),
  description: 'Put a controller file or literal content on the host, with owner, group and mode',
  args,
  async facts(ctx: ModuleContext, a): Promise<Facts> {
    let source: Source;
    try {
      source = a.remote_src ? await readHostSource(ctx, a.src!) : readSource(a, ctx.baseDir, ctx.roleDir);
    } catch (e) {
      if (e instanceof PhxError) return { kind: 'error', error: e.message };
      throw e;
    }
    if (source.kind === 'tree') {
      const owner = a.owner !== undefined ? String(a.owner) : undefined;
      const group = a.group !== undefined ? String(a.group) : undefined;
      return {
        kind: 'tree',
        entries: source.entries,
        tree: await putTreeFacts(ctx, treeRoot(a), source.entries, owner, group),
      };
    }
    const put = await putFacts(ctx, {
      dest: a.dest,
      name: source.name,
      owner: a.owner,
      group: a.group,
      diff: ctx.diff,
    });
    return { kind: 'file', put, source };
  },
  overlay: (f, _a, predicted) =>
    f.kind === 'file'
      ? { ...f, put: overlayPutFacts(f.put, predicted) }
      : f.kind === 'tree'
        ? { ...f, tree: overlayTreeFacts(f.tree, predicted) }
        : f,
  plan: (f, a) =>
    f.kind === 'error'
      ? { changes: [], fail: f.error, result: { dest: a.dest } }
      : f.kind === 'tree'
        ? putTreePlan(f.tree, {
            root: treeRoot(a),
            entries: f.entries,
            owner: a.owner,
            group: a.group,
            mode: a.mode,
            directoryMode: a.directory_mode,
            force: a.force,
            result: { dest: a.dest, src: a.src },
          })
        : putPlan(f.put, {
            dest: a.dest,
            name: f.source.name,
            owner: a.owner,
            group: a.group,
            diff: true,
            content: f.source.content,
            mode: a.mode,
            srcMode: f.source.mode,
            backup: a.backup,
            force: a.force,
            validate: a.validate,
            result: a.src !== undefined ? { src: a.src } : {},
          }),
});
