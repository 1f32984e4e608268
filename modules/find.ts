// find: Ansible's ansible.builtin.find (lib/ansible/modules/find.py): the files,
// directories or links under some directories whose base names, age, size,
// mode and content match; each as a stat-like dict. Read-only: never changed,
// also run in check mode. The host walks each directory once (GNU find, its
// entries lstat'ed by GNU stat) in ONE round trip: a fixed script, the paths as
// its arguments, the answer NUL-separated. The matching is done here, as
// find.py does it; only `contains` (file contents) and `get_checksum` need a
// second round trip, for the files that matched everything else.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { defineModule, ModuleError, type ModuleContext } from '../src/module.js';
import { expandPathArgs } from '../src/remote/expand-paths.js';
import { compileFnmatch } from '../src/remote/fnmatch.js';
import { applyMode, formatMode, modeArg, parseMode } from '../src/remote/mode.js';
import { compileUserRegex } from '../src/template/regex.js';
import { normalizePath, pathSlot, predictedPath, type Predictions } from '../src/predictions.js';
import type { FileState } from '../src/remote/probe.js';

const ALGORITHMS = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'md5'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

// Ansible's type='list' of str: a string is split at every comma (nothing trimmed), a number is one element
const strList = () =>
  z
    .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
    .transform((v) => (Array.isArray(v) ? v.map(String) : typeof v === 'number' ? [String(v)] : v.split(',')));

const AGE = /^(-?\d+)(s|m|h|d|w)?$/;
const SIZE = /^(-?\d+)(b|k|m|g|t)?$/;
const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** find.py main: age/size with an optional unit letter, matched lower-cased; a number is its own text. */
function amount(re: RegExp, units: Record<string, number>, what: string) {
  return z
    .union([z.string(), z.number().int()])
    .transform((v, c) => {
      const m = re.exec(String(v).toLowerCase());
      if (m) return Number(m[1]) * (units[m[2] ?? ''] ?? 1);
      c.addIssue({ code: 'custom', message: `failed to process ${what}: ${JSON.stringify(v)}` });
      return z.NEVER;
    })
    .optional();
}

