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
  isReadonlyProperty,
  isSizeProperty,
  isInheritable,
  normaliseValue,
  niceNum,
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
	set <property=value> ... <filesystem|volume|snapshot> ...
`;

function usageError(msg: string): never {
  throw new SimError(`${msg}\n${USAGE}`, 2);
}

function mustExist(s: ZfsState, name: string): void {
  if (!s.datasets[name]) throw new SimError(`cannot open '${name}': dataset does not exist`, 1);
}

/** Splits `-Hpo a,b` style short option clusters; options in `withValue` take the next arg. */
function parseOpts(
  args: string[],
  withValue: string,
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
    if (!a.startsWith('-') || a === '-' || rest.length > 0) {
      rest.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      if (withValue.includes(c)) {
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

function selected(
  s: ZfsState,
  names: string[],
  recursive: boolean,
  depth: number | undefined,
  types: string[] | undefined,
): string[] {
  const roots = names.length
    ? names
    : Object.keys(s.datasets)
        .filter((n) => !n.includes('/'))
        .sort();
  const deep = names.length === 0 || recursive || depth !== undefined;
  const result: string[] = [];
  for (const r of roots) {
    mustExist(s, r);
    result.push(r);
    if (deep)
      for (const c of childrenOf(s, r)) {
        const d = c.split('/').length - r.split('/').length;
        if (depth === undefined || d <= depth) result.push(c);
      }
  }
  return result.filter((n) => !types || types.includes(s.datasets[n].type) || types.includes('all'));
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
    case 'mount':
    case 'unmount':
    case 'umount':
      return 0;
    case undefined:
      usageError('missing command');
    default:
      usageError(`unrecognized command '${cmd}'`);
  }
}

function list(args: string[]): number {
  const { flags, values, rest } = parseOpts(args, 'odtsS');
  const fields = (values.o?.join(',') ?? 'name,used,avail,refer,mountpoint').split(',');
  for (const f of fields) if (!isKnownProperty(f)) usageError(`bad property list: invalid property '${f}'`);
  const s = readZfs();
  const names = selected(
    s,
    rest,
    flags.has('r'),
    values.d ? Number(values.d[0]) : undefined,
    values.t?.join(',').split(','),
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
  const { flags, values, rest } = parseOpts(args, 'odts');
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
  const names = selected(s, dsNames, flags.has('r'), values.d ? Number(values.d[0]) : undefined, undefined);
  const rows: string[][] = [];
  for (const n of names) {
    const all =
      propArg === 'all' ? [...props, ...Object.keys(s.datasets[n].props).filter((k) => k.includes(':'))] : props;
    for (const p of all) {
      const { value, source } = getProperty(s, n, p);
      const cell: Record<string, string> = {
        name: n,
        property: p,
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

function parseAssignments(ds: string, list: string[], action: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0) usageError(`missing '=' for property argument`);
    const k = a.slice(0, eq);
    if (isReadonlyProperty(k)) throw new SimError(`cannot ${action} '${ds}': '${k}' is readonly`, 1);
    props[k] = normaliseValue(ds, k, a.slice(eq + 1), action);
  }
  return props;
}

function create(args: string[]): number {
  const { flags, values, rest } = parseOpts(args, 'oVb');
  const [name] = rest;
  if (!name) usageError('missing filesystem argument');
  if (rest.length > 1) usageError('too many arguments');
  return withLock(() => {
    const s = readZfs();
    const pool = name.split('/')[0];
    if (!s.datasets[pool]) throw new SimError(`cannot create '${name}': no such pool '${pool}'`, 1);
    if (s.datasets[name]) {
      if (flags.has('p')) return 0; // -p: an existing target is fine, its -o are NOT applied
      throw new SimError(`cannot create '${name}': dataset already exists`, 1);
    }
    const props = parseAssignments(name, values.o ?? [], 'create');
    const parent = parentOf(name);
    if (parent && !s.datasets[parent]) {
      if (!flags.has('p')) throw new SimError(`cannot create '${name}': parent does not exist`, 1);
      const missing: string[] = [];
      for (let p: string | null = parent; p && !s.datasets[p]; p = parentOf(p)) missing.unshift(p);
      for (const m of missing) createDataset(s, m, 'filesystem', {});
    }
    if (values.V) {
      props.volsize = normaliseValue(name, 'volsize', values.V[0], 'create');
      createDataset(s, name, 'volume', props);
    } else createDataset(s, name, 'filesystem', props);
    writeZfs(s);
    return 0;
  });
}

function set(args: string[]): number {
  const assignments = args.filter((a) => a.includes('=') && !a.startsWith('-'));
  const names = args.filter((a) => !a.includes('=') && !a.startsWith('-'));
  if (assignments.length === 0) usageError('missing property=value argument(s)');
  if (names.length === 0) usageError('missing dataset name(s)');
  return withLock(() => {
    const s = readZfs();
    for (const n of names) {
      mustExist(s, n);
      const props = parseAssignments(n, assignments, 'set property for');
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

function inherit(args: string[]): number {
  const { flags, rest } = parseOpts(args, '');
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

function destroy(args: string[]): number {
  const { flags, rest } = parseOpts(args, '');
  const [name] = rest;
  if (!name) usageError('missing dataset argument');
  return withLock(() => {
    const s = readZfs();
    mustExist(s, name);
    const children = childrenOf(s, name);
    if (children.length && !flags.has('r') && !flags.has('R'))
      throw new SimError(
        `cannot destroy '${name}': filesystem has children\nuse '-r' to destroy the following datasets:\n${children.join('\n')}`,
        1,
      );
    if (!name.includes('/'))
      throw new SimError(
        `cannot destroy '${name}': operation does not apply to pools\nuse 'zfs destroy -r ${name}' to destroy all datasets in the pool\nuse 'zpool destroy ${name}' to destroy the pool itself`,
        1,
      );
    const busy = busyDataset(s, [name, ...children]);
    if (busy) throw new SimError(`cannot destroy '${busy}': dataset is busy`, 1);
    for (const c of children.reverse()) destroyDataset(s, c);
    destroyDataset(s, name);
    writeZfs(s);
    return 0;
  });
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
