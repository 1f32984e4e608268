// `zfs` — create, set, get, list, inherit, destroy, following OpenZFS's output
// (-H: TAB-separated, no header; -p: exact numbers) and error texts.
import { withLock, SimError, out } from './env.js';
import { listCtIds, ctRunning, readCt } from './pct.js';
import { volumePath } from './storage.js';
import {
  readZfs,
  writeZfs,
  getProperty,
  isKnownProperty,
  isSizeProperty,
  isInheritable,
  normaliseValue,
  niceNum,
  propertyName,
  snapshotsOf,
  createSnapshot,
  SIM_VERSION_TEXT,
  parentOf,
  childrenOf,
  createDataset,
  destroyDataset,
  mountpointOf,
  moveMount,
  type ZfsState,
} from './zfs-state.js';

const USAGE = `usage:
	create [-Pnpuv] [-o property=value] ... <filesystem>
	create [-Pnpsv] [-b blocksize] [-o property=value] ... -V <size> <volume>
	destroy [-fnpRrv] <filesystem|volume>
	get [-rHp] [-d max] [-o "all" | field[,...]] [-t type[,...]] [-s source[,...]] <"all" | property[,...]> [filesystem|volume|snapshot|bookmark] ...
	inherit [-rS] <property> <filesystem|volume|snapshot> ...
	list [-Hp] [-r|-d max] [-o property[,...]] [-s property]... [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...
	set [-u] <property=value> ... <filesystem|volume|snapshot> ...
	snapshot [-r] [-o property=value] ... <filesystem|volume>@<snap> ...
	version
`;

function usageError(msg: string): never {
  throw new SimError(`${msg}\n${USAGE}`, 2);
}

function mustExist(s: ZfsState, name: string): void {
  if (!s.datasets[name]) throw new SimError(`cannot open '${name}': dataset does not exist`, 1);
}

/**
 * Options the way zfs reads them: glibc getopt(3) with `optstring` (a letter
 * followed by ':' takes a value). glibc permutes, so options may follow the
 * operands; `--` ends the options and everything after it is an operand.
 * An unknown option is zfs's "invalid option 'x'" and the usage (exit 2).
 */
function getopt(
  args: string[],
  optstring: string,
): { flags: Set<string>; values: Record<string, string[]>; rest: string[] } {
  const flags = new Set<string>();
  const values: Record<string, string[]> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      const at = c === ':' ? -1 : optstring.indexOf(c);
      if (at < 0) usageError(`invalid option '${c}'`);
      if (optstring[at + 1] === ':') {
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) usageError(`missing argument for '${c}' option`);
        (values[c] ??= []).push(v);
        break;
      }
      flags.add(c);
    }
  }
  return { flags, values, rest };
}

function display(prop: string, value: string, parsable: boolean): string {
  if (!isSizeProperty(prop) || !/^\d+$/.test(value)) {
    if (prop === 'creation' && !parsable)
      return new Date(Number(value) * 1000).toUTCString().replace(/GMT$/, '').trim();
    return value;
  }
  if (parsable) return value;
  if (value === '0' && ['quota', 'refquota', 'reservation', 'refreservation'].includes(prop)) return 'none';
  return niceNum(Number(value));
}

function table(rows: string[][], header: string[] | null, scripted: boolean): string {
  if (scripted) return rows.map((r) => r.join('\t') + '\n').join('');
  const all = header ? [header, ...rows] : rows;
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => r[i].length))) ?? [];
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n').join('');
}

/** `-t` words zfs_main.c accepts (fs, vol, snap are its short forms). */
function parseTypes(spec: string | undefined): Set<string> | undefined {
  if (spec === undefined) return undefined;
  const out = new Set<string>();
  for (const t of spec.split(',')) {
    const full = ({ fs: 'filesystem', vol: 'volume', snap: 'snapshot' } as Record<string, string>)[t] ?? t;
    if (full === 'all') ['filesystem', 'volume', 'snapshot', 'bookmark'].forEach((x) => out.add(x));
    else if (['filesystem', 'volume', 'snapshot', 'bookmark'].includes(full)) out.add(full);
    else usageError(`invalid type '${t}'`);
  }
  return out;
}

/** zfs's default order: by dataset name, a dataset's snapshots right after it, oldest first. */
function inZfsOrder(s: ZfsState, names: string[]): string[] {
  const out: string[] = [];
  for (const n of [...names].sort()) {
    out.push(n);
    out.push(...snapshotsOf(s, n));
  }
  return out;
}

function typeOf(s: ZfsState, name: string): string {
  return name.includes('@') ? 'snapshot' : s.datasets[name].type;
}