function regexProblem(pattern: string): string | undefined {
  try {
    compileUserRegex(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const args = () =>
  z
    .object({
      paths: strList()
        .optional()
        .describe('directories to search (a list, or one string split at commas; aliases: path, name)'),
      path: strList().optional(),
      name: strList().optional(),
      patterns: strList()
        .optional()
        .describe('base names to select: shell globs, or regexes with use_regex (alias: pattern); default all'),
      pattern: strList().optional(),
      excludes: strList().optional().describe('base names to leave out, same kind as patterns (alias: exclude)'),
      exclude: strList().optional(),
      contains: z.string().optional().describe('a regex the content of a file must match (file_type: file only)'),
      read_whole_file: z
        .boolean()
        .default(false)
        .describe('contains: search the whole text instead of matching each line from its start'),
      file_type: z.enum(['any', 'directory', 'file', 'link']).default('file').describe('which entries to select'),
      age: amount(AGE, SECONDS, 'age').describe("at least this old ('2d', '3600', 's m h d w'); negative: at most"),
      age_stamp: z.enum(['atime', 'ctime', 'mtime']).default('mtime').describe('the time the age is measured from'),
      size: amount(SIZE, BYTES, 'size').describe(
        "at least this big ('10m', 'b k m g t'); negative: at most; not for directories",
      ),
      recurse: z.boolean().default(false).describe('descend into subdirectories'),
      depth: z
        .number()
        .int()
        .optional()
        .describe('with recurse: the deepest level to select (1: the directory itself)'),
      hidden: z.boolean().default(false).describe('also select names starting with a dot'),
      follow: z.boolean().default(false).describe('descend into symlinked directories'),
      get_checksum: z.boolean().default(false).describe("each regular file's checksum (checksum_algorithm)"),
      checksum_algorithm: z
        .enum(ALGORITHMS)
        .default('sha1')
        .describe('for get_checksum (aliases: checksum, checksum_algo)'),
      checksum: z.enum(ALGORITHMS).optional(),
      checksum_algo: z.enum(ALGORITHMS).optional(),
      use_regex: z
        .boolean()
        .default(false)
        .describe("patterns and excludes are Python regexes matched from the name's start"),
      mode: modeArg.optional().describe("permissions to select (octal, or symbolic like 'u=rw,g=r')"),
      exact_mode: z.boolean().default(true).describe('mode: exactly these bits (false: any of them)'),
    })
    .strict()
    .superRefine((a, ctx) => {
      const given = [a.paths, a.path, a.name].filter((p) => p !== undefined).length;
      if (given !== 1)
        ctx.addIssue({
          code: 'custom',
          path: ['paths'],
          message: given ? 'give only one of paths, path, name (they are aliases)' : 'paths is required',
        });
      if ((a.paths ?? a.path ?? a.name ?? []).some((p) => p.includes('\0')))
        ctx.addIssue({ code: 'custom', path: ['paths'], message: 'a path cannot hold a NUL character' });
      if (a.patterns && a.pattern)
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'give only one of patterns, pattern' });
      if (a.excludes && a.exclude)
        ctx.addIssue({ code: 'custom', path: ['exclude'], message: 'give only one of excludes, exclude' });
      const regexes: [string, string | undefined][] = [['contains', a.contains]];
      if (a.use_regex) {
        for (const p of a.patterns ?? a.pattern ?? []) regexes.push(['patterns', p]);
        for (const p of a.excludes ?? a.exclude ?? []) regexes.push(['excludes', p]);
      }
      for (const [key, re] of regexes) {
        const problem = re === undefined ? undefined : regexProblem(re);
        if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
      }
    });

type Args = z.infer<ReturnType<typeof args>>;

const pathsOf = (a: Args) => (a.paths ?? a.path ?? a.name)!;
const algorithmOf = (a: Args): Algorithm => a.checksum ?? a.checksum_algo ?? a.checksum_algorithm;

// ---- the walk, on the host ----

// $1: find's link option (H: follow the searched path itself, L: every link), $2: -maxdepth or '',
// then the paths. Per path: M (not a directory) or D, then one E record per entry in find's order
// with the type of what it names (%Y: d for a directory or a link to one), the stat records of the
// same entries (lstat, as find.py's os.lstat), and what find and stat said on stderr.
const WALK_SCRIPT = `o=$1 m=$2; shift 2
l= e= s=; trap 'rm -f "$l" "$e" "$s"' EXIT
l=$(mktemp) && e=$(mktemp) && s=$(mktemp) || exit 97
printf 'N\\0%s\\0' "$(date +%s.%N)"
for p in "$@"; do
  if [ -d "$p" ]; then
    printf 'D\\0'
    q=$p; case $p in -*) q=./$p;; esac
    if [ -n "$m" ]; then set -- -maxdepth "$m"; else set --; fi
    find -"$o" "$q" -mindepth 1 "$@" -fprint0 "$l" -printf 'E\\0%Y\\0%p\\0' 2>"$e"
    xargs -0r stat --printf='S\\0%f %u %g %s %.9X %.9Y %.9Z %i %d %h\\0%U\\0%G\\0%n\\0' -- <"$l" 2>"$s"
    printf 'X\\0'; cat "$e"; printf '\\0Y\\0'; cat "$s"; printf '\\0'
  else
    printf 'M\\0'
  fi
done`;

/** An entry's lstat, as find.py's os.lstat gives it. */
export interface EntryStat {
  /** st_mode: type and permission bits */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
  ctime: number;
  inode: number;
  dev: number;
  nlink: number;
  /** '' when the id has no name (pwd.getpwuid fails) */
  owner: string;
  group: string;
}

export interface ListedEntry {
  /** as find printed it: the searched path, `/`, the path below it */
  path: string;
  /** find's %Y: `d` for a directory or a link to one (os.walk's is_dir()) */
  kind: string;
  /** undefined: stat could not read it (gone since find listed it) */
  stat?: EntryStat;
}

export type Listed =
  { kind: 'missing' } | { kind: 'dir'; entries: ListedEntry[]; findErrors: string; statErrors: string };

export interface Listing {
  /** the host's clock when the walk began (find.py's `now`) */
  now: number;
  paths: Listed[];
}

function parseStat(fields: string, owner: string, group: string): EntryStat {
  const [mode, uid, gid, size, atime, mtime, ctime, inode, dev, nlink] = fields.split(' ');
  return {
    mode: parseInt(mode, 16),
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    atime: Number(atime),
    mtime: Number(mtime),
    ctime: Number(ctime),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    owner: owner === 'UNKNOWN' ? '' : owner,
    group: group === 'UNKNOWN' ? '' : group,
  };
}

/** The walk script's answer: every field ends with NUL, each record's length is known from its tag. */
export function parseListing(stdout: string, count: number): Listing {
  const f = stdout.split('\0');
  const bad = () => new ModuleError('find: the listing the host printed is incomplete');
  let i = 0;
  const take = () => {
    if (i >= f.length - 1) throw bad();
    return f[i++];
  };
  if (take() !== 'N') throw bad();
  const now = parseFloat(take());
  const paths: Listed[] = [];
  while (i < f.length - 1) {
    const tag = take();
    if (tag === 'M') paths.push({ kind: 'missing' });
    else if (tag === 'D') {
      const entries: ListedEntry[] = [];
      const stats = new Map<string, EntryStat>();
      let findErrors = '';
      let statErrors = '';
      for (let t = take(); t !== 'Y'; t = take()) {
        if (t === 'E') entries.push({ kind: take(), path: take() });
        else if (t === 'S') {
          const [fields, owner, group, path] = [take(), take(), take(), take()];
          stats.set(path, parseStat(fields, owner, group));
        } else if (t === 'X') findErrors = take();
        else throw bad();
      }
      statErrors = take();
      for (const e of entries) e.stat = stats.get(e.path);
      paths.push({ kind: 'dir', entries, findErrors, statErrors });
    } else throw bad();
  }
  if (paths.length !== count || !Number.isFinite(now)) throw bad();
  return { now, paths };
}

// ---- selecting, as find.py does ----

/** Python's os.path.normpath (posixpath): `.` and `..` resolved in the text, `//` kept only as the first two. */
export function pyNormpath(p: string): string {
  if (p === '') return '.';
  const initial = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? 2 : 1) : 0;
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..' || (!initial && out.length === 0) || out[out.length - 1] === '..') out.push(c);
    else if (out.length) out.pop();
  }
  return '/'.repeat(initial) + out.join('/') || '.';
}

