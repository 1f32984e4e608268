// Reads everything a module needs to know about remote files in ONE command:
// stat of several paths (with checksum and, for diffs, content), who we run
// as, user/group lookups and an optional recursive listing. Each answer is
// tagged with the path's index, so names with newlines, quotes or `$(...)` are
// data: contents travel as base64, and stat's line ends with %N in C quoting
// (QUOTING_STYLE=c: the name and a link's target, escaped, on that one line).
import { createHash } from 'node:crypto';
import {
  changeCountNow,
  hasEarlyAnswer,
  keepEarlyAnswers,
  mergeRequests,
  probeEnded,
  readsAhead,
  recordIfLookingAhead,
  takeEarlyAnswer,
} from './read-ahead.js';
import { ModuleError, type ModuleContext } from '../module.js';
import { predictedPath, type Predictions } from '../predictions.js';
import { shellQuote } from '../quote.js';

export type FileType = 'file' | 'directory' | 'link' | 'fifo' | 'socket' | 'block' | 'char' | 'unknown';
export type ChecksumAlgorithm = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'md5';

export interface FileState {
  exists: boolean;
  type?: FileType;
  /** permission bits, 07777 */
  mode?: number;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  size?: number;
  mtime?: number;
  atime?: number;
  ctime?: number;
  inode?: number;
  dev?: number;
  nlink?: number;
  /** set when the path itself is a symlink */
  linkTarget?: string;
  checksum?: string;
  /** details: the fully resolved path of a symlink */
  realPath?: string;
  /** details: access for the user running the probe */
  readable?: boolean;
  writeable?: boolean;
  executable?: boolean;
  /** followLink: the state of a symlink's target, when it exists */
  target?: FileState;
  /** the path could not be examined (e.g. permission denied) */
  error?: string;
  /** set when content was asked for and the file is a regular file no larger than the limit */
  content?: Buffer;
  /** exists, but was not examined (PathQuery.existsIfExists): nothing but `exists` is known */
  implied?: boolean;
}

export interface PathQuery {
  path: string;
  /** stat the link's target instead of the link */
  follow?: boolean;
  checksum?: ChecksumAlgorithm;
  /** read the content (base64) when the file is at most this many bytes */
  contentMax?: number;
  /** also: the link's resolved path, and whether we may read/write/execute it */
  details?: boolean;
  /** when the path is a symlink, also stat its target (FileState.target) */
  followLink?: boolean;
  /** examine this path only when that other path does not exist (otherwise reported missing) */
  onlyIfMissing?: string;
  /**
   * examine this path only when that other path does not exist; otherwise this one is reported
   * existing, unexamined (FileState.implied): a path's parent exists when the path does
   */
  existsIfExists?: string;
}

export interface Identity {
  uid: number;
  gid: number;
  user: string;
  group: string;
  /** e.g. 0o022 */
  umask: number;
}

export interface Account {
  name: string;
  id: number;
}

export interface TreeEntry {
  /** relative to the tree root */
  rel: string;
  type: FileType;
  mode: number;
  uid: number;
  gid: number;
  owner: string;
  group: string;
}

export interface ProbeRequest {
  paths?: PathQuery[];
  identity?: boolean;
  /** user names or numeric ids to resolve */
  users?: string[];
  groups?: string[];
  /** list everything below this directory (not following links) */
  tree?: string;
  /** glob patterns: does any existing path match? (command creates/removes) */
  globs?: string[];
}

export interface ProbeResult {
  paths: FileState[];
  /** what was asked (set by probe()): lets overlayProbe lay check-mode predictions over the answers */
  request?: ProbeRequest;
  identity?: Identity;
  /** undefined entry: no such user/group */
  users: Map<string, Account | undefined>;
  groups: Map<string, Account | undefined>;
  tree?: TreeEntry[];
  globs: boolean[];
}

