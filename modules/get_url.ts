// get_url: a file from an http, https or file URL, downloaded ON the host (curl,
// or wget where there is no curl; never through the controller), with Ansible's
// arguments and results (lib/ansible/modules/get_url.py main(): an existing dest
// is kept unless `force` or its checksum differs from `checksum` — "file already
// exists"; the download's digest must match `checksum`; result url, dest,
// checksum_src, checksum_dest, md5sum, size, status_code, msg "OK (N bytes)").
import { posix } from 'node:path';
import * as z from 'zod';
import { defineModule, ModuleError, type ModuleContext, type Plan } from '../src/module.js';
import { lineProblem } from '../src/encode/line.js';
import { DOWNLOAD_SCRIPT, parseDownload } from '../src/remote/download.js';
import { applyMode, formatMode, modeArg, parseMode } from '../src/remote/mode.js';
import { accountArg, resolveAccount } from '../src/remote/owner.js';
import { probe, type ChecksumAlgorithm, type FileState, type Identity, type ProbeResult } from '../src/remote/probe.js';
import { backupName } from '../src/remote/write.js';
import { noFollowArgv } from '../src/remote/no-follow.js';

const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
const HEX_LENGTH: Record<ChecksumAlgorithm, number> = {
  md5: 32,
  sha1: 40,
  sha224: 56,
  sha256: 64,
  sha384: 96,
  sha512: 128,
};

const args = () =>
  z
    .object({
      url: z
        .string()
        .regex(/^(https?|file):\/\/[^\s]+$/i, { message: 'url is http://, https:// or file:// without blanks' })
        .describe('http, https or file URL, fetched by the host'),
      dest: z
        .string()
        .refine((v) => v.startsWith('/') && !lineProblem(v), { message: 'dest is an absolute path on one line' })
        .describe('file, or directory (then the name is the URL’s last path part)'),
      checksum: z
        .string()
        .default('')
        .refine(
          (v) => {
            if (v === '') return true;
            const [algo, hex] = v.split(/:(.*)/s);
            return (
              (ALGORITHMS as readonly string[]).includes(algo) &&
              new RegExp(`^[0-9a-fA-F]{${HEX_LENGTH[algo as ChecksumAlgorithm]}}$`).test(hex ?? '')
            );
          },
          { message: 'checksum is <algorithm>:<hex digest> (md5, sha1, sha224, sha256, sha384, sha512)' },
        ),
      force: z.boolean().default(false).describe('download even when dest exists'),
      timeout: z.number().int().min(1).max(3600).default(10).describe('seconds to connect, and of a stall'),
      headers: z
        .record(
          z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'a header name is an HTTP token' }),
          z.string().refine((v) => !lineProblem(v), { message: 'a header value is one line' }),
        )
        .optional(),
      validate_certs: z.boolean().default(true),
      backup: z.boolean().default(false),
      owner: accountArg.optional(),
      group: accountArg.optional(),
      mode: modeArg.optional(),
    })
    .strict();

type Args = z.infer<ReturnType<typeof args>>;

interface Facts {
  /** [dest, dest's parent (only `exists` known when dest exists), dest/<url name>] */
  paths: FileState[];
  me: Identity;
  probe: ProbeResult;
}

const algorithmOf = (a: Args): ChecksumAlgorithm =>
  a.checksum ? (a.checksum.split(':')[0] as ChecksumAlgorithm) : 'sha1';
const wantedDigest = (a: Args) => (a.checksum ? a.checksum.slice(a.checksum.indexOf(':') + 1).toLowerCase() : '');