const S_IFMT = 0o170000;
const TYPE_BITS = {
  dir: 0o040000,
  reg: 0o100000,
  lnk: 0o120000,
  chr: 0o020000,
  blk: 0o060000,
  fifo: 0o010000,
  sock: 0o140000,
};
const is = (st: EntryStat, t: keyof typeof TYPE_BITS) => (st.mode & S_IFMT) === TYPE_BITS[t];

/** find.py statinfo(): the stat module's fields, in its order. */
export function statInfo(st: EntryStat): Record<string, unknown> {
  const m = st.mode;
  return {
    mode: formatMode(m & 0o7777),
    isdir: is(st, 'dir'),
    ischr: is(st, 'chr'),
    isblk: is(st, 'blk'),
    isreg: is(st, 'reg'),
    isfifo: is(st, 'fifo'),
    islnk: is(st, 'lnk'),
    issock: is(st, 'sock'),
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    inode: st.inode,
    dev: st.dev,
    nlink: st.nlink,
    atime: st.atime,
    mtime: st.mtime,
    ctime: st.ctime,
    gr_name: st.group,
    pw_name: st.owner,
    wusr: !!(m & 0o200),
    rusr: !!(m & 0o400),
    xusr: !!(m & 0o100),
    wgrp: !!(m & 0o020),
    rgrp: !!(m & 0o040),
    xgrp: !!(m & 0o010),
    woth: !!(m & 0o002),
    roth: !!(m & 0o004),
    xoth: !!(m & 0o001),
    isuid: !!(m & 0o4000),
    isgid: !!(m & 0o2000),
  };
}

