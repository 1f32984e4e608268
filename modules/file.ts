// file: makes a path a file, directory, symlink or hard link with the given
// owner, group and mode (recursively for directories), touches it, or removes
// it. Facts are one round trip (the path, its ancestors, the link source, who
// we are, the owner/group lookups and, with recurse, everything below); every
// change is an argv batched into one more.
import { posix } from 'node:path';
import * as z from 'zod';
import { defineModule, type Change, type Plan } from '../src/module.js';
import { pathSlot, type PredictionWrite, type Predictions } from '../src/predictions.js';
import { applyMode, formatMode, modeArg, parseMode, type ModeSpec } from '../src/remote/mode.js';
import { noFollowArgv, plainCommand, type NoFollowOp } from '../src/remote/no-follow.js';
import { pmxcfsRefusal } from '../src/remote/pmxcfs.js';
import { accountArg, attrsText, resolveAccount } from '../src/remote/owner.js';
import {
  overlayProbe,
  probe,
  safePath,
  type FileState,
  type Identity,
  type ProbeResult,
  type TreeEntry,
} from '../src/remote/probe.js';

const STATES = ['file', 'directory', 'absent', 'touch', 'link', 'hard'] as const;
const args = () => {
  const TIME = z.enum(['now', 'preserve']);
  return z
    .object({
      path: z.string().min(1).optional().describe('path to manage (aliases: dest, name)'),
      dest: z.string().min(1).optional(),
      name: z.string().min(1).optional(),
      state: z.enum(STATES).optional().describe('default: the current state, or file'),
      owner: accountArg.optional(),
      group: accountArg.optional(),
      mode: modeArg.optional(),
      recurse: z.boolean().default(false).describe('with state directory: owner/group/mode for everything below too'),
      src: z.string().min(1).optional().describe('link target (state link or hard)'),
      force: z.boolean().default(false).describe('replace a file or empty directory by a link; link to a missing src'),
      follow: z.boolean().default(true).describe('act on the target of a symlink'),
      access_time: TIME.optional(),
      modification_time: TIME.optional(),
      unsafe_writes: z.boolean().optional().describe('accepted for compatibility; ignored'),
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
      if ((a.state === 'link' || a.state === 'hard') && a.src === undefined)
        ctx.addIssue({ code: 'custom', path: ['src'], message: `src is required with state ${a.state}` });
      if (a.src !== undefined && a.state !== undefined && a.state !== 'link' && a.state !== 'hard')
        ctx.addIssue({ code: 'custom', path: ['src'], message: 'src is only used with state link or hard' });
      if (a.recurse && a.state !== undefined && a.state !== 'directory')
        ctx.addIssue({ code: 'custom', path: ['recurse'], message: 'recurse needs state directory' });
    });
};

type Args = z.infer<ReturnType<typeof args>>;

const pathOf = (a: Args) => (a.path ?? a.dest ?? a.name)!;
const srcOnHost = (a: Args) =>
  a.state === 'link' && !posix.isAbsolute(a.src!) ? posix.join(posix.dirname(pathOf(a)), a.src!) : a.src!;

/** The path and each missing-able ancestor, nearest last: /a, /a/b, /a/b/c */
function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let d = posix.dirname(p); d !== '.' && d !== '/' && !out.includes(d); d = posix.dirname(d)) out.unshift(d);
  return out;
}

interface Facts {
  path: FileState;
  /** the symlink's target when path is a link and follow is on */
  followed?: FileState;
  src?: FileState;
  /** only examined when path is missing (directory state creates them) */
  ancestors: Array<{ path: string; exists: boolean }>;
  me: Identity;
  probe: ProbeResult;
}

// ---- facts: one round trip --------------------------------------------------

/** The ancestors examined: only a directory state creates missing ones. */
const upsOf = (a: Args) =>
  a.state === 'directory' || (a.state === undefined && a.recurse) ? ancestors(pathOf(a)) : [];

async function facts(ctx: Parameters<typeof probe>[0], a: Args): Promise<Facts> {
  const path = pathOf(a);
  const ups = upsOf(a);
  const paths = [
    // the link's target is only looked at when plan() may act through it (not for link or absent)
    { path, followLink: a.follow && a.state !== 'link' && a.state !== 'absent' },
    ...(a.src !== undefined ? [{ path: srcOnHost(a) }] : []),
    ...ups.map((p) => ({ path: p, onlyIfMissing: path })),
  ];
  const r = await probe(ctx, {
    paths,
    identity: true,
    users: a.owner !== undefined ? [String(a.owner)] : [],
    groups: a.group !== undefined ? [String(a.group)] : [],
    tree: a.recurse ? path : undefined,
  });
  return factsFrom(r, a);
}

