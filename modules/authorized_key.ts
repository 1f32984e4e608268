// authorized_key: SSH public keys in a user's authorized_keys, as ansible.posix's
// authorized_key (plugins/modules/authorized_key.py: keyfile, enforce_state,
// main). The file's lines are read and edited by src/remote/authorized-keys.ts;
// facts are one round trip (the user's passwd entry, then the key file and its
// directory, stat'ed without following links, and its text). When it writes,
// Ansible's keyfile() steps follow: with manage_dir the directory is created 0700
// and given to the user; the file is written 0600, owned by the user and their
// primary group, through a temp file renamed over it (src/remote/write.ts).
// The user owns ~/.ssh and may put symlinks there, so nothing is read, chowned
// or replaced through a link the task did not ask to follow (Ansible would copy
// /etc/shadow into a key file linked to it).
import { posix } from 'node:path';
import * as z from 'zod';
import {
  defineModule,
  ModuleError,
  type Change,
  type ModuleContext,
  type Plan,
  type PlanContext,
} from '../src/module.js';
import { accountName, parsePasswd, type PasswdEntry } from '../src/remote/accounts.js';
import { enforceKeys } from '../src/remote/authorized-keys.js';
import { keyOptions, noNul, oneLine } from '../src/encode/schemas.js';
import { noFollowArgv } from '../src/remote/no-follow.js';
import { shellQuote } from '../src/quote.js';
import { writeFileScript } from '../src/remote/write.js';
import { pathSlot, predictedPath, type PredictionWrite, type Predictions } from '../src/predictions.js';
import type { FileState } from '../src/remote/probe.js';

/** Largest key file read: far beyond any real one, small enough to hold in memory. */
const KEYFILE_MAX_BYTES = 4 * 1024 * 1024;