/** The file name a URL gives (Ansible's url_filename: the last path part, else index.html). */
export function urlFilename(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/[?#].*$/, '');
  const base = decodeURIComponent(posix.basename(path));
  return base && base !== '.' && base !== '..' && !base.includes('/') ? base : 'index.html';
}

async function readFacts(ctx: ModuleContext, a: Args): Promise<Facts> {
  const algo = algorithmOf(a);
  const p = await probe(ctx, {
    paths: [
      { path: a.dest, checksum: algo },
      // only whether it exists is used: when dest exists, so does its parent (not stat'ed)
      { path: posix.dirname(a.dest), existsIfExists: a.dest },
      { path: posix.join(a.dest, urlFilename(a.url)), checksum: algo },
    ],
    identity: true,
    users: a.owner !== undefined ? [String(a.owner)] : [],
    groups: a.group !== undefined ? [String(a.group)] : [],
  });
  return { paths: p.paths, me: p.identity!, probe: p };
}

interface Target {
  path: string;
  cur: FileState;
}

function target(f: Facts, a: Args): Target {
  const [dest, , inDir] = f.paths;
  if (dest.type === 'directory') return { path: posix.join(a.dest, urlFilename(a.url)), cur: inDir };
  return { path: a.dest, cur: dest };
}

export function planGetUrl(f: Facts, a: Args): Plan {
  const { path, cur } = target(f, a);
  const result: Record<string, unknown> = { url: a.url, dest: path };
  if (cur.exists && cur.type !== 'file') return { changes: [], fail: `${path} is not a regular file`, result };
  if (!f.paths[1].exists && f.paths[0].type !== 'directory')
    return { changes: [], fail: `Destination ${posix.dirname(path)} does not exist`, result };
  const owner = a.owner !== undefined ? resolveAccount(String(a.owner), f.probe.users, 'user') : undefined;
  if (owner && 'error' in owner) return { changes: [], fail: owner.error, result };
  const group = a.group !== undefined ? resolveAccount(String(a.group), f.probe.groups, 'group') : undefined;
  if (group && 'error' in group) return { changes: [], fail: group.error, result };

  const baseMode = cur.exists ? cur.mode! : 0o666 & ~f.me.umask;
  const mode = a.mode !== undefined ? applyMode(parseMode(a.mode), baseMode, false) : baseMode;
  const uid = owner?.id ?? (cur.exists ? cur.uid! : f.me.uid);
  const gid = group?.id ?? (cur.exists ? cur.gid! : f.me.gid);
  const want = wantedDigest(a);
  if (cur.exists && !a.force && (!want || cur.checksum === want)) {
    // Ansible: "file already exists"; attributes are still brought in line
    const changes = [];
    const chown = `${uid !== cur.uid ? uid : ''}${gid !== cur.gid ? `:${gid}` : ''}`;
    if (chown)
      changes.push({
        description: `chown ${chown} ${path}`,
        argv: noFollowArgv(posix.dirname(path), 'chown', chown, [path]),
      });
    if (mode !== cur.mode)
      changes.push({
        description: `chmod ${formatMode(mode)} ${path}`,
        argv: noFollowArgv(posix.dirname(path), 'chmod', formatMode(mode), [path]),
      });
    return {
      changes,
      msg: changes.length ? 'file already exists but file attributes changed' : 'file already exists',
      result: { ...result, mode: formatMode(mode), uid, gid, state: 'file' },
    };
  }
  const chown = `${uid !== f.me.uid || (cur.exists && uid !== cur.uid) ? uid : ''}${
    gid !== f.me.gid || (cur.exists && gid !== cur.gid) ? `:${gid}` : ''
  }`;
  const backup = a.backup && cur.exists ? backupName(path) : '';
  const headers = Object.entries(a.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
  const argv = [
    'sh',
    '-c',
    DOWNLOAD_SCRIPT,
    'sh',
    a.url,
    posix.dirname(path),
    posix.basename(path),
    String(a.timeout),
    a.validate_certs ? '0' : '1',
    algorithmOf(a),
    want,
    formatMode(mode),
    chown,
    backup,
    ...headers,
  ];
  return {
    changes: [{ description: `download ${a.url} to ${path} on the host`, argv }],
    result: { ...result, mode: formatMode(mode), uid, gid, state: 'file', ...(backup ? { backup_file: backup } : {}) },
  };
}

const FAILURES: Record<number, string> = {
  10: 'Request failed',
  12: 'neither curl nor wget is installed on the host',
};

const getUrl = defineModule<Args, Facts>({
  name: 'get_url',
  aliases: ['ansible.builtin.get_url', 'ansible.legacy.get_url'],
  description: 'Download a file from an http, https or file URL on the host itself (curl or wget), checksum checked',
  args,
  facts: (ctx, a) => readFacts(ctx, a),
  plan: (f, a) => planGetUrl(f, a),
  async apply(ctx, plan, a) {
    const download = plan.changes.find((c) => c.argv?.[2] === DOWNLOAD_SCRIPT);
    if (!download) {
      for (const c of plan.changes) await ctx.run(c.argv!);
      return;
    }
    const started = Date.now();
    const r = await ctx.run(download.argv!, { okExit: 'any' });
    const out = parseDownload(r.stdout);
    const elapsed = Math.round((Date.now() - started) / 1000);
    const status_code = out.status && out.status !== 0 ? out.status : undefined;
    if (r.rc === 13)
      throw new ModuleError(
        `The checksum for ${String(plan.result!.dest)} did not match ${wantedDigest(a)}; it was ${out.digest ?? '?'}.`,
      );
    if (r.rc === 11) throw new ModuleError(`Request failed: HTTP Error ${out.status}`, { result: r });
    if (r.rc !== 0)
      throw new ModuleError(`${FAILURES[r.rc] ?? 'download failed'}: ${r.stderr.trim() || `exit code ${r.rc}`}`, {
        result: r,
      });
    return {
      changed: !out.same,
      msg: `OK (${out.size ?? 0} bytes)`,
      checksum_src: out.sha1,
      checksum_dest: out.sha1,
      md5sum: out.md5,
      size: out.size,
      elapsed,
      ...(status_code ? { status_code } : {}),
      // the bytes were dest's already: nothing was written, nothing backed up
      ...(out.same ? { backup_file: undefined } : {}),
    };
  },
});

export default getUrl;