/** find.py pfilter(): a pattern matches (fnmatch, or re.match from the start) and no exclude does. */
function nameFilter(a: Args): (name: string) => boolean {
  const compile = (p: string) => {
    if (!a.use_regex) return compileFnmatch(p);
    const re = compileUserRegex(p);
    return { matches: (name: string) => re.matcher(name).lookingAt() };
  };
  const given = a.patterns ?? a.pattern ?? [];
  const patterns = (given.length ? given : [a.use_regex ? '.*' : '*']).map(compile);
  const excludes = (a.excludes ?? a.exclude ?? []).map(compile);
  return (name) => patterns.some((p) => p.matches(name)) && !excludes.some((e) => e.matches(name));
}

/** find.py mode_filter(): octal (int(mode, 8)) or symbolic from 0; exact, or any bit in common. */
function modeFilter(a: Args): (st: EntryStat) => boolean {
  if (a.mode === undefined || a.mode === '' || a.mode === 0) return () => true;
  const spec = parseMode(a.mode);
  const want = spec.kind === 'octal' ? spec.value & 0o7777 : applyMode(spec, 0, false);
  return (st) => (a.exact_mode ? (st.mode & 0o7777) === want : (st.mode & 0o7777 & want) !== 0);
}

/** What find.py main() finds, before `contains` and checksums (which need the files' contents). */
export interface Selection {
  files: Record<string, unknown>[];
  examined: number;
  skipped: Record<string, string>;
  warnings: string[];
  /** files[i] still needs contains (and its checksum) from the content of its path */
  needContent: number[];
  /** files[i] needs its checksum */
  needChecksum: number[];
}

/** Python's text of find's complaint about a directory it could not read. */
function walkError(findErrors: string): string {
  const line = findErrors.split('\n').find((l) => l.trim() !== '') ?? findErrors;
  const m = /^find: '(.*)': (Permission denied|No such file or directory)$/.exec(line);
  if (!m) return line.replace(/^find: /, '');
  return `[Errno ${m[2] === 'Permission denied' ? 13 : 2}] ${m[2]}: '${m[1]}'`;
}

/** The directories find could not read (names it printed without quoting), each with Python's words for it. */
function unreadableDirs(findErrors: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of findErrors.split('\n')) {
    const m = /^find: '([^']*)': (Permission denied|No such file or directory)$/.exec(line);
    if (m) out.set(m[1].length > 1 ? m[1].replace(/\/$/, '') : m[1], walkError(line));
  }
  return out;
}

/** os.walk's onerror (find.py handle_walk_errors) raises: the walk of that path ends there. */
class WalkStopped extends Error {}

/**
 * find.py main() over the listing: os.walk's order (a directory's non-directories, then its
 * directories, each in listing order, then each subdirectory's turn), its depth, hidden and
 * type rules, and its counts. Pure.
 */