/** Every name probeScript(req) assigns (test/same-shell.test.ts checks it against the script itself). */
export function probeLocals(req: ProbeRequest): string[] {
  const accounts = (req.paths ?? []).flatMap((_, i) => [`phx_u${i}`, `phx_g${i}`]);
  const batched = statBatches(req).flatMap((b) => b.flatMap((i) => [`phx_x${i}`, `phx_s${i}`]));
  const summed = sumBatches(req).flatMap((b) => b.batch.flatMap((i) => [`phx_k${i}`, `phx_c${i}`]));
  return ['s', 't', 'a', 'w', 'x', 'g', 'nl', 'LC_ALL', 'QUOTING_STYLE', ...accounts, ...batched, ...summed];
}

const STAT_FORMAT = '%f %u %g %s %.6Y %.6X %.6Z %i %d %h %U %G';

/** A path that no command can read as an option. */
export function safePath(p: string): string {
  return p.startsWith('-') ? `./${p}` : p;
}

// Every process counts (a loaded host forks slowly): builtins where possible,
// no `$(...)` around what can print its own line, one `id` for the identity.
export function probeScript(req: ProbeRequest): string {
  const lines: string[] = [];
  const lookups = (req.users?.length ?? 0) + (req.groups?.length ?? 0) > 0;
  const paths = req.paths ?? [];
  if (lookups) lines.push(paths.map((_, i) => `phx_u${i}= phx_g${i}=`).join(' ') || 'true');
  const batches = statBatches(req);
  for (const batch of batches) lines.push(batchedStat(paths, batch));
  const inBatch = new Set(batches.flat());
  const sums = sumBatches(req);
  for (const { algorithm, batch } of sums) lines.push(batchedSums(paths, algorithm, batch));
  const summed = new Set(sums.flatMap((b) => b.batch));
  paths.forEach((q, i) => {
    const p = shellQuote(safePath(q.path));
    const regular = regularFile(q, p);
    const ownStat = `s=$(LC_ALL=C QUOTING_STYLE=c stat ${q.follow ? '-L ' : ''}-c '${STAT_FORMAT} %N' ${p} 2>&1)`;
    // %N, C-quoted, ends the line: the name, and a link's target (no readlink, no base64)
    const parts = [
      `if ${inBatch.has(i) ? `s=$phx_s${i}; [ -n "$s" ] || ${ownStat}` : ownStat}; then printf 'S${i} %s\n' "$s"`,
    ];
    // the owner and group names this stat line already resolved: account lookups below may need no getent
    if (lookups) parts.push(`set -f; set -- $s; set +f; phx_u${i}=\${11}; phx_g${i}=\${12}`);
    const ofLink = [
      ...(q.details ? [`printf 'R${i} '; readlink -f ${p} | base64 -w0; echo`] : []),
      ...(q.followLink
        ? [`t=$(LC_ALL=C stat -L -c '${STAT_FORMAT}' ${p} 2>/dev/null) && printf 'F${i} %s\n' "$t"`]
        : []),
    ];
    if (ofLink.length > 0) parts.push(`if [ -L ${p} ]; then ${ofLink.join('\n')}`, 'fi');
    if (q.details) {
      parts.push(
        `a=-; w=-; x=-; [ -r ${p} ] && a=r; [ -w ${p} ] && w=w; [ -x ${p} ] && x=x; printf 'A${i} %s%s%s\n' "$a" "$w" "$x"`,
      );
    }
    const checksum = q.checksum ? `printf 'C${i} '; ${q.checksum}sum < ${p}` : undefined;
    if (q.contentMax === undefined) {
      const sum = summed.has(i)
        ? `if [ -n "$phx_c${i}" ]; then printf 'C${i} %s\n' "$phx_c${i}"; else ${checksum}; fi`
        : checksum;
      if (checksum) parts.push(`${regular} && [ -r ${p} ] && { ${sum}; }`);
    } else if (!checksum) {
      // size is the 4th field of the stat line already read
      parts.push(
        `set -- $s; ${regular} && [ -r ${p} ] && [ "$4" -le ${q.contentMax} ] && { printf 'B${i} '; base64 -w0 < ${p}; echo; }`,
      );
    } else {
      // content read whole (`C =`): the controller hashes it, a process fewer and the same bytes
      parts.push(
        `set -- $s; if ${regular} && [ -r ${p} ]; then if [ "$4" -le ${q.contentMax} ]; then printf 'B${i} '; base64 -w0 < ${p} && printf '\\nC${i} ='; echo; else ${checksum}; fi; fi`,
      );
    }
    // missing is an answer; anything else (permission denied) is an error the task reports
    parts.push(
      `else case $s in *'No such file'*|*'Not a directory'*) echo N${i};; *) printf 'E${i} '; printf %s "$s" | base64 -w0; echo;; esac; fi`,
    );
    const block = parts.join('\n');
    const other = q.onlyIfMissing ?? q.existsIfExists;
    if (other === undefined) lines.push(block);
    else {
      const o = shellQuote(safePath(other));
      const answer = q.onlyIfMissing !== undefined ? `N${i}` : `X${i}`;
      lines.push(`if [ -e ${o} ] || [ -L ${o} ]; then echo ${answer}; else\n${block}\nfi`);
    }
  });
  if (req.identity) lines.push(`printf 'I '; umask; printf 'J '; LC_ALL=C id`);
  // A name some probed path is owned by resolves to that path's id (`U0 =`): a process fewer per
  // name, the usual case once a host has converged. Else getent (it also asks LDAP and the like).
  const lookup = (tag: string, name: string, db: 'passwd' | 'group', field: 'u' | 'g') => {
    const ask = `printf '${tag} '; getent ${db} -- ${shellQuote(name)} || echo`;
    if (paths.length === 0 || name === 'UNKNOWN') return ask; // stat's word for an id without a name
    const known = paths.map((_, i) => `[ "$phx_${field}${i}" = ${shellQuote(name)} ]`).join(' || ');
    return `if ${known}; then echo '${tag} ='; else ${ask}; fi`;
  };
  (req.users ?? []).forEach((u, i) => lines.push(lookup(`U${i}`, u, 'passwd', 'u')));
  (req.groups ?? []).forEach((g, i) => lines.push(lookup(`G${i}`, g, 'group', 'g')));
  (req.globs ?? []).forEach((g, i) => {
    // Unquoted expansion of a variable globs but never runs anything; IFS= stops word splitting.
    lines.push(
      `g=${shellQuote(g)}; IFS=; set -- $g; unset IFS; if [ -e "$1" ] || [ -L "$1" ]; then echo 'M${i} 1'; else echo 'M${i} 0'; fi`,
    );
  });
  if (req.tree !== undefined) {
    lines.push(
      `echo T; find ${shellQuote(safePath(req.tree))} -mindepth 1 -printf '%y %m %U %G %u %g %P\\0' 2>/dev/null`,
    );
  }
  lines.push('true');
  return lines.join('\n');
}