function selected(
  s: ZfsState,
  names: string[],
  recursive: boolean,
  depth: number | undefined,
  types: Set<string> | undefined,
): string[] {
  const roots = names.length
    ? names
    : Object.keys(s.datasets)
        .filter((n) => !n.includes('/'))
        .sort();
  const deep = names.length === 0 || recursive || depth !== undefined;
  const result: string[] = [];
  for (const r of roots) {
    if (r.includes('@')) {
      if (!s.snapshots?.[r]) throw new SimError(`cannot open '${r}': dataset does not exist`, 1);
      result.push(r);
      continue;
    }
    mustExist(s, r);
    const tree = [r];
    if (deep)
      for (const c of childrenOf(s, r)) {
        const d = c.split('/').length - r.split('/').length;
        if (depth === undefined || d <= depth) tree.push(c);
      }
    result.push(...inZfsOrder(s, tree));
  }
  // snapshots only when asked for (-t snapshot|all) or named (the pool's listsnapshots=off)
  const wanted = types ?? new Set(['filesystem', 'volume']);
  return result.filter((n) => wanted.has(typeOf(s, n)) || (names.includes(n) && n.includes('@')));
}

export function zfs(args: string[]): number {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'list':
      return list(rest);
    case 'get':
      return get(rest);
    case 'create':
      return create(rest);
    case 'set':
      return set(rest);
    case 'inherit':
      return inherit(rest);
    case 'destroy':
      return destroy(rest);
    case 'snapshot':
    case 'snap':
      return snapshot(rest);
    case 'version':
      out(SIM_VERSION_TEXT);
      return 0;
    case 'mount':
    case 'unmount':
    case 'umount':
      return 0;
    case undefined:
      return usageError('missing command');
    default:
      return usageError(`unrecognized command '${cmd}'`);
  }
}

function list(args: string[]): number {
  const { flags, values, rest } = getopt(args, 'jHS:d:o:prs:t:');
  const fields = (values.o?.join(',') ?? 'name,used,avail,refer,mountpoint').split(',');
  for (const f of fields) if (!isKnownProperty(f)) usageError(`bad property list: invalid property '${f}'`);
  const s = readZfs();
  const names = selected(
    s,
    rest,
    flags.has('r'),
    values.d ? Number(values.d[0]) : undefined,
    parseTypes(values.t?.join(',')),
  );
  const rows = names.map((n) => fields.map((f) => display(f, getProperty(s, n, f).value, flags.has('p'))));
  if (rows.length === 0 && rest.length === 0) {
    process.stderr.write('no datasets available\n');
    return 0;
  }
  out(
    table(
      rows,
      fields.map((f) => f.toUpperCase()),
      flags.has('H'),
    ),
  );
  return 0;
}

function get(args: string[]): number {
  const { flags, values, rest } = getopt(args, 'd:o:s:jrt:Hp');
  const fields = (values.o?.join(',') ?? 'name,property,value,source').split(',');
  for (const f of fields)
    if (!['name', 'property', 'value', 'source', 'received'].includes(f)) usageError(`invalid field '${f}'`);
  const [propArg, ...dsNames] = rest;
  if (!propArg) usageError('missing property argument');
  const s = readZfs();
  const props =
    propArg === 'all'
      ? [
          'type',
          'creation',
          'used',
          'available',
          'referenced',
          'compressratio',
          'mounted',
          'quota',
          'reservation',
          'recordsize',
          'mountpoint',
          'sharenfs',
          'checksum',
          'compression',
          'atime',
          'devices',
          'exec',
          'setuid',
          'readonly',
          'canmount',
          'xattr',
          'copies',
          'refquota',
          'refreservation',
          'sync',
          'dedup',
          'acltype',
          'relatime',
        ]
      : propArg.split(',');
  for (const p of props) if (!isKnownProperty(p)) usageError(`bad property list: invalid property '${p}'`);
  const names = selected(
    s,
    dsNames,
    flags.has('r'),
    values.d ? Number(values.d[0]) : undefined,
    parseTypes(values.t?.join(',') ?? 'all'),
  );
  const rows: string[][] = [];
  for (const n of names) {
    const all =
      propArg === 'all' && !n.includes('@')
        ? [...props, ...Object.keys(s.datasets[n].props).filter((k) => k.includes(':'))]
        : props;
    for (const p of all) {
      const { value, source } = getProperty(s, n, p);
      const cell: Record<string, string> = {
        name: n,
        property: propertyName(p),
        value: display(p, value, flags.has('p')),
        source,
        received: '-',
      };
      rows.push(fields.map((f) => cell[f]));
    }
  }
  out(
    table(
      rows,
      fields.map((f) => f.toUpperCase()),
      flags.has('H'),
    ),
  );
  return 0;
}