export function selectEntries(a: Args, npaths: string[], listing: Listing): Selection {
  const sel: Selection = { files: [], examined: 0, skipped: {}, warnings: [], needContent: [], needChecksum: [] };
  const names = nameFilter(a);
  const modeOk = modeFilter(a);
  const ageOk = (st: EntryStat) =>
    a.age === undefined ||
    (a.age >= 0 ? listing.now - st[a.age_stamp] >= a.age : listing.now - st[a.age_stamp] <= -a.age);
  const sizeOk = (st: EntryStat) => a.size === undefined || (a.size >= 0 ? st.size >= a.size : st.size <= -a.size);
  const limit = a.depth ? a.depth : undefined;
  const slashes = (s: string) => s.split('/').length - 1;

  npaths.forEach((npath, n) => {
    const listed = listing.paths[n];
    if (listed.kind === 'missing') {
      sel.skipped[npath] = `'${npath}' is not a directory`;
      sel.warnings.push(`Skipped '${npath}' path due to this access issue: '${npath}' is not a directory`);
      return;
    }
    const byParent = new Map<string, ListedEntry[]>();
    for (const e of listed.entries) {
      const parent = e.path.slice(0, e.path.lastIndexOf('/'));
      byParent.set(parent, [...(byParent.get(parent) ?? []), e]);
    }
    const wpathSlashes = slashes(npath.replace(/\/+$/, '') + '/');
    const take = (e: ListedEntry) => {
      const fsname = pyNormpath(e.path);
      const name = e.path.slice(e.path.lastIndexOf('/') + 1);
      if (limit !== undefined && slashes(fsname) - wpathSlashes + 1 > limit) return 'deeper';
      if (name.startsWith('.') && !a.hidden) return;
      const st = e.stat;
      if (!st) {
        const why = `[Errno 2] No such file or directory: '${fsname}'`;
        sel.skipped[fsname] = why;
        sel.warnings.push(`Skipped entry '${fsname}' due to this access issue: ${why}`);
        return;
      }
      if (!names(name) || !ageOk(st) || !modeOk(st)) return;
      const type = a.file_type;
      const typeOk =
        type === 'any'
          ? !is(st, 'reg') || sizeOk(st)
          : type === 'directory'
            ? is(st, 'dir')
            : type === 'link'
              ? is(st, 'lnk')
              : is(st, 'reg') && sizeOk(st);
      if (!typeOk) return;
      const at = sel.files.push({ path: fsname, ...statInfo(st) }) - 1;
      if (type === 'file' && a.contains !== undefined) sel.needContent.push(at);
      else if (a.get_checksum && is(st, 'reg') && (type === 'file' || type === 'any')) sel.needChecksum.push(at);
    };
    const unreadable = unreadableDirs(listed.findErrors);
    const visit = (key: string) => {
      const stop = unreadable.get(key);
      if (stop !== undefined) throw new WalkStopped(stop);
      const children = byParent.get(key) ?? [];
      sel.examined += children.length;
      const dirs = children.filter((c) => c.kind === 'd');
      let deeper = false;
      for (const c of [...children.filter((c) => c.kind !== 'd'), ...dirs]) if (take(c) === 'deeper') deeper = true;
      if (!a.recurse || deeper) return;
      for (const d of dirs) if (a.follow || !(d.stat && is(d.stat, 'lnk'))) visit(d.path);
    };
    // find prints `<path>/<name>`, or `<path><name>` when the path ends with a slash
    const q = npath.startsWith('-') ? `./${npath}` : npath;
    let reason: string | undefined;
    try {
      visit(q.endsWith('/') ? q.slice(0, -1) : q);
      // what find could not read but the walk did not reach as Python's would (a name find quoted)
      if (listed.findErrors.trim()) reason = walkError(listed.findErrors);
    } catch (e) {
      if (!(e instanceof WalkStopped)) throw e;
      reason = e.message;
    }
    if (reason !== undefined) {
      sel.skipped[npath] = reason;
      sel.warnings.push(`Skipped '${npath}' path due to this access issue: ${reason}`);
    }
  });
  return sel;
}

// ---- contents, on the host (contains, get_checksum) ----

/** The most of one file `contains` reads (find.py reads any size; here it crosses the link). */
const CONTENT_MAX = 32 * 1024 * 1024;

// The paths come NUL-separated on stdin; $1 is base64 (the content) or an algorithm's *sum.
// A path that is no longer a regular file, or cannot be read, answers U.
const CONTENT_SCRIPT = `c=$1
xargs -0r sh -c 'c=$1; shift
for p; do
  if [ -f "$p" ] && ! [ -L "$p" ] && h=$(if [ "$c" = base64 ]; then base64 -w0; else "$c"; fi <"$p" 2>/dev/null); then
    printf "B\\0%s\\0" "$h"
  else printf "U\\0"; fi
done' sh "$c"`;

async function readContents(ctx: ModuleContext, paths: string[], command: string): Promise<(string | undefined)[]> {
  if (paths.length === 0) return [];
  const r = await ctx.run(['sh', '-c', CONTENT_SCRIPT, 'sh', command], {
    stdin: paths.map((p) => `${p}\0`).join(''),
    okExit: 'any',
  });
  const f = r.stdout.split('\0');
  const out: (string | undefined)[] = [];
  for (let i = 0; i < f.length - 1; i++) out.push(f[i] === 'B' ? f[++i] : undefined);
  if (out.length !== paths.length)
    throw new ModuleError(`find: could not read the files' contents: ${r.stderr.trim() || `exit code ${r.rc}`}`, {
      result: r,
    });
  return out;
}