/** The facts a probe answer gives (the overlay step derives them again from the overlaid answer). */
function factsFrom(r: ProbeResult, a: Args): Facts {
  const off = a.src !== undefined ? 2 : 1;
  return {
    path: r.paths[0],
    followed: r.paths[0].type === 'link' && a.follow ? r.paths[0].target : undefined,
    src: a.src !== undefined ? r.paths[1] : undefined,
    ancestors: upsOf(a).map((p, i) => ({ path: p, exists: r.paths[off + i].exists })),
    me: r.identity!,
    probe: r,
  };
}

/** Check mode: the paths as earlier tasks of the run would leave them. */
function overlay(f: Facts, a: Args, predicted: Predictions): Facts {
  return predicted.empty ? f : factsFrom(overlayProbe(f.probe, predicted), a);
}

// ---- plan: pure -------------------------------------------------------------

type Kind = 'absent' | 'file' | 'directory' | 'link' | 'hard';

function kindOf(s: FileState | undefined): Kind {
  if (!s || !s.exists) return 'absent';
  if (s.type === 'directory') return 'directory';
  if (s.type === 'link') return 'link';
  if (s.type === 'file' && (s.nlink ?? 1) > 1) return 'hard';
  return 'file';
}

interface Attrs {
  uid: number;
  gid: number;
  owner: string;
  group: string;
  mode: number;
}

/** Lines of the diff (`key: value`), in the order they are shown. */
type DiffFields = Record<string, string | number | undefined>;

interface DiffPair {
  before: DiffFields;
  after: DiffFields;
}

const mergeDiffs = (...parts: DiffPair[]): DiffPair => ({
  before: Object.assign({}, ...parts.map((d) => d.before)) as DiffFields,
  after: Object.assign({}, ...parts.map((d) => d.after)) as DiffFields,
});

const NO_DIFF: DiffPair = { before: {}, after: {} };

interface AttrOptions {
  /** chown the link itself (-h) */
  link?: boolean;
  /** leave the mode alone (a symlink's mode means nothing) */
  noMode?: boolean;
  /**
   * the path is a symlink the facts saw and `follow: true` asked to follow; anything
   * else that is a symlink by the time it is changed is left alone (no-follow.ts)
   */
  followed?: boolean;
}

/** The commands that bring the attributes `now` of `at` to `want`. */
function attrCommands(at: string, now: Attrs, want: Attrs, o: AttrOptions = {}): Change[] {
  const out: Change[] = [];
  const ownerPart = want.uid !== now.uid ? String(want.uid) : '';
  const groupPart = want.gid !== now.gid ? String(want.gid) : '';
  // A followed link is changed by plain chown/chmod. GNU chmod keeps a directory's
  // setuid/setgid bits for a numeric mode of fewer than 5 digits and sets exactly
  // the bits given for 5 (coreutils doc/perm.texi, "Directories and the Set-User-ID
  // and Set-Group-ID Bits"): '00755' clears them, '02775' sets them. The no-follow
  // helper uses chmod(2), which has no such rule.
  const attrArgv = (op: 'chown' | 'chmod', spec: string) =>
    o.followed
      ? [op, op === 'chmod' ? `0${spec}` : spec, safePath(at)]
      : noFollowArgv(posix.dirname(at), op, spec, [at]);
  if (ownerPart || groupPart) {
    const spec = `${ownerPart}${groupPart ? `:${groupPart}` : ''}`;
    out.push({
      description: `chown ${want.owner}:${want.group} ${at}`,
      argv: o.link ? ['chown', '-h', spec, safePath(at)] : attrArgv('chown', spec),
    });
  }
  if (!o.noMode && want.mode !== now.mode)
    out.push({
      description: `chmod ${formatMode(want.mode)} ${at}`,
      argv: attrArgv('chmod', formatMode(want.mode)),
    });
  return out;
}

/** The owner/group/mode lines of the diff for the managed path: what changes; a new path has no old values. */
function attrDiff(now: Attrs, want: Attrs, o: AttrOptions & { isNew: boolean }): DiffPair {
  const before: DiffFields = {};
  const after: DiffFields = {};
  const modeChanges = !o.noMode && want.mode !== now.mode;
  if (want.uid !== now.uid) [before.owner, after.owner] = [now.owner, want.owner];
  if (want.gid !== now.gid) [before.group, after.group] = [now.group, want.group];
  if (modeChanges) [before.mode, after.mode] = [formatMode(now.mode), formatMode(want.mode)];
  return o.isNew ? { before: {}, after } : { before, after };
}

