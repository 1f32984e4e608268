// file: makes a path a file, directory, symlink or hard link with the given
// owner, group and mode (recursively for directories), touches it, or removes
// it. Facts are one round trip (the path, its ancestors, the link source, who
// we are, the owner/group lookups and, with recurse, everything below); every
// change is an argv batched into one more.
import { posix } from 'node:path';
import * as z from 'zod';
import { defineModule, type Change, type Plan } from '../src/module.js';
import { applyMode, formatMode, modeArg, parseMode, type ModeSpec } from '../src/remote/mode.js';
import { noFollowArgv, plainCommand, type NoFollowOp } from '../src/remote/no-follow.js';
import { accountArg, attrsText, resolveAccount } from '../src/remote/owner.js';
import {
  pathKey,
  probe,
  safePath,
  type FileState,
  type Identity,
  type ProbeResult,
  type TreeEntry,
} from '../src/remote/probe.js';

const STATES = ['file', 'directory', 'absent', 'touch', 'link', 'hard'] as const;
const TIME = z.enum(['now', 'preserve']);

const args = z
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

type Args = z.infer<typeof args>;

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

async function facts(ctx: Parameters<typeof probe>[0], a: Args): Promise<Facts> {
  const path = pathOf(a);
  const ups = a.state === 'directory' || (a.state === undefined && a.recurse) ? ancestors(path) : [];
  const paths = [
    { path, followLink: true },
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
  const off = a.src !== undefined ? 2 : 1;
  return {
    path: r.paths[0],
    followed: r.paths[0].type === 'link' && a.follow ? r.paths[0].target : undefined,
    src: a.src !== undefined ? r.paths[1] : undefined,
    ancestors: ups.map((p, i) => ({ path: p, exists: r.paths[off + i].exists })),
    me: r.identity!,
    probe: r,
  };
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

function plan(f: Facts, a: Args): Plan {
  const path = pathOf(a);
  const p = safePath(path);
  const cur = f.path;
  const prev = kindOf(cur);
  // with follow, a link to something is managed through its target (not for link/absent)
  const target = f.followed && a.state !== 'link' && a.state !== 'absent' ? f.followed : cur;
  const targetKind = kindOf(target);
  // no state: keep what is there (a hard-linked file is a file), or `file`
  const state =
    a.state ?? (a.recurse ? 'directory' : targetKind === 'absent' || targetKind === 'hard' ? 'file' : targetKind);

  let owner: { id: number; name: string } | undefined;
  let group: { id: number; name: string } | undefined;
  if (a.owner !== undefined) {
    const r = resolveAccount(String(a.owner), f.probe.users, 'user');
    if ('error' in r) return { changes: [], fail: r.error, result: { path } };
    owner = r;
  }
  if (a.group !== undefined) {
    const r = resolveAccount(String(a.group), f.probe.groups, 'group');
    if ('error' in r) return { changes: [], fail: r.error, result: { path } };
    group = r;
  }
  const modeSpec = a.mode !== undefined ? parseMode(a.mode) : undefined;
  const umask = f.me.umask;
  const changes: Change[] = [];
  const before: Record<string, string | number | undefined> = { path, state: prev };
  const after: Record<string, string | number | undefined> = { path, state: undefined };
  const fail = (msg: string): Plan => ({ changes: [], fail: msg, result: { path } });

  // Owner/group/mode wanted for an entry whose current attributes are `now`.
  const wanted = (now: Attrs, isDir: boolean): Attrs => ({
    uid: owner?.id ?? now.uid,
    owner: owner?.name ?? now.owner,
    gid: group?.id ?? now.gid,
    group: group?.name ?? now.group,
    mode: modeSpec ? applyMode(modeSpec, now.mode, isDir) : now.mode,
  });
  const attrsOf = (s: FileState): Attrs => ({
    uid: s.uid!,
    gid: s.gid!,
    owner: s.owner!,
    group: s.group!,
    mode: s.mode!,
  });
  const fresh = (mode: number): Attrs => ({ uid: f.me.uid, gid: f.me.gid, owner: f.me.user, group: f.me.group, mode });
  // Commands that bring `now` to `want` on `at`; notes the diff.
  const fix = (
    at: string,
    now: Attrs,
    want: Attrs,
    opts: { link?: boolean; noMode?: boolean; diff?: boolean } = {},
  ) => {
    const out: Change[] = [];
    const ownerPart = want.uid !== now.uid ? String(want.uid) : '';
    const groupPart = want.gid !== now.gid ? String(want.gid) : '';
    // Only a link that the facts saw and follow: true asked for is followed;
    // anything else that is a symlink by the time we change it is left alone.
    const followed = at === path && target !== cur;
    const attrArgv = (op: 'chown' | 'chmod', spec: string) =>
      followed ? [op, spec, safePath(at)] : noFollowArgv(posix.dirname(at), op, spec, [at]);
    if (ownerPart || groupPart) {
      const spec = `${ownerPart}${groupPart ? `:${groupPart}` : ''}`;
      out.push({
        description: `chown ${want.owner}:${want.group} ${at}`,
        argv: opts.link ? ['chown', '-h', spec, safePath(at)] : attrArgv('chown', spec),
      });
    }
    if (!opts.noMode && want.mode !== now.mode)
      out.push({
        description: `chmod ${formatMode(want.mode)} ${at}`,
        argv: attrArgv('chmod', formatMode(want.mode)),
      });
    if (opts.diff !== false) {
      if (before.state === 'absent') {
        // a new entry has no old attributes to show
        if (want.uid !== now.uid) after.owner = want.owner;
        if (want.gid !== now.gid) after.group = want.group;
        if (!opts.noMode && want.mode !== now.mode) after.mode = formatMode(want.mode);
        return out;
      }
      if (want.uid !== now.uid) [before.owner, after.owner] = [now.owner, want.owner];
      if (want.gid !== now.gid) [before.group, after.group] = [now.group, want.group];
      if (!opts.noMode && want.mode !== now.mode)
        [before.mode, after.mode] = [formatMode(now.mode), formatMode(want.mode)];
    }
    return out;
  };

  let final: Attrs | undefined;
  let size: number | undefined;
  let finalState: string = state;
  // check mode: what later tasks should see (partial states merge into what the host has)
  const predict: Record<string, Partial<FileState>> = {};
  const predictAttrs = (at: string, attrs: Attrs, extra: Partial<FileState>) => {
    predict[pathKey(at)] = {
      exists: true,
      uid: attrs.uid,
      gid: attrs.gid,
      owner: attrs.owner,
      group: attrs.group,
      mode: attrs.mode,
      ...extra,
    };
  };

  switch (state) {
    case 'absent':
      if (prev !== 'absent') changes.push({ description: `remove ${path}`, argv: ['rm', '-rf', p] });
      predict[pathKey(path)] = { exists: false };
      after.state = 'absent';
      break;

    case 'file':
      if (targetKind === 'absent') return fail(`file (${path}) is absent, cannot continue`);
      if (targetKind !== 'file' && targetKind !== 'hard')
        return fail(`file (${path}) is ${targetKind}, cannot continue`);
      final = wanted(attrsOf(target), false);
      changes.push(...fix(path, attrsOf(target), final));
      size = target.size;
      predictAttrs(path, final, {});
      break;

    case 'directory': {
      if (targetKind !== 'absent' && targetKind !== 'directory')
        return fail(`${path} already exists as a ${targetKind}`);
      if (targetKind === 'absent') {
        // like Ansible, every directory created gets the owner/group/mode
        const created = [...f.ancestors.filter((x) => !x.exists).map((x) => x.path), path];
        changes.push({ description: `create directory ${path}`, argv: ['mkdir', '-p', p] });
        const born = fresh(0o777 & ~umask);
        final = wanted(born, true);
        for (const d of created) changes.push(...fix(d, born, final, { diff: d === path }));
        for (const d of created) predictAttrs(d, final, { type: 'directory' });
      } else {
        final = wanted(attrsOf(target), true);
        changes.push(...fix(path, attrsOf(target), final));
        size = target.size;
        predictAttrs(path, final, {});
      }
      if (a.recurse)
        changes.push(
          ...recurse(path, f.probe.tree ?? [], wanted, fix, before, after, {
            uid: owner?.id,
            gid: group?.id,
            mode: modeSpec,
          }),
        );
      break;
    }

    case 'touch': {
      const times = [a.access_time ?? 'now', a.modification_time ?? 'now'];
      const flags =
        times[0] === 'now' && times[1] === 'now'
          ? []
          : times[0] === 'now'
            ? ['-a']
            : times[1] === 'now'
              ? ['-m']
              : undefined;
      if (targetKind === 'absent' || flags !== undefined) {
        changes.push({
          description: targetKind === 'absent' ? `create ${path}` : `touch ${path}`,
          argv: ['touch', ...(flags ?? []), p],
        });
      }
      const now = targetKind === 'absent' ? fresh(0o666 & ~umask) : attrsOf(target);
      final = wanted(now, targetKind === 'directory');
      changes.push(...fix(path, now, final));
      finalState = targetKind === 'absent' ? 'file' : targetKind === 'hard' ? 'file' : targetKind;
      size = targetKind === 'absent' ? 0 : target.size;
      predictAttrs(
        path,
        final,
        targetKind === 'absent'
          ? { type: 'file', size: 0, content: Buffer.alloc(0), checksum: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' }
          : {},
      );
      break;
    }

    case 'link': {
      // without src (state left to the current one) an existing link keeps its target
      const src = a.src ?? cur.linkTarget!;
      if (a.src !== undefined && !f.src!.exists && !a.force)
        return fail(`src file does not exist, use "force=yes" if you really want to create the link: ${srcOnHost(a)}`);
      if (prev === 'link' && cur.linkTarget === src) {
        final = wanted(attrsOf(cur), false);
        changes.push(...fix(path, attrsOf(cur), { ...final, mode: cur.mode! }, { link: true, noMode: true }));
      } else {
        if ((prev === 'file' || prev === 'hard') && !a.force)
          return fail(`refusing to convert from ${prev} to symlink for ${path}`);
        if (prev === 'directory') {
          if (!a.force) return fail(`refusing to convert from directory to symlink for ${path}`);
          changes.push({ description: `remove empty directory ${path}`, argv: ['rmdir', p] });
        }
        changes.push({ description: `link ${path} -> ${src}`, argv: ['ln', '-sfnT', '--', src, p] });
        [before.src, after.src] = [prev === 'link' ? cur.linkTarget : undefined, src];
        const born = fresh(0o777);
        final = wanted(born, false);
        changes.push(...fix(path, born, { ...final, mode: 0o777 }, { link: true, noMode: true }));
      }
      final.mode = 0o777;
      size = Buffer.byteLength(src);
      predictAttrs(path, final, { type: 'link', linkTarget: src, checksum: undefined, content: undefined, size });
      break;
    }

    case 'hard': {
      const src = f.src!;
      if (!src.exists) return fail(`src does not exist: ${a.src}`);
      if (prev === 'directory') return fail(`refusing to convert from directory to hard link for ${path}`);
      const same = cur.exists && cur.inode === src.inode && cur.dev === src.dev;
      if (!same) {
        if (prev !== 'absent' && !a.force && prev !== 'hard')
          return fail(`refusing to convert from ${prev} to hard link for ${path}`);
        changes.push({ description: `hard link ${path} -> ${a.src}`, argv: ['ln', '-fT', '--', a.src!, p] });
        [before.src, after.src] = [undefined, a.src];
      }
      final = wanted(attrsOf(src), false);
      changes.push(...fix(path, attrsOf(src), final));
      size = src.size;
      break;
    }
  }

  if (after.state === undefined) after.state = finalState;
  const resultPathKey = state === 'link' || state === 'hard' || state === 'touch' ? 'dest' : 'path';
  const result: Record<string, unknown> = { [resultPathKey]: path, state: finalState };
  if (state === 'link' || state === 'hard') result.src = a.src ?? cur.linkTarget;
  if (final) {
    Object.assign(result, {
      uid: final.uid,
      gid: final.gid,
      owner: final.owner,
      group: final.group,
      mode: formatMode(final.mode),
    });
    if (size !== undefined) result.size = size;
  }
  return {
    changes,
    result,
    predict: changes.length > 0 ? predict : undefined,
    diff: { before: attrsText(before), after: attrsText(after), before_header: path, after_header: path },
  };
}

/** owner/group/mode for everything below a directory: only entries that differ. */
function recurse(
  root: string,
  tree: TreeEntry[],
  wanted: (now: Attrs, isDir: boolean) => Attrs,
  fix: (at: string, now: Attrs, want: Attrs, o?: { link?: boolean; noMode?: boolean; diff?: boolean }) => Change[],
  before: Record<string, string | number | undefined>,
  after: Record<string, string | number | undefined>,
  target: { uid?: number; gid?: number; mode?: ModeSpec },
): Change[] {
  // `${op} ${spec}` → paths; op is chown, lchown (the links themselves) or chmod
  const batches = new Map<string, string[]>();
  for (const e of tree) {
    const now: Attrs = { uid: e.uid, gid: e.gid, owner: e.owner, group: e.group, mode: e.mode };
    const isLink = e.type === 'link';
    const want = wanted(now, e.type === 'directory');
    const at = posix.join(root, e.rel);
    const steps = fix(at, now, want, { link: isLink, noMode: isLink, diff: false });
    for (const s of steps) {
      const [cmd, ...rest] = plainCommand(s.argv!);
      const key = rest[0] === '-h' ? `lchown ${rest[1]}` : `${cmd} ${rest[0]}`;
      batches.set(key, [...(batches.get(key) ?? []), at]);
    }
    if (steps.length > 0) {
      before[e.rel] = `${formatMode(now.mode)} ${now.owner}:${now.group}`;
      after[e.rel] = `${formatMode(isLink ? now.mode : want.mode)} ${want.owner}:${want.group}`;
    }
  }
  const keys = [...batches.keys()];
  const listed = [...batches.values()].reduce((n, ps) => n + ps.reduce((m, p) => m + p.length + 3, 0), 0);
  if (listed > LIST_LIMIT)
    return recurseByFind(
      root,
      keys.some((k) => !k.startsWith('chmod')),
      keys.some((k) => k.startsWith('chmod')),
      target,
    );
  // owners first: chown clears setuid bits that chmod then sets; nothing below root is followed
  const order = (k: string) => (k.startsWith('chmod') ? 1 : 0);
  return keys
    .sort((x, y) => order(x) - order(y))
    .map((key) => {
      const [op, spec] = key.split(' ') as [NoFollowOp, string];
      const paths = batches.get(key)!;
      return {
        description: `${op === 'lchown' ? 'chown -h' : op} ${spec} ${paths.length} entries below ${root}`,
        argv: noFollowArgv(root, op, spec, paths),
      };
    });
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
  if (owners) {
    const differs = [
      ...(t.uid !== undefined ? ['!', '-uid', String(t.uid)] : []),
      ...(t.uid !== undefined && t.gid !== undefined ? ['-o'] : []),
      ...(t.gid !== undefined ? ['!', '-gid', String(t.gid)] : []),
    ];
    const who = `${t.uid ?? ''}${t.gid !== undefined ? `:${t.gid}` : ''}`;
    out.push({
      description: `chown ${who} below ${root}`,
      argv: [
        'find',
        '-P',
        r,
        '-mindepth',
        '1',
        '!',
        '-type',
        'l',
        '(',
        ...differs,
        ')',
        '-exec',
        ...exec('chown', who),
      ],
    });
    out.push({
      description: `chown -h ${who} of the links below ${root}`,
      argv: ['find', '-P', r, '-mindepth', '1', '-type', 'l', '(', ...differs, ')', '-exec', ...exec('lchown', who)],
    });
  }
  if (modes && t.mode) {
    const m = t.mode;
    out.push(
      m.kind === 'octal'
        ? {
            description: `chmod ${formatMode(m.value)} below ${root}`,
            argv: [
              'find',
              '-P',
              r,
              '-mindepth',
              '1',
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
            argv: ['find', '-P', r, '-mindepth', '1', '!', '-type', 'l', '-exec', 'chmod', m.text, '{}', '+'],
          },
    );
  }
  return out;
}

export default defineModule({
  name: 'file',
  aliases: ['ansible.builtin.file', 'ansible.legacy.file'],
  description: 'Manage a file, directory, symlink or hard link: existence, owner, group, mode (recursively)',
  args,
  facts,
  plan,
});