/**
 * The paths stat'ed together, by one process per batch (a fork and exec cost the host ~1.5 ms
 * each): those examined whatever the others are (no onlyIfMissing/existsIfExists), `stat -L` ones
 * apart, only where a batch has two or more.
 */
function statBatches(req: ProbeRequest): number[][] {
  const plain: number[] = [];
  const followed: number[] = [];
  (req.paths ?? []).forEach((q, i) => {
    if (q.onlyIfMissing === undefined && q.existsIfExists === undefined) (q.follow ? followed : plain).push(i);
  });
  return [plain, followed].filter((b) => b.length >= 2);
}

/**
 * One stat for the batch's paths that exist now; each line is kept as `phx_s<i>`. stat prints one
 * line per operand, in order, and exits 0 only when it could stat them all: otherwise (a path gone
 * or unreadable since the test) nothing is kept, and each path is stat'ed on its own as before,
 * which tells a missing path from an error. A path that appeared since is stat'ed on its own too.
 */
function batchedStat(paths: readonly PathQuery[], batch: readonly number[]): string {
  const follow = paths[batch[0]].follow ? '-L ' : '';
  const lines = ['set --'];
  for (const i of batch) {
    const p = shellQuote(safePath(paths[i].path));
    lines.push(`phx_s${i}=; phx_x${i}=; if [ -e ${p} ] || [ -L ${p} ]; then phx_x${i}=1; set -- "$@" ${p}; fi`);
  }
  // $(...) drops the last newline: one is put back, so every kept line ends with one
  lines.push(`nl='\n'`);
  lines.push(
    `if [ $# -gt 0 ] && a=$(LC_ALL=C QUOTING_STYLE=c stat ${follow}-c '${STAT_FORMAT} %N' -- "$@" 2>/dev/null); then a=$a$nl`,
  );
  for (const i of batch) lines.push(`if [ "$phx_x${i}" = 1 ]; then phx_s${i}=\${a%%"$nl"*}; a=\${a#*"$nl"}; fi`);
  lines.push('fi');
  return lines.join('\n');
}