/** The commands and diff lines for the managed path itself. */
function attrFix(at: string, now: Attrs, want: Attrs, o: AttrOptions & { isNew: boolean }) {
  return { changes: attrCommands(at, now, want, o), diff: attrDiff(now, want, o) };
}

/** What check mode tells later tasks about a path whose attributes become `attrs`. */
const predictedAttrs = (attrs: Attrs, extra: Partial<FileState> = {}): FileState => ({
  exists: true,
  uid: attrs.uid,
  gid: attrs.gid,
  owner: attrs.owner,
  group: attrs.group,
  mode: attrs.mode,
  ...extra,
});

/** Everything plan() works from, once the wanted owner/group/mode are resolved. */
interface PlanInput {
  a: Args;
  f: Facts;
  path: string;
  /** path, checked for use in argv */
  p: string;
  cur: FileState;
  prev: Kind;
  /** the path, or with follow the target of the link at it */
  target: FileState;
  targetKind: Kind;
  /** owner/group/mode wanted for an entry whose attributes are `now` */
  wanted: (now: Attrs, isDir: boolean) => Attrs;
  /** attributes of an entry this task creates with `mode` */
  fresh: (mode: number) => Attrs;
  /** what recurse's find-based commands aim at */
  goal: { uid?: number; gid?: number; mode?: ModeSpec };
}

/** What one state's plan comes to; a string is the failure message. */
interface StateOutcome {
  changes: Change[];
  /** the state reported */
  state: string;
  final?: Attrs;
  size?: number;
  /** diff lines beyond path and state */
  diff: DiffPair;
  /** check mode: what later tasks should see (partial states merge into what the host has) */
  predict: PredictionWrite[];
}

const attrsOf = (s: FileState): Attrs => ({
  uid: s.uid!,
  gid: s.gid!,
  owner: s.owner!,
  group: s.group!,
  mode: s.mode!,
});

function plan(f: Facts, a: Args): Plan {
  const path = pathOf(a);
  const cur = f.path;
  const prev = kindOf(cur);
  // with follow, a link to something is managed through its target (not for link/absent)
  const target = f.followed && a.state !== 'link' && a.state !== 'absent' ? f.followed : cur;
  const targetKind = kindOf(target);
  // no state: keep what is there (a hard-linked file is a file), or `file`
  const state =
    a.state ?? (a.recurse ? 'directory' : targetKind === 'absent' || targetKind === 'hard' ? 'file' : targetKind);
  const fail = (msg: string): Plan => ({ changes: [], fail: msg, result: { path } });
  if (state !== 'absent') {
    const refused = pmxcfsRefusal(path, {
      owner: a.owner,
      group: a.group,
      mode: a.mode !== undefined && state !== 'link' ? parseMode(a.mode) : undefined,
      isDir: state === 'directory',
    });
    if (refused) return fail(refused);
  }

  let owner: { id: number; name: string } | undefined;
  let group: { id: number; name: string } | undefined;
  if (a.owner !== undefined) {
    const r = resolveAccount(String(a.owner), f.probe.users, 'user');
    if ('error' in r) return fail(r.error);
    owner = r;
  }
  if (a.group !== undefined) {
    const r = resolveAccount(String(a.group), f.probe.groups, 'group');
    if ('error' in r) return fail(r.error);
    group = r;
  }
  const modeSpec = a.mode !== undefined ? parseMode(a.mode) : undefined;
  const input: PlanInput = {
    a,
    f,
    path,
    p: safePath(path),
    cur,
    prev,
    target,
    targetKind,
    wanted: (now, isDir) => ({
      uid: owner?.id ?? now.uid,
      owner: owner?.name ?? now.owner,
      gid: group?.id ?? now.gid,
      group: group?.name ?? now.group,
      mode: modeSpec ? applyMode(modeSpec, now.mode, isDir) : now.mode,
    }),
    fresh: (mode) => ({ uid: f.me.uid, gid: f.me.gid, owner: f.me.user, group: f.me.group, mode }),
    goal: { uid: owner?.id, gid: group?.id, mode: modeSpec },
  };

  const o = PLAN_STATE[state](input);
  if (typeof o === 'string') return fail(o);

  const resultPathKey = state === 'link' || state === 'hard' || state === 'touch' ? 'dest' : 'path';
  const result: Record<string, unknown> = { [resultPathKey]: path, state: o.state };
  if (state === 'link' || state === 'hard') result.src = a.src ?? cur.linkTarget;
  if (o.final) {
    Object.assign(result, {
      uid: o.final.uid,
      gid: o.final.gid,
      owner: o.final.owner,
      group: o.final.group,
      mode: formatMode(o.final.mode),
    });
    if (o.size !== undefined) result.size = o.size;
  }
  const before = { path, state: prev, ...o.diff.before };
  const after = { path, state: o.state, ...o.diff.after };
  return {
    changes: o.changes,
    result,
    predict: o.changes.length > 0 ? o.predict : undefined,
    diff: { before: attrsText(before), after: attrsText(after), before_header: path, after_header: path },
  };
}