/** zfs_main.c parseprop(): `k=v` → props; then every value validated as zfs_valid_proplist() does. */
function parseAssignments(
  ds: string,
  list: string[],
  action: string,
  type: 'filesystem' | 'volume' = 'filesystem',
): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq < 0) throw new SimError(`missing '=' for property=value argument`, 1);
    const k = a.slice(0, eq);
    if (k in raw) throw new SimError(`property '${k}' specified multiple times`, 1);
    raw[k] = a.slice(eq + 1);
  }
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) props[propertyName(k)] = normaliseValue(ds, k, v, action, type);
  return props;
}

function create(args: string[]): number {
  const { flags, values, rest } = getopt(args, 'PV:b:nso:puv');
  const [name] = rest;
  if (!name) usageError('missing filesystem argument');
  if (rest.length > 1) usageError('too many arguments');
  const type = values.V ? 'volume' : 'filesystem';
  return withLock(() => {
    const s = readZfs();
    const pool = name.split('/')[0];
    if (!s.datasets[pool]) throw new SimError(`cannot create '${name}': no such pool '${pool}'`, 1);
    if (s.datasets[name]) {
      if (flags.has('p')) return 0; // -p: an existing target is fine, its -o are NOT applied
      throw new SimError(`cannot create '${name}': dataset already exists`, 1);
    }
    const props = parseAssignments(
      name,
      [...(values.o ?? []), ...(values.b ?? []).map((b) => `volblocksize=${b}`)],
      'create',
      type,
    );
    const parent = parentOf(name);
    if (parent && !s.datasets[parent]) {
      if (!flags.has('p')) throw new SimError(`cannot create '${name}': parent does not exist`, 1);
      const missing: string[] = [];
      for (let p: string | null = parent; p && !s.datasets[p]; p = parentOf(p)) missing.unshift(p);
      for (const m of missing) createDataset(s, m, 'filesystem', {});
    }
    if (values.V) props.volsize = normaliseValue(name, 'volsize', values.V[0], 'create', 'volume');
    createDataset(s, name, type, props);
    writeZfs(s);
    return 0;
  });
}

/** zfs_main.c zfs_do_set(): getopt "u", then prop=value arguments, then the datasets. */
function set(args: string[]): number {
  const { rest } = getopt(args, 'u');
  if (rest.length < 1) usageError('missing arguments');
  if (rest.length < 2)
    usageError(rest[0].includes('=') ? 'missing dataset name(s)' : 'missing property=value argument(s)');
  const dsStart = rest.findIndex((a) => !a.includes('='));
  if (dsStart < 0) usageError('missing dataset name(s)');
  if (rest.slice(dsStart).some((a) => a.includes('='))) usageError('invalid argument order');
  const assignments = rest.slice(0, dsStart);
  const names = rest.slice(dsStart);
  return withLock(() => {
    const s = readZfs();
    for (const n of names) {
      mustExist(s, n);
      const props = parseAssignments(n, assignments, 'set property for', s.datasets[n].type);
      for (const [k, v] of Object.entries(props)) {
        if (k === 'mountpoint') {
          const before = mountpointOf(s, n);
          s.datasets[n].props.mountpoint = v;
          moveMount(before, mountpointOf(s, n));
        } else s.datasets[n].props[k] = v;
      }
    }
    writeZfs(s);
    return 0;
  });
}

/** zfs_main.c zfs_do_snapshot(): `zfs snapshot [-r] <ds>@<snap> …` */
function snapshot(args: string[]): number {
  const { flags, rest } = getopt(args, 'ro:');
  if (rest.length === 0) usageError('missing snapshot argument');
  return withLock(() => {
    const s = readZfs();
    const wanted: string[] = [];
    for (const arg of rest) {
      const at = arg.indexOf('@');
      if (at < 0) usageError(`'${arg}' is not a snapshot name`);
      const ds = arg.slice(0, at);
      const snap = arg.slice(at + 1);
      mustExist(s, ds);
      if (!/^[A-Za-z0-9_.: -]+$/.test(snap))
        throw new SimError(`cannot create snapshot '${arg}': invalid character in name`, 1);
      for (const d of flags.has('r') ? [ds, ...childrenOf(s, ds)] : [ds]) wanted.push(`${d}@${snap}`);
    }
    for (const w of wanted)
      if (s.snapshots?.[w]) throw new SimError(`cannot create snapshot '${w}': dataset already exists`, 1);
    for (const w of wanted) createSnapshot(s, w);
    writeZfs(s);
    return 0;
  });
}