/** A regular file as this query sees it (a link is not one unless followed). */
function regularFile(q: PathQuery, p: string): string {
  return q.follow ? `[ -f ${p} ]` : `[ -f ${p} ] && ! [ -L ${p} ]`;
}

/** The paths checksummed together, one process per algorithm: unconditional ones whose content is not read whole. */
function sumBatches(req: ProbeRequest): { algorithm: ChecksumAlgorithm; batch: number[] }[] {
  const by = new Map<ChecksumAlgorithm, number[]>();
  (req.paths ?? []).forEach((q, i) => {
    if (!q.checksum || q.contentMax !== undefined || q.onlyIfMissing !== undefined || q.existsIfExists !== undefined)
      return;
    by.set(q.checksum, [...(by.get(q.checksum) ?? []), i]);
  });
  return [...by].filter(([, batch]) => batch.length >= 2).map(([algorithm, batch]) => ({ algorithm, batch }));
}

/**
 * One `<algorithm>sum` for the batch's regular, readable files; each one's sum is kept as `phx_c<i>`.
 * As with the stat batch, its lines are used only when it read every file (one line per operand, in
 * order; a name with a newline or backslash is escaped and its line starts with a backslash);
 * otherwise each file is summed on its own as before.
 */
function batchedSums(paths: readonly PathQuery[], algorithm: ChecksumAlgorithm, batch: readonly number[]): string {
  const lines = ['set --'];
  for (const i of batch) {
    const p = shellQuote(safePath(paths[i].path));
    lines.push(
      `phx_c${i}=; phx_k${i}=; if ${regularFile(paths[i], p)} && [ -r ${p} ]; then phx_k${i}=1; set -- "$@" ${p}; fi`,
    );
  }
  lines.push(`nl='\n'`);
  lines.push(`if [ $# -gt 0 ] && a=$(${algorithm}sum -- "$@" 2>/dev/null); then a=$a$nl`);
  for (const i of batch) {
    lines.push(
      `if [ "$phx_k${i}" = 1 ]; then phx_c${i}=\${a%%"$nl"*}; a=\${a#*"$nl"}; phx_c${i}=\${phx_c${i}%% *}; phx_c${i}=\${phx_c${i}#\\\\}; fi`,
    );
  }
  lines.push('fi');
  return lines.join('\n');
}

const TYPE_BY_BITS: Record<number, FileType> = {
  0o100000: 'file',
  0o040000: 'directory',
  0o120000: 'link',
  0o010000: 'fifo',
  0o140000: 'socket',
  0o060000: 'block',
  0o020000: 'char',
};
const TYPE_BY_FIND: Record<string, FileType> = {
  f: 'file',
  d: 'directory',
  l: 'link',
  p: 'fifo',
  s: 'socket',
  b: 'block',
  c: 'char',
};