const PLAN_STATE: Record<(typeof STATES)[number], (i: PlanInput) => StateOutcome | string> = {
  absent: ({ path, p, prev }) => ({
    changes: prev !== 'absent' ? [{ description: `remove ${path}`, argv: ['rm', '-rf', p] }] : [],
    state: 'absent',
    diff: NO_DIFF,
    predict: [pathSlot.entry(path, { exists: false })],
  }),

  file: ({ path, cur, prev, target, targetKind, wanted }) => {
    if (targetKind === 'absent') return `file (${path}) is absent, cannot continue`;
    if (targetKind !== 'file' && targetKind !== 'hard') return `file (${path}) is ${targetKind}, cannot continue`;
    const final = wanted(attrsOf(target), false);
    const fix = attrFix(path, attrsOf(target), final, { isNew: prev === 'absent', followed: target !== cur });
    return {
      ...fix,
      state: 'file',
      final,
      size: target.size,
      predict: [pathSlot.entry(path, predictedAttrs(final))],
    };
  },

  directory: (i) => {
    const { path, p, cur, prev, target, targetKind, wanted, a, f } = i;
    if (targetKind !== 'absent' && targetKind !== 'directory') return `${path} already exists as a ${targetKind}`;
    const below = a.recurse ? recurse(path, f.probe.tree ?? [], wanted, i.goal) : { changes: [], diff: NO_DIFF };
    if (targetKind === 'absent') {
      // like Ansible, every directory created gets the owner/group/mode
      const created = [...f.ancestors.filter((x) => !x.exists).map((x) => x.path), path];
      const born = i.fresh(0o777 & ~f.me.umask);
      const final = wanted(born, true);
      return {
        changes: [
          { description: `create directory ${path}`, argv: ['mkdir', '-p', p] },
          ...created.flatMap((d) => attrCommands(d, born, final)),
          ...below.changes,
        ],
        state: 'directory',
        final,
        diff: mergeDiffs(attrDiff(born, final, { isNew: prev === 'absent' }), below.diff),
        predict: created.map((d) => pathSlot.entry(d, predictedAttrs(final, { type: 'directory' }))),
      };
    }
    const final = wanted(attrsOf(target), true);
    const fix = attrFix(path, attrsOf(target), final, { isNew: prev === 'absent', followed: target !== cur });
    return {
      changes: [...fix.changes, ...below.changes],
      state: 'directory',
      final,
      size: target.size,
      diff: mergeDiffs(fix.diff, below.diff),
      predict: [pathSlot.entry(path, predictedAttrs(final))],
    };
  },

  touch: ({ a, path, p, cur, prev, target, targetKind, wanted, fresh, f }) => {
    const times = [a.access_time ?? 'now', a.modification_time ?? 'now'];
    const flags =
      times[0] === 'now' && times[1] === 'now'
        ? []
        : times[0] === 'now'
          ? ['-a']
          : times[1] === 'now'
            ? ['-m']
            : undefined;
    const touch: Change[] =
      targetKind === 'absent' || flags !== undefined
        ? [
            {
              description: targetKind === 'absent' ? `create ${path}` : `touch ${path}`,
              argv: ['touch', ...(flags ?? []), p],
            },
          ]
        : [];
    const now = targetKind === 'absent' ? fresh(0o666 & ~f.me.umask) : attrsOf(target);
    const final = wanted(now, targetKind === 'directory');
    const fix = attrFix(path, now, final, { isNew: prev === 'absent', followed: target !== cur });
    const created = targetKind === 'absent';
    return {
      changes: [...touch, ...fix.changes],
      state: created || targetKind === 'hard' ? 'file' : targetKind,
      final,
      size: created ? 0 : target.size,
      diff: fix.diff,
      predict: [
        pathSlot.entry(
          path,
          predictedAttrs(
            final,
            created
              ? {
                  type: 'file',
                  size: 0,
                  content: Buffer.alloc(0),
                  checksum: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
                }
              : {},
          ),
        ),
      ],
    };
  },

  link: ({ a, f, path, p, cur, prev, wanted, fresh }) => {
    // without src (state left to the current one) an existing link keeps its target
    const src = a.src ?? cur.linkTarget!;
    if (a.src !== undefined && !f.src!.exists && !a.force)
      return `src file does not exist, use "force=yes" if you really want to create the link: ${srcOnHost(a)}`;
    const size = Buffer.byteLength(src);
    const outcome = (changes: Change[], final: Attrs, diff: DiffPair): StateOutcome => ({
      changes,
      state: 'link',
      final: { ...final, mode: 0o777 },
      size,
      diff,
      predict: [
        pathSlot.entry(
          path,
          predictedAttrs(
            { ...final, mode: 0o777 },
            { type: 'link', linkTarget: src, checksum: undefined, content: undefined, size },
          ),
        ),
      ],
    });
    const asLink = { link: true, noMode: true, isNew: prev === 'absent' };
    if (prev === 'link' && cur.linkTarget === src) {
      const final = wanted(attrsOf(cur), false);
      const fix = attrFix(path, attrsOf(cur), { ...final, mode: cur.mode! }, asLink);
      return outcome(fix.changes, final, fix.diff);
    }
    if ((prev === 'file' || prev === 'hard') && !a.force)
      return `refusing to convert from ${prev} to symlink for ${path}`;
    if (prev === 'directory' && !a.force) return `refusing to convert from directory to symlink for ${path}`;
    const born = fresh(0o777);
    const final = wanted(born, false);
    const fix = attrFix(path, born, { ...final, mode: 0o777 }, asLink);
    return outcome(
      [
        ...(prev === 'directory' ? [{ description: `remove empty directory ${path}`, argv: ['rmdir', p] }] : []),
        { description: `link ${path} -> ${src}`, argv: ['ln', '-sfnT', '--', src, p] },
        ...fix.changes,
      ],
      final,
      mergeDiffs({ before: { src: prev === 'link' ? cur.linkTarget : undefined }, after: { src } }, fix.diff),
    );
  },

  hard: ({ a, f, path, p, cur, prev, target, wanted }) => {
    const src = f.src!;
    if (!src.exists) return `src does not exist: ${a.src}`;
    if (prev === 'directory') return `refusing to convert from directory to hard link for ${path}`;
    const same = cur.exists && cur.inode === src.inode && cur.dev === src.dev;
    if (!same && prev !== 'absent' && !a.force && prev !== 'hard')
      return `refusing to convert from ${prev} to hard link for ${path}`;
    const final = wanted(attrsOf(src), false);
    const fix = attrFix(path, attrsOf(src), final, { isNew: prev === 'absent', followed: target !== cur });
    return {
      changes: [
        ...(same ? [] : [{ description: `hard link ${path} -> ${a.src}`, argv: ['ln', '-fT', '--', a.src!, p] }]),
        ...fix.changes,
      ],
      state: 'hard',
      final,
      size: src.size,
      diff: same ? fix.diff : mergeDiffs({ before: { src: undefined }, after: { src: a.src } }, fix.diff),
      predict: [],
    };
  },
};