function inherit(args: string[]): number {
  const { flags, rest } = getopt(args, 'rS');
  const [prop, ...names] = rest;
  if (!prop || names.length === 0) usageError('missing argument');
  if (!isKnownProperty(prop)) usageError(`invalid property '${prop}'`);
  if (!isInheritable(prop)) throw new SimError(`'${prop}' property cannot be inherited`, 1);
  return withLock(() => {
    const s = readZfs();
    for (const n of names) {
      mustExist(s, n);
      for (const t of flags.has('r') ? [n, ...childrenOf(s, n)] : [n]) {
        if (prop === 'mountpoint') {
          const before = mountpointOf(s, t);
          delete s.datasets[t].props.mountpoint;
          moveMount(before, mountpointOf(s, t));
        } else delete s.datasets[t].props[prop];
      }
    }
    writeZfs(s);
    return 0;
  });
}

/**
 * What `zfs destroy` of `name` also takes, in zfs_iter_dependents()'s order
 * (libzfs_iter.c iter_dependents_cb: a child's own dependents, then the child;
 * the filesystems first, then the snapshots).
 */
function dependentsOf(s: ZfsState, name: string): string[] {
  const out: string[] = [];
  const direct = childrenOf(s, name).filter((c) => parentOf(c) === name);
  for (const c of direct) out.push(...dependentsOf(s, c), c);
  out.push(...snapshotsOf(s, name));
  return out;
}

/** zfs_main.c zfs_do_destroy(): getopt "vpndfrR"; a pool, then the dependents are refused without -r. */
function destroy(args: string[]): number {
  const { flags, rest } = getopt(args, 'vpndfrR');
  if (rest.length === 0) usageError('missing dataset argument');
  if (rest.length > 1) usageError('too many arguments');
  const [name] = rest;
  const recursive = flags.has('r') || flags.has('R');
  return withLock(() => {
    const s = readZfs();
    if (name.includes('@')) return destroySnapshot(s, name, recursive);
    mustExist(s, name);
    // zfs checks for a pool first; the lab refuses `-r` on a pool too, to keep its pools
    if (!name.includes('/'))
      throw new SimError(
        `cannot destroy '${name}': operation does not apply to pools\nuse 'zfs destroy -r ${name}' to destroy all datasets in the pool\nuse 'zpool destroy ${name}' to destroy the pool itself`,
        1,
      );
    const dependents = dependentsOf(s, name);
    if (dependents.length && !recursive)
      throw new SimError(
        `cannot destroy '${name}': ${s.datasets[name].type} has children\nuse '-r' to destroy the following datasets:\n${dependents.join('\n')}`,
        1,
      );
    const children = childrenOf(s, name);
    const busy = busyDataset(s, [name, ...children]);
    if (busy) throw new SimError(`cannot destroy '${busy}': dataset is busy`, 1);
    for (const c of children.reverse()) destroyDataset(s, c);
    destroyDataset(s, name);
    writeZfs(s);
    return 0;
  });
}

/** `zfs destroy [-r] ds@snap`: the snapshot (of the children too with -r). */
function destroySnapshot(s: ZfsState, name: string, recursive: boolean): number {
  const at = name.indexOf('@');
  const ds = name.slice(0, at);
  mustExist(s, ds);
  const snap = name.slice(at + 1);
  const found = (recursive ? [ds, ...childrenOf(s, ds)] : [ds])
    .map((d) => `${d}@${snap}`)
    .filter((n) => s.snapshots?.[n]);
  if (found.length === 0) throw new SimError('could not find any snapshots to destroy; check snapshot names.', 1);
  for (const n of found) delete s.snapshots![n];
  writeZfs(s);
  return 0;
}

/** A dataset is busy while a running container has its root or a mount point in it. */
function busyDataset(s: ZfsState, names: string[]): string | null {
  const running = listCtIds().filter((id) => ctRunning(id));
  for (const id of running) {
    const conf = readCt(id);
    for (const [k, v] of Object.entries(conf.keys)) {
      if (k !== 'rootfs' && !/^mp\d+$/.test(k)) continue;
      const vol = v.split(',')[0];
      const path = vol.startsWith('/') ? vol : volumePath(vol);
      if (!path) continue;
      for (const n of names) {
        const mp = mountpointOf(s, n);
        if (mp.startsWith('/') && (path === mp || path.startsWith(mp + '/'))) return n;
      }
    }
  }
  return null;
}