function parseStatLine(text: string): FileState {
  const fields = text.split(' ', 12);
  const [rawMode, uid, gid, size, mtime, atime, ctime, inode, dev, nlink, owner, group] = fields;
  const bits = parseInt(rawMode, 16);
  const type = TYPE_BY_BITS[bits & 0o170000] ?? 'unknown';
  // after the 12 fields: %N, `"name"` or, for a link, `"name" -> "target"`
  const linkTarget = type === 'link' ? linkTargetOf(text.slice(fields.join(' ').length + 1)) : undefined;
  return {
    ...(linkTarget !== undefined ? { linkTarget } : {}),
    exists: true,
    type,
    mode: bits & 0o7777,
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    mtime: Number(mtime),
    atime: Number(atime),
    ctime: Number(ctime),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    owner: owner === 'UNKNOWN' ? uid : owner,
    group: group === 'UNKNOWN' ? gid : group,
  };
}

/** The target in stat's `%N` of a link, quoted in C style (QUOTING_STYLE=c): `"name" -> "target"`. */
function linkTargetOf(quoted: string): string {
  const name = readCQuoted(quoted, 0);
  const arrow = name === undefined ? -1 : name.end;
  const target = quoted.startsWith(' -> ', arrow) ? readCQuoted(quoted, arrow + 4) : undefined;
  if (!target || target.end !== quoted.length)
    throw new ModuleError(`stat printed a link's name in a form phx-play cannot read: ${quoted}`);
  return target.bytes.toString('utf8');
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, e: 27 };

/** The bytes of the C-quoted string at `at` ("…" with \n, \", \\, \ooo, …) and the index after it. */
function readCQuoted(text: string, at: number): { bytes: Buffer; end: number } | undefined {
  if (text[at] !== '"') return undefined;
  const bytes: number[] = [];
  for (let i = at + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return { bytes: Buffer.from(bytes), end: i + 1 };
    if (c !== '\\') {
      bytes.push(c.charCodeAt(0) & 0xff);
      continue;
    }
    const next = text[++i];
    const octal = /^[0-7]{1,3}/.exec(text.slice(i, i + 3));
    if (octal) {
      bytes.push(parseInt(octal[0], 8) & 0xff);
      i += octal[0].length - 1;
    } else if (next !== undefined && next in C_ESCAPES) bytes.push(C_ESCAPES[next]);
    else if (next !== undefined) bytes.push(next.charCodeAt(0) & 0xff); // \\ \" \' \?
  }
  return undefined;
}

function parseAccount(line: string): Account | undefined {
  if (!line.trim()) return undefined;
  const f = line.split(':');
  return { name: f[0], id: Number(f[2]) };
}