/** owner/group/mode for everything below a directory: only entries that differ, one diff line each. */
function recurse(
  root: string,
  tree: TreeEntry[],
  wanted: (now: Attrs, isDir: boolean) => Attrs,
  goal: { uid?: number; gid?: number; mode?: ModeSpec },
): { changes: Change[]; diff: DiffPair } {
  // `${op} ${spec}` → paths; op is chown, lchown (the links themselves) or chmod
  const batches = new Map<string, string[]>();
  const diff: DiffPair = { before: {}, after: {} };
  for (const e of tree) {
    const now: Attrs = { uid: e.uid, gid: e.gid, owner: e.owner, group: e.group, mode: e.mode };
    const isLink = e.type === 'link';
    const want = wanted(now, e.type === 'directory');
    const at = posix.join(root, e.rel);
    const steps = attrCommands(at, now, want, { link: isLink, noMode: isLink });
    for (const s of steps) {
      const [cmd, ...rest] = plainCommand(s.argv!);
      const key = rest[0] === '-h' ? `lchown ${rest[1]}` : `${cmd} ${rest[0]}`;
      batches.set(key, [...(batches.get(key) ?? []), at]);
    }
    if (steps.length > 0) {
      diff.before[e.rel] = `${formatMode(now.mode)} ${now.owner}:${now.group}`;
      diff.after[e.rel] = `${formatMode(isLink ? now.mode : want.mode)} ${want.owner}:${want.group}`;
    }
  }
  const keys = [...batches.keys()];
  const listed = [...batches.values()].reduce((n, ps) => n + ps.reduce((m, p) => m + p.length + 3, 0), 0);
  if (listed > LIST_LIMIT) {
    const owners = keys.some((k) => !k.startsWith('chmod'));
    return {
      changes: recurseByFind(
        root,
        owners,
        keys.some((k) => k.startsWith('chmod')),
        goal,
      ),
      diff,
    };
  }
  // owners first: chown clears setuid bits that chmod then sets; nothing below root is followed
  const order = (k: string) => (k.startsWith('chmod') ? 1 : 0);
  const changes = keys
    .sort((x, y) => order(x) - order(y))
    .map((key): Change => {
      const [op, spec] = key.split(' ') as [NoFollowOp, string];
      const paths = batches.get(key)!;
      return {
        description: `${op === 'lchown' ? 'chown -h' : op} ${spec} ${paths.length} entries below ${root}`,
        argv: noFollowArgv(root, op, spec, paths),
      };
    });
  return { changes, diff };
}

