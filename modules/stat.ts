// stat: reports a path's state in Ansible's shape (`stat.exists`, `stat.isdir`,
// `stat.mode` '0644', `stat.checksum`, ...). Read-only: one round trip, also
// in check mode, never changed.
import * as z from 'zod';
import { defineModule, ModuleError, type ModuleContext } from '../src/module.js';
import { runBatch } from '../src/remote/batch.js';
import { formatMode } from '../src/remote/mode.js';
import {
  overlayPathState,
  parseProbe,
  probe,
  probeScript,
  type ChecksumAlgorithm,
  type FileState,
  type ProbeRequest,
} from '../src/remote/probe.js';

const ALGORITHMS = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'md5'] as const;

const args = () =>
  z
    .object({
      path: z.string().min(1).optional().describe('path to inspect (aliases: dest, name)'),
      dest: z.string().min(1).optional(),
      name: z.string().min(1).optional(),
      follow: z.boolean().default(false).describe('report on the target of a symlink'),
      get_checksum: z.boolean().default(true).describe('checksum regular files'),
      checksum_algorithm: z.enum(ALGORITHMS).optional().describe('default sha1 (aliases: checksum, checksum_algo)'),
      checksum: z.enum(ALGORITHMS).optional(),
      checksum_algo: z.enum(ALGORITHMS).optional(),
      get_mime: z
        .boolean()
        .default(true)
        .describe("mimetype and charset from the host's `file --mime-type --mime-encoding` ('unknown' without it)"),
      get_attributes: z.boolean().optional().describe('accepted for compatibility; attributes are not reported'),
      get_md5: z.boolean().optional().describe('accepted for compatibility; use checksum_algorithm: md5'),
    })
    .strict()
    .superRefine((a, ctx) => {
      const given = [a.path, a.dest, a.name].filter((p) => p !== undefined).length;
      if (given !== 1)
        ctx.addIssue({
          code: 'custom',
          path: ['path'],
          message: given ? 'give only one of path, dest, name (they are aliases)' : 'path is required',
        });
    });

type Args = z.infer<ReturnType<typeof args>>;

const pathOf = (a: Args) => (a.path ?? a.dest ?? a.name)!;
const algorithmOf = (a: Args): ChecksumAlgorithm => a.checksum_algorithm ?? a.checksum ?? a.checksum_algo ?? 'sha1';

/** Ansible's stat dictionary. */
function statResult(path: string, s: FileState): Record<string, unknown> {
  if (!s.exists) return { exists: false };
  const m = s.mode!;
  const out: Record<string, unknown> = {
    exists: true,
    path,
    mode: formatMode(m),
    isdir: s.type === 'directory',
    isreg: s.type === 'file',
    islnk: s.type === 'link',
    ischr: s.type === 'char',
    isblk: s.type === 'block',
    isfifo: s.type === 'fifo',
    issock: s.type === 'socket',
    uid: s.uid,
    gid: s.gid,
    pw_name: s.owner,
    gr_name: s.group,
    size: s.size,
    inode: s.inode,
    dev: s.dev,
    nlink: s.nlink,
    atime: s.atime,
    mtime: s.mtime,
    ctime: s.ctime,
    rusr: !!(m & 0o400),
    wusr: !!(m & 0o200),
    xusr: !!(m & 0o100),
    rgrp: !!(m & 0o040),
    wgrp: !!(m & 0o020),
    xgrp: !!(m & 0o010),
    roth: !!(m & 0o004),
    woth: !!(m & 0o002),
    xoth: !!(m & 0o001),
    isuid: !!(m & 0o4000),
    isgid: !!(m & 0o2000),
    readable: s.readable,
    writeable: s.writeable,
    executable: s.executable,
  };
  if (s.type === 'link') {
    out.lnk_target = s.linkTarget;
    out.lnk_source = s.realPath;
  }
  if (s.checksum !== undefined && s.type === 'file') out.checksum = s.checksum;
  return out;
}

interface Facts {
  state: FileState;
  /** `file --mime-type --mime-encoding` of the path; undefined when not asked for */
  mime?: { mimetype: string; charset: string };
}

/** Ansible's stat: `path: type; charset=x` split at the last `:`; anything else is 'unknown'. */
export function parseMime(r: { rc: number; stdout: string }): { mimetype: string; charset: string } {
  const unknown = { mimetype: 'unknown', charset: 'unknown' };
  if (r.rc !== 0) return unknown;
  const line = r.stdout.replace(/\n$/, '');
  const [type, enc] = line.slice(line.lastIndexOf(':') + 1).split(';');
  const charset = enc?.split('=')[1]?.trim();
  return type && charset ? { mimetype: type.trim(), charset } : unknown;
}

async function readFacts(ctx: ModuleContext, a: Args): Promise<Facts> {
  const req: ProbeRequest = {
    paths: [
      { path: pathOf(a), follow: a.follow, details: true, checksum: a.get_checksum ? algorithmOf(a) : undefined },
    ],
  };
  if (!a.get_mime) return { state: (await probe(ctx, req)).paths[0] };
  // one round trip: the probe (in the batch's own shell: it only sets variables) and `file` side by side
  const [probed, mime] = await runBatch(
    ctx,
    [{ shell: probeScript(req) }, ['file', '--mime-type', '--mime-encoding', '--', pathOf(a)]],
    { readsOnly: true },
  );
  const state = parseProbe(req, probed.stdout).paths[0];
  if (state.error !== undefined) throw new ModuleError(`stat: ${state.error.replace(/^stat: /, '')}`);
  return { state, mime: state.exists ? parseMime(mime) : undefined };
}

export default defineModule<Args, Facts>({
  name: 'stat',
  aliases: ['ansible.builtin.stat', 'ansible.legacy.stat'],
  pathArgs: ['path'],
  description: "Report a path's state (exists, type, mode, owner, size, checksum) in Ansible's stat shape",
  args,
  facts: readFacts,
  overlay: (f, a, predicted) => {
    const state = overlayPathState(f.state, pathOf(a), predicted);
    // a path an earlier task would make: its content type is not known before it exists
    const mime =
      state === f.state ? f.mime : state.exists && a.get_mime ? { mimetype: 'unknown', charset: 'unknown' } : undefined;
    return { state, mime };
  },
  plan: (f, a) => ({ changes: [], result: { stat: { ...statResult(pathOf(a), f.state), ...(f.mime ?? {}) } } }),
});