export function parseProbe(req: ProbeRequest, stdout: string): ProbeResult {
  // The tree listing is last; its marker is the first line that is exactly "T".
  let head = stdout;
  let treeText: string | undefined;
  if (req.tree !== undefined) {
    const at = stdout.startsWith('T\n') ? 0 : stdout.indexOf('\nT\n') + 1;
    if (at >= 0 && (at > 0 || stdout.startsWith('T\n'))) {
      head = stdout.slice(0, at);
      treeText = stdout.slice(at + 2);
    }
  }
  const paths: FileState[] = (req.paths ?? []).map(() => ({ exists: false }));
  const users = new Map<string, Account | undefined>();
  const groups = new Map<string, Account | undefined>();
  const globs: boolean[] = (req.globs ?? []).map(() => false);
  let identity: Identity | undefined;
  let umask = 0o022;
  for (const line of head.split('\n')) {
    const m = /^([A-Z])(\d*) ?(.*)$/.exec(line);
    if (!m) continue;
    const [, tag, idx, rest] = m;
    const i = Number(idx);
    switch (tag) {
      case 'S':
        paths[i] = { ...paths[i], ...parseStatLine(rest) };
        break;
      case 'E':
        paths[i].error = Buffer.from(rest, 'base64').toString('utf8');
        break;
      case 'R':
        paths[i].realPath = Buffer.from(rest, 'base64').toString('utf8').replace(/\n$/, '');
        break;
      case 'A':
        paths[i].readable = rest[0] === 'r';
        paths[i].writeable = rest[1] === 'w';
        paths[i].executable = rest[2] === 'x';
        break;
      case 'C':
        if (rest === '=') paths[i].checksum = contentChecksum(req.paths![i], paths[i].content);
        else if (rest) paths[i].checksum = rest.split(' ')[0];
        break;
      case 'X':
        paths[i] = { exists: true, implied: true };
        break;
      case 'F':
        paths[i].target = parseStatLine(rest);
        break;
      case 'B':
        paths[i].content = Buffer.from(rest, 'base64');
        break;
      case 'I':
        umask = parseInt(rest, 8);
        break;
      case 'J': {
        // uid=0(root) gid=0(root) groups=...; names are missing for ids without an entry
        const m = /uid=(\d+)(?:\(([^)]*)\))? gid=(\d+)(?:\(([^)]*)\))?/.exec(rest);
        if (m) identity = { uid: Number(m[1]), user: m[2] ?? m[1], gid: Number(m[3]), group: m[4] ?? m[3], umask: 0 };
        break;
      }
      case 'U':
        users.set(req.users![i], rest === '=' ? ownerAccount(paths, req.users![i], 'user') : parseAccount(rest));
        break;
      case 'G':
        groups.set(req.groups![i], rest === '=' ? ownerAccount(paths, req.groups![i], 'group') : parseAccount(rest));
        break;
      case 'M':
        globs[i] = rest === '1';
        break;
    }
  }
  let tree: TreeEntry[] | undefined;
  if (treeText !== undefined) {
    tree = [];
    for (const rec of treeText.split('\0')) {
      if (!rec) continue;
      const m = /^(\S) (\d+) (\d+) (\d+) (\S+) (\S+) ([\s\S]*)$/.exec(rec);
      if (!m) continue;
      tree.push({
        type: TYPE_BY_FIND[m[1]] ?? 'unknown',
        mode: parseInt(m[2], 8),
        uid: Number(m[3]),
        gid: Number(m[4]),
        owner: m[5] === 'UNKNOWN' ? m[3] : m[5],
        group: m[6] === 'UNKNOWN' ? m[4] : m[6],
        rel: m[7],
      });
    }
  }
  if (identity) identity.umask = umask;
  return { paths, identity, users, groups, tree, globs };
}

/** What `<algorithm>sum` would print for the content the probe read (`C =`). */
function contentChecksum(q: PathQuery, content: Buffer | undefined): string | undefined {
  return q.checksum && content ? createHash(q.checksum).update(content).digest('hex') : undefined;
}

/** The account `name` as a probed path's stat line named it (S lines come before U and G lines). */
function ownerAccount(paths: FileState[], name: string, kind: 'user' | 'group'): Account | undefined {
  for (const p of paths) {
    if (!p.exists) continue;
    if (kind === 'user' && p.owner === name && p.uid !== undefined) return { name, id: p.uid };
    if (kind === 'group' && p.group === name && p.gid !== undefined) return { name, id: p.gid };
  }
  return undefined;
}

// Who commands run as, and their umask, per connection and become user: it
// cannot change while a connection lives (the remote shell's umask is fixed at
// its start), so `id` runs once per host, not in every file task.
const identities = new WeakMap<object, Map<string, Identity>>();

/**
 * One round trip, or none when the answer was read ahead (read-ahead.ts): then it was asked in an
 * earlier task's round trip, with no command that may change a host since. What the host says:
 * check-mode predictions are laid over it by overlayProbe.
 */
export async function probe(ctx: ModuleContext, req: ProbeRequest): Promise<ProbeResult> {
  recordIfLookingAhead(ctx, req);
  const known = identities.get(ctx.conn) ?? new Map<string, Identity>();
  const as = ctx.becomeUser ?? '';
  const cached = req.identity ? known.get(as) : undefined;
  const asked = cached ? { ...req, identity: false } : req;
  const result = takeEarlyAnswer(ctx.conn, as, asked) ?? (await probeNow(ctx, asked, as, known.has(as)));
  probeEnded(ctx.conn);
  if (cached) result.identity = { ...cached };
  else if (req.identity && result.identity) identities.set(ctx.conn, known.set(as, { ...result.identity }));
  const broken = result.paths.find((p) => p.error !== undefined);
  if (broken) throw new ModuleError(`stat: ${broken.error!.replace(/^stat: /, '')}`);
  return { ...result, request: req };
}

