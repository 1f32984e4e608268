// copy: puts a controller file (src) or literal content on the host with
// owner, group and mode. Compared by SHA1 like Ansible; a small copy is two
// round trips: one probe, one write through stdin (temp, chown, chmod, mv).
import { readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { PhxError } from '../src/errors.js';
import { defineModule, type ModuleContext } from '../src/module.js';
import { putArgShape, putFacts, putPlan, type PutFacts } from '../src/remote/put-content.js';

const args = z
  .object({
    src: z.string().min(1).optional().describe('file on the controller, relative to the playbook (or its files/ directory)'),
    content: z.unknown().optional().describe('literal content (lists and dicts are written as JSON)'),
    ...putArgShape,
    remote_src: z.literal(false).optional().describe('only false: copying between remote paths is not supported'),
    directory_mode: z.unknown().optional().describe('accepted for compatibility; directory src is not supported'),
  })
  .strict()
  .refine((a) => (a.src === undefined) !== (a.content === undefined), { message: 'copy needs exactly one of: src, content' });

type Args = z.infer<typeof args>;

interface Source {
  content: Buffer;
  name?: string;
  mode?: number;
}

/** Ansible looks for a relative src in files/ beside the playbook, then beside it. */
function readSource(a: Args, baseDir: string): Source {
  if (a.content !== undefined) {
    const text = typeof a.content === 'string' ? a.content : JSON.stringify(a.content);
    return { content: Buffer.from(text, 'utf8') };
  }
  const src = a.src!;
  const candidates = isAbsolute(src) ? [src] : [join(baseDir, 'files', src), join(baseDir, src)];
  for (const p of candidates) {
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) throw new PhxError(`copy: src ${src} is a directory; copying directories is not supported (use file + copy per file)`);
    return { content: readFileSync(p), name: basename(src), mode: st.mode & 0o7777 };
  }
  throw new PhxError(`copy: could not find src ${src} (looked in ${candidates.join(', ')})`);
}

/** A missing src is this task's failure, not a crash of the run. */
type Facts = { put: PutFacts; source: Source } | { error: string };

export default defineModule<Args, Facts>({
  name: 'copy',
  aliases: ['ansible.builtin.copy', 'ansible.legacy.copy'],
  description: 'Put a controller file or literal content on the host, with owner, group and mode',
  args,
  async facts(ctx: ModuleContext, a): Promise<Facts> {
    let source: Source;
    try {
      source = readSource(a, ctx.baseDir);
    } catch (e) {
      if (e instanceof PhxError) return { error: e.message };
      throw e;
    }
    const put = await putFacts(ctx, { dest: a.dest, name: source.name, owner: a.owner, group: a.group, diff: ctx.diff });
    return { put, source };
  },
  plan: (f, a) =>
    'error' in f
      ? { changes: [], fail: f.error, result: { dest: a.dest } }
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