/** find.py contentfilter(): UTF-8 text (a file that is not never matches), universal newlines, re.match per line or re.search. */
export function contentMatches(content: Buffer, pattern: string, wholeFile: boolean): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    return false;
  }
  text = text.replace(/\r\n?/g, '\n');
  const re = compileUserRegex(pattern);
  // Python's `$` also matches before a final newline; RE2's only at the very end
  if (wholeFile) return re.matcher(text).find() || (text.endsWith('\n') && re.matcher(text.slice(0, -1)).find());
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.some((line) => re.matcher(line).lookingAt() || re.matcher(`${line}\n`).lookingAt());
}

interface Facts {
  /** the searched paths, expanded on the host */
  npaths: string[];
  listing: Listing;
  /** by path: the content read for `contains` (undefined: not readable) */
  contents: Map<string, Buffer | undefined>;
  /** by path: the checksum read for `get_checksum` */
  sums: Map<string, string>;
}

async function readFacts(ctx: ModuleContext, a: Args): Promise<Facts> {
  // os.path.expanduser(os.path.expandvars(npath)), on the host, for the paths that need it
  const given = pathsOf(a);
  const record = Object.fromEntries(given.map((p, i) => [`p${i}`, p]));
  const expanded = await expandPathArgs(Object.keys(record), record, ctx);
  const npaths = given.map((_, i) => expanded[`p${i}`]);

  const r = await ctx.run(['sh', '-c', WALK_SCRIPT, 'sh', a.follow ? 'L' : 'H', String(maxDepth(a) ?? ''), ...npaths], {
    okExit: 'any',
  });
  if (r.rc !== 0)
    throw new ModuleError(`find: could not search on ${ctx.host}: ${r.stderr.trim() || `exit code ${r.rc}`}`, {
      result: r,
    });
  const listing = parseListing(r.stdout, npaths.length);
  // what matched everything else: their contents (contains) or checksums, in a second round trip
  const sel = selectEntries(a, npaths, listing);
  const pathOf = (i: number) => sel.files[i].path as string;
  const big = sel.needContent.find((i) => (sel.files[i].size as number) > CONTENT_MAX);
  if (big !== undefined)
    throw new ModuleError(`find: ${pathOf(big)} is larger than the ${CONTENT_MAX / 1024 / 1024} MiB contains reads`);
  const read = await readContents(ctx, sel.needContent.map(pathOf), 'base64');
  const contents = new Map(
    sel.needContent.map((i, k) => [pathOf(i), read[k] === undefined ? undefined : Buffer.from(read[k], 'base64')]),
  );
  const summed = await readContents(ctx, sel.needChecksum.map(pathOf), `${algorithmOf(a)}sum`);
  const sums = new Map<string, string>();
  sel.needChecksum.forEach((i, k) => {
    const sum = summed[k]?.split(' ')[0];
    if (!sum) throw new ModuleError(`find: could not read ${pathOf(i)} for its checksum`);
    sums.set(pathOf(i), sum);
  });
  return { npaths, listing, contents, sums };
}

/** find's -maxdepth: 1 without recurse; depth + 1 with it (the level below is examined); else none. */
function maxDepth(a: Args): number | undefined {
  return !a.recurse ? 1 : a.depth ? Math.max(a.depth + 1, 1) : undefined;
}

/** The selection finished with what was read: contains decides, checksums added. Pure. */
function finish(a: Args, f: Facts): Selection {
  const sel = selectEntries(a, f.npaths, f.listing);
  const dropped = new Set<number>();
  for (const i of sel.needContent) {
    const content = f.contents.get(sel.files[i].path as string);
    // a file only an earlier task of a check run would write: its content is not known here
    if (!content || !contentMatches(content, a.contains!, a.read_whole_file)) dropped.add(i);
    else if (a.get_checksum) sel.files[i].checksum = createHash(algorithmOf(a)).update(content).digest('hex');
  }
  for (const i of sel.needChecksum) {
    const sum = f.sums.get(sel.files[i].path as string);
    if (sum !== undefined) sel.files[i].checksum = sum;
  }
  return { ...sel, files: sel.files.filter((_, i) => !dropped.has(i)) };
}

// ---- check mode: what earlier tasks would make ----

const TYPE_OF: Partial<Record<string, number>> = {
  file: TYPE_BITS.reg,
  directory: TYPE_BITS.dir,
  link: TYPE_BITS.lnk,
  fifo: TYPE_BITS.fifo,
  socket: TYPE_BITS.sock,
  block: TYPE_BITS.blk,
  char: TYPE_BITS.chr,
};