/** Asks the host: this request, and what the following tasks will ask when the task reads ahead. */
async function probeNow(ctx: ModuleContext, asked: ProbeRequest, as: string, identityKnown: boolean) {
  const ahead = ctx.upcomingProbes && readsAhead(ctx.conn) ? await ctx.upcomingProbes() : [];
  const ask = async (req: ProbeRequest) => {
    const r = await ctx.runShell(probeScript(req), { ownScript: true, ownLocals: probeLocals(req), readsOnly: true });
    return parseProbe(req, r.stdout);
  };
  if (ahead.length === 0 || asked.tree !== undefined) return ask(asked); // a listing is never merged
  // as those tasks will ask: without the identity, which this round trip learns (or knew)
  const later = withinScriptSize(
    asked,
    ahead
      .map((r) => (r.identity && (identityKnown || asked.identity) ? { ...r, identity: false } : r))
      .filter((r) => !hasEarlyAnswer(ctx.conn, as, r)), // still good from an earlier read-ahead
  );
  if (later.length === 0) return ask(asked);
  const { merged, split } = mergeRequests([asked, ...later]);
  const readAt = changeCountNow();
  const [own, ...rest] = split(await ask(merged));
  keepEarlyAnswers(
    ctx.conn,
    as,
    readAt,
    later.map((req, i) => ({ req, result: rest[i] })),
  );
  return own;
}

/**
 * A script is one argv operand where it cannot go through the shell's stdin (`lxc-attach -- sh -c`
 * into a CT, an exec channel), and Linux takes at most 128 KiB there: the later requests that fit well below.
 */
const MERGED_SCRIPT_MAX = 48 * 1024;

function withinScriptSize(asked: ProbeRequest, later: ProbeRequest[]): ProbeRequest[] {
  let size = probeScript(asked).length;
  const kept: ProbeRequest[] = [];
  for (const r of later) {
    size += probeScript(r).length;
    if (size > MERGED_SCRIPT_MAX) break;
    kept.push(r);
  }
  return kept;
}

/** A probed path as earlier tasks of a check run would leave it; a partial prediction (new owner/mode) merges. */
export function overlayPathState(state: FileState, path: string, predicted: Predictions): FileState {
  const p = predictedPath(predicted, path);
  if (!p) return state;
  return p.exists && state.exists ? { ...state, ...p } : p;
}

/** Whether a creates/removes glob matches, as earlier tasks would leave it (only a plain path can be predicted). */
export function overlayGlob(exists: boolean, glob: string, predicted: Predictions): boolean {
  const p = /[*?[]/.test(glob) ? undefined : predictedPath(predicted, glob);
  return p ? p.exists : exists;
}

/** The overlay step of the modules built on probe(): its answers as earlier tasks of a check run would leave them. */
export function overlayProbe(r: ProbeResult, predicted: Predictions): ProbeResult {
  if (predicted.empty || !r.request) return r;
  const { paths = [], globs = [] } = r.request;
  return {
    ...r,
    paths: r.paths.map((s, i) => (paths[i] ? overlayPathState(s, paths[i].path, predicted) : s)),
    globs: r.globs.map((e, i) => (globs[i] !== undefined ? overlayGlob(e, globs[i], predicted) : e)),
  };
}

/** Convenience: the state of one path. */
export async function statPath(
  ctx: ModuleContext,
  path: string,
  opts: Omit<PathQuery, 'path'> = {},
): Promise<FileState> {
  return (await probe(ctx, { paths: [{ path, ...opts }] })).paths[0];
}