const args = () =>
  z
    .object({
      user: accountName().describe('the user whose authorized_keys is edited'),
      key: noNul()
        .refine((v) => !v.startsWith('http'), {
          message:
            'keys fetched from a URL (Ansible downloads a key starting with "http") are not supported: give the keys themselves, one per line',
        })
        .describe('the public key(s), one per line; blank lines and lines starting with # are ignored'),
      path: oneLine().min(1).optional().describe('the key file (default: ~user/.ssh/authorized_keys)'),
      manage_dir: z.boolean().default(true).describe("create the file's directory 0700 and give it to the user"),
      state: z.enum(['present', 'absent']).default('present'),
      key_options: keyOptions().optional().describe('options put before each key (`no-pty,from="10.0.0.1"`)'),
      exclusive: z.boolean().default(false).describe('remove every other line of the file'),
      validate_certs: z.boolean().default(true).describe('accepted for compatibility (URLs are refused)'),
      comment: oneLine().optional().describe("replaces each key's comment"),
      follow: z.boolean().default(false).describe('write through a symlinked key file to its target'),
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

/** The lstat of a path, as the facts script prints it. */
interface Stat {
  type: 'file' | 'directory' | 'link' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
}

interface Facts {
  user?: PasswdEntry;
  /** the key file as Ansible reports it (`keyfile`): path, or the home's .ssh/authorized_keys */
  keyfile?: string;
  dir?: Stat;
  file?: Stat;
  /** the key file's directory with its links resolved (readlink -f): where the file is written */
  realDir?: string;
  /** a symlinked key file's target, resolved */
  target?: string;
  targetStat?: Stat;
  /** the file's text (through a link only with follow); undefined: missing, or not a regular file */
  content?: string;
  tooLarge?: boolean;
}

function parseStat(fields: string): Stat | undefined {
  const [raw, uid, gid, size] = fields.split(' ');
  if (raw === undefined || raw === '-') return undefined;
  const bits = parseInt(raw, 16);
  const fmt = bits & 0o170000;
  const type = fmt === 0o100000 ? 'file' : fmt === 0o040000 ? 'directory' : fmt === 0o120000 ? 'link' : 'other';
  return { type, mode: bits & 0o7777, uid: Number(uid), gid: Number(gid), size: Number(size) };
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/**
 * One sh script: the passwd entry, then (from the home it names, or `path`) the
 * directory's and the file's lstat, the directory resolved, a link's target and
 * the text. Paths never come back unquoted: they travel as base64.
 */
export function factsScript(a: Args): string {
  const stat = (tag: string, v: string) =>
    `if s=$(LC_ALL=C stat -c '%f %u %g %s' -- "${v}" 2>/dev/null); then echo "${tag} $s"; else echo "${tag} -"; fi`;
  return [
    `p=$(getent passwd ${shellQuote(a.user)}); rc=$?`,
    `printf 'U %s ' $rc; printf '%s' "$p" | base64 -w0; echo`,
    a.path !== undefined
      ? `f=${shellQuote(a.path)}`
      : // the sixth field: gecos holds no ':'
        `[ $rc = 0 ] || exit 0; h=\${p#*:*:*:*:*:}; h=\${h%%:*}; f=$h/.ssh/authorized_keys`,
    `printf 'K '; printf '%s' "$f" | base64 -w0; echo`,
    `d=$(dirname -- "$f")`,
    stat('D', '$d'),
    stat('F', '$f'),
    `printf 'RD '; printf '%s' "$(readlink -f -- "$d")" | base64 -w0; echo`,
    `r=$f; if [ -L "$f" ]; then r=$(readlink -f -- "$f"); printf 'RF '; printf '%s' "$r" | base64 -w0; echo; ${stat('T', '$r')}; fi`,
    `if [ -f "$r" ] && { [ ${a.follow ? 1 : 0} = 1 ] || ! [ -L "$f" ]; }; then`,
    `  if [ "$(stat -L -c %s -- "$r")" -gt ${KEYFILE_MAX_BYTES} ]; then echo 'C+'; else printf 'C '; base64 -w0 < "$r" && echo; fi`,
    'fi',
  ].join('\n');
}

export function parseFacts(stdout: string, user: string): Facts {
  const f: Facts = {};
  for (const line of stdout.split('\n')) {
    const sp = line.indexOf(' ');
    const [tag, rest] = sp < 0 ? [line, ''] : [line.slice(0, sp), line.slice(sp + 1)];
    if (tag === 'U') {
      const [rc, data = ''] = rest.split(' ');
      const entry = rc === '0' ? parsePasswd(b64(data)) : undefined;
      if (entry?.name === user) f.user = entry;
    } else if (tag === 'K') f.keyfile = b64(rest);
    else if (tag === 'D') f.dir = parseStat(rest);
    else if (tag === 'F') f.file = parseStat(rest);
    else if (tag === 'RD') f.realDir = b64(rest) || undefined;
    else if (tag === 'RF') f.target = b64(rest) || undefined;
    else if (tag === 'T') f.targetStat = parseStat(rest);
    else if (tag === 'C') f.content = b64(rest);
    else if (tag === 'C+') f.tooLarge = true;
  }
  return f;
}

async function readFacts(ctx: ModuleContext, a: Args): Promise<Facts> {
  if (a.path !== undefined && !a.path.startsWith('/'))
    throw new ModuleError(`path ${JSON.stringify(a.path)} is not absolute`);
  const r = await ctx.runShell(factsScript(a), { okExit: 'any' });
  if (!r.stdout.startsWith('U ')) throw new ModuleError(`could not read the key file of ${a.user}`, { result: r });
  return parseFacts(r.stdout, a.user);
}

/** Check mode: the key file and its directory as earlier tasks of the run would leave them. */
export function overlayFacts(f: Facts, predicted: Predictions): Facts {
  if (f.keyfile === undefined) return f;
  const asStat = (p: FileState): Stat => ({
    type: p.type === 'file' ? 'file' : p.type === 'directory' ? 'directory' : p.type === 'link' ? 'link' : 'other',
    mode: p.mode ?? 0,
    uid: p.uid ?? -1,
    gid: p.gid ?? -1,
    size: p.size ?? 0,
  });
  let out = f;
  const dir = predictedPath(predicted, posix.dirname(f.keyfile));
  if (dir) out = { ...out, dir: dir.exists ? asStat(dir) : undefined };
  const file = predictedPath(predicted, f.keyfile);
  if (file)
    out = {
      ...out,
      file: file.exists ? asStat(file) : undefined,
      content: file.exists && file.type === 'file' ? (file.content?.toString('utf8') ?? '') : undefined,
    };
  return out;
}

/** What later tasks of a check run should see: the file written, and the directory made. */
function predictions(f: Facts, a: Args, path: string, content: string): PredictionWrite[] {
  const owner = f.user ? { uid: f.user.uid, gid: f.user.gid, owner: f.user.name } : {};
  const out = [
    pathSlot.entry(path, {
      exists: true,
      type: 'file',
      mode: 0o600,
      ...owner,
      size: Buffer.byteLength(content),
      content: Buffer.from(content, 'utf8'),
    }),
  ];
  if (!f.dir)
    out.push(
      pathSlot.entry(posix.dirname(path), {
        exists: true,
        type: 'directory',
        mode: a.manage_dir ? 0o700 : 0o755,
        ...owner,
      }),
    );
  return out;
}

/** Ansible's whole parameter set, registered as the result of a real run. */
function resultOf(a: Args, keyfile: string): Record<string, unknown> {
  return {
    user: a.user,
    key: a.key,
    path: a.path ?? null,
    manage_dir: a.manage_dir,
    state: a.state,
    key_options: a.key_options ?? null,
    exclusive: a.exclusive,
    comment: a.comment ?? null,
    validate_certs: a.validate_certs,
    follow: a.follow,
    keyfile,
  };
}

export function planAuthorizedKey(f: Facts, a: Args, ctx: Pick<PlanContext, 'check'>): Plan {
  const none: Change[] = [];
  if (!f.user && !(ctx.check && a.path !== undefined))
    return {
      changes: none,
      fail: ctx.check
        ? 'Either user must exist or you must provide full path to key file in check mode'
        : `Failed to lookup user ${a.user}: "getpwnam(): name not found: '${a.user}'"`,
    };
  const keyfile = f.keyfile ?? a.path!;
  if (f.file?.type === 'link' && !a.follow)
    return {
      changes: none,
      fail: `${keyfile} is a symlink: not read or replaced through it (follow: true edits its target)`,
    };
  const shown = f.file?.type === 'link' ? f.targetStat : f.file;
  if (shown?.type === 'directory') return { changes: none, fail: `${keyfile} is a directory` };
  if (f.tooLarge) return { changes: none, fail: `${keyfile} is larger than ${KEYFILE_MAX_BYTES} bytes` };
  const before = f.content ?? '';
  const edit = enforceKeys(before, {
    key: a.key,
    keyOptions: a.key_options,
    comment: a.comment,
    state: a.state,
    exclusive: a.exclusive,
  });
  if ('invalid' in edit) return { changes: none, fail: `invalid key specified: ${edit.invalid}` };
  const result = ctx.check ? {} : resultOf(a, keyfile);
  if (!edit.changed) return { changes: none, result };

  const target = a.follow && f.file?.type === 'link' ? f.target : undefined;
  if (a.follow && f.file?.type === 'link' && !target)
    return { changes: none, fail: `${keyfile} is a symlink whose target cannot be resolved` };
  const dir = posix.dirname(keyfile);
  if (a.manage_dir && f.dir?.type === 'link')
    return {
      changes: none,
      fail: `${dir} is a symlink: manage_dir does not chown or chmod through it (manage_dir: false writes through it)`,
    };
  const diff = { before_header: keyfile, after_header: target ?? keyfile, before, after: edit.content };
  const predict = predictions(f, a, target ?? keyfile, edit.content);
  if (ctx.check || !f.user) return { changes: [{ description: `write ${keyfile}` }], result, diff, predict };

  const { uid, gid } = f.user;
  const changes: Change[] = [];
  if (a.manage_dir) {
    if (!f.dir) changes.push({ description: `mkdir ${dir}`, argv: ['mkdir', '-m', '0700', '--', dir] });
    if (!f.dir || f.dir.uid !== uid || f.dir.gid !== gid)
      changes.push({
        description: `chown ${uid}:${gid} ${dir}`,
        argv: noFollowArgv(posix.dirname(dir), 'chown', `${uid}:${gid}`, [dir]),
      });
    if (!f.dir || f.dir.mode !== 0o700)
      changes.push({
        description: `chmod 0700 ${dir}`,
        argv: noFollowArgv(posix.dirname(dir), 'chmod', '0700', [dir]),
      });
  }
  // the real directory: write.ts gives an owner only where no link is on the way
  const dest = target ?? posix.join(f.realDir ?? dir, posix.basename(keyfile));
  const content = Buffer.from(edit.content, 'utf8');
  changes.push({
    description: `write ${dest} (0600, ${f.user.name})`,
    argv: [
      'sh',
      '-c',
      writeFileScript(dest, { mode: 0o600, uid, gid, size: content.length, mkdirParent: !f.dir && !a.manage_dir }),
    ],
    stdin: content,
  });
  return { changes, result, diff, predict };
}

export default defineModule<Args, Facts>({
  name: 'authorized_key',
  aliases: ['ansible.posix.authorized_key'],
  description: "SSH public keys in a user's authorized_keys file: present (with options, comment) or absent",
  args,
  pathArgs: ['path'],
  facts: readFacts,
  overlay: (f, _a, predicted) => overlayFacts(f, predicted),
  plan: (f, a, ctx) => planAuthorizedKey(f, a, ctx),
  verify: true,
});