/** An entry's lstat as a prediction leaves it (a new entry: now, empty, with what the prediction says). */
function predictedStat(st: EntryStat | undefined, p: FileState, now: number): EntryStat {
  const type = (p.type && TYPE_OF[p.type]) ?? (st ? st.mode & S_IFMT : TYPE_BITS.reg);
  const perm = p.mode ?? (st ? st.mode & 0o7777 : 0o644);
  const base: EntryStat = st ?? {
    mode: 0,
    uid: 0,
    gid: 0,
    size: 0,
    atime: now,
    mtime: now,
    ctime: now,
    inode: 0,
    dev: 0,
    nlink: 1,
    owner: 'root',
    group: 'root',
  };
  return {
    ...base,
    mode: type | perm,
    uid: p.uid ?? base.uid,
    gid: p.gid ?? base.gid,
    owner: p.owner ?? (p.uid !== undefined && p.uid !== base.uid ? String(p.uid) : base.owner),
    group: p.group ?? (p.gid !== undefined && p.gid !== base.gid ? String(p.gid) : base.group),
    size: p.size ?? base.size,
  };
}

/**
 * The listing as earlier tasks of a check run would leave it: entries predicted gone (or below
 * something predicted gone or not a directory) removed, predicted ones changed or added where the
 * walk would have listed them (within its depth).
 */
export function overlayListing(a: Args, f: Facts, predicted: Predictions): Facts {
  if (predicted.empty) return f;
  const paths = f.listing.paths.map((listed, n): Listed => {
    const root = normalizePath(f.npaths[n]);
    const rootState = predictedPath(predicted, root);
    if (rootState && !(rootState.exists && rootState.type === 'directory')) return { kind: 'missing' };
    const base: Listed =
      listed.kind === 'dir'
        ? listed
        : rootState
          ? { kind: 'dir', entries: [], findErrors: '', statErrors: '' }
          : listed;
    if (base.kind === 'missing') return base;
    const q = f.npaths[n].startsWith('-') ? `./${f.npaths[n]}` : f.npaths[n];
    const prefix = q.endsWith('/') ? q : `${q}/`;
    const entries: ListedEntry[] = [];
    const seen = new Set<string>();
    for (const e of base.entries) {
      const key = normalizePath(e.path);
      seen.add(key);
      const p = predictedPath(predicted, key);
      if (!p) entries.push(e);
      else if (p.exists)
        entries.push({
          ...e,
          kind: p.type === 'directory' ? 'd' : p.type ? 'f' : e.kind,
          stat: predictedStat(e.stat, p, f.listing.now),
        });
    }
    const limit = maxDepth(a);
    const added = pathSlot
      .entries(predicted)
      .filter(
        ([key, p]) => p.exists && !seen.has(key) && key.startsWith(root === '/' ? '/' : `${root}/`) && key !== root,
      )
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    for (const [key, p] of added) {
      const rel = key.slice(root === '/' ? 1 : root.length + 1);
      if (limit !== undefined && rel.split('/').length > limit) continue;
      if (predictedPath(predicted, key)?.exists === false) continue;
      entries.push({
        path: prefix + rel,
        kind: p.type === 'directory' ? 'd' : 'f',
        stat: predictedStat(undefined, p, f.listing.now),
      });
    }
    return { ...base, entries };
  });
  return { ...f, listing: { ...f.listing, paths } };
}

export default defineModule<Args, Facts>({
  name: 'find',
  aliases: ['ansible.builtin.find', 'ansible.legacy.find'],
  description:
    'List the files, directories or links under some directories that match names, age, size, mode or content',
  args,
  facts: readFacts,
  overlay: (f, a, predicted) => overlayListing(a, f, predicted),
  plan: (facts, a) => {
    const f = finish(a, facts);
    return {
      changes: [],
      msg: f.warnings.length ? 'Not all paths examined, check warnings for details' : 'All paths examined',
      result: {
        files: f.files,
        matched: f.files.length,
        examined: f.examined,
        skipped_paths: f.skipped,
        ...(f.warnings.length ? { warnings: f.warnings } : {}),
      },
    };
  },
});