/**
 * Too many entries to name on one command line (SSH caps a request near
 * 256 kB): let find select the same entries on the host instead.
 */
const LIST_LIMIT = 64_000;

function recurseByFind(
  root: string,
  owners: boolean,
  modes: boolean,
  t: { uid?: number; gid?: number; mode?: ModeSpec },
): Change[] {
  const r = safePath(root);
  const out: Change[] = [];
  // find -P never follows a link; the perl helper (no-follow.ts) re-checks each name as it changes it
  const exec = (op: NoFollowOp, spec: string) => [...noFollowArgv(r, op, spec, []), '{}', '+'];
  // every entry below root (never root itself), links not followed
  const below = ['find', '-P', r, '-mindepth', '1'];
  if (owners) {
    const differs = [
      ...(t.uid !== undefined ? ['!', '-uid', String(t.uid)] : []),
      ...(t.uid !== undefined && t.gid !== undefined ? ['-o'] : []),
      ...(t.gid !== undefined ? ['!', '-gid', String(t.gid)] : []),
    ];
    const who = `${t.uid ?? ''}${t.gid !== undefined ? `:${t.gid}` : ''}`;
    out.push({
      description: `chown ${who} below ${root}`,
      argv: [...below, '!', '-type', 'l', '(', ...differs, ')', '-exec', ...exec('chown', who)],
    });
    out.push({
      description: `chown -h ${who} of the links below ${root}`,
      argv: [...below, '-type', 'l', '(', ...differs, ')', '-exec', ...exec('lchown', who)],
    });
  }
  if (modes && t.mode) {
    const m = t.mode;
    out.push(
      m.kind === 'octal'
        ? {
            description: `chmod ${formatMode(m.value)} below ${root}`,
            argv: [
              ...below,
              '!',
              '-type',
              'l',
              '!',
              '-perm',
              formatMode(m.value),
              '-exec',
              ...exec('chmod', formatMode(m.value)),
            ],
          }
        : {
            // a symbolic mode depends on each entry's mode: chmod itself applies it
            // (GNU chmod does not follow links met below the named paths, but a name
            // swapped for a link after find saw it is followed: listed paths avoid that)
            description: `chmod ${m.text} below ${root}`,
            argv: [...below, '!', '-type', 'l', '-exec', 'chmod', m.text, '{}', '+'],
          },
    );
  }
  return out;
}

export default defineModule({
  name: 'file',
  aliases: ['ansible.builtin.file', 'ansible.legacy.file'],
  pathArgs: ['path', 'dest', 'name', 'src'],
  readAhead: 'facts',
  // touch changes the host every time (its times): what later tasks would read goes stale at once
  readAheadFor: (a) => (a.state === 'touch' ? 'end' : 'read'),
  description: 'Manage a file, directory, symlink or hard link: existence, owner, group, mode (recursively)',
  args,
  facts,
  overlay,
  plan,
});
