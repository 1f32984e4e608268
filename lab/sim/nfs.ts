// The simulated NFS kernel server of a host: /etc/exports(.d) → the export table
// (`exportfs -r`), readiness (nfs-server active for at least the fault delay), and
// the client-side probes (`showmount`, `rpcinfo`) that answer from that state.
import { readdirSync, statSync } from 'node:fs';
import {
  readText,
  readJson,
  writeJson,
  hostPath,
  STATE_DIR,
  faults,
  isSelfAddress,
  SimError,
  out,
  err,
} from './env.js';
import { unitState, registerUnitHooks } from './systemd.js';

export interface ExportEntry {
  path: string;
  client: string;
  options: string[]; // as written
}

const ETAB = `${STATE_DIR}/nfs/etab.json`;

export function parseExports(text: string): ExportEntry[] {
  const entries: ExportEntry[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^("([^"]+)"|(\S+))\s*(.*)$/.exec(line);
    if (!m) continue;
    const path = m[2] ?? m[3];
    const rest = m[4].trim();
    if (!rest) {
      entries.push({ path, client: '*', options: [] });
      continue;
    }
    for (const spec of rest.split(/\s+/)) {
      const cm = /^([^(]*)(?:\(([^)]*)\))?$/.exec(spec);
      if (!cm) continue;
      entries.push({ path, client: cm[1] || '*', options: cm[2] ? cm[2].split(',').filter(Boolean) : [] });
    }
  }
  return entries;
}

export function configuredExports(): ExportEntry[] {
  let text = readText('/etc/exports') ?? '';
  try {
    for (const f of readdirSync(hostPath('/etc/exports.d')).sort())
      if (f.endsWith('.exports')) text += '\n' + (readText(`/etc/exports.d/${f}`) ?? '');
  } catch {
    /* no exports.d */
  }
  return parseExports(text);
}

export function activeExports(): ExportEntry[] {
  return readJson<ExportEntry[]>(ETAB, []);
}

/** `exportfs -r`: the table becomes what the files say; a missing path is skipped with an error. */
export function syncExports(): string[] {
  const errors: string[] = [];
  const table: ExportEntry[] = [];
  for (const e of configuredExports()) {
    try {
      if (!statSync(hostPath(e.path)).isDirectory()) throw new Error('not a dir');
    } catch {
      errors.push(`exportfs: Failed to stat ${e.path}: No such file or directory`);
      continue;
    }
    table.push(e);
  }
  writeJson(ETAB, table);
  return errors;
}

export function unexportAll(): void {
  writeJson(ETAB, []);
}

registerUnitHooks('nfs-server', () => void syncExports(), unexportAll);

/** NFS answers once nfs-server has been active for the host's nfsDelaySeconds. */
export function nfsReady(): boolean {
  const u = unitState('nfs-server');
  if (!u?.active) return false;
  return Date.now() - u.since >= (faults().nfsDelaySeconds ?? 0) * 1000;
}

/**
 * Is mountd registered with rpcbind (the MOUNT protocol, versions 1–3)? Not on an NFSv4-only server:
 * /etc/nfs.conf `[nfsd] vers3=n` (nfs.conf(5)); then showmount fails and rpcinfo knows no nfs 3,
 * while NFSv4 (rpcinfo nfs 4, TCP 2049, mounts) works.
 */
export function mountdRegistered(): boolean {
  let section = '';
  let v3 = true;
  for (const raw of (readText('/etc/nfs.conf') ?? '').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const head = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (head) section = head[1].toLowerCase();
    const kv = /^vers3\s*=\s*(\S+)/i.exec(line);
    if (kv && section === 'nfsd') v3 = !/^(n|no|0|false|off)$/i.test(kv[1]);
  }
  return v3;
}

/** The options exportfs -v shows: the written ones with every default made explicit. */
export function fullOptions(opts: string[]): string {
  const has = (o: string) => opts.includes(o);
  const out: string[] = [];
  out.push(has('async') ? 'async' : 'sync');
  out.push(has('no_wdelay') ? 'no_wdelay' : 'wdelay');
  out.push(has('nohide') ? 'nohide' : 'hide');
  if (has('crossmnt')) out.push('crossmnt');
  if (!has('subtree_check')) out.push('no_subtree_check');
  if (has('insecure_locks') || has('no_auth_nlm')) out.push('insecure_locks');
  if (has('no_acl')) out.push('no_acl');
  for (const o of opts) if (/^(fsid|anonuid|anongid)=/.test(o)) out.push(o);
  const sec = opts.find((o) => o.startsWith('sec='));
  out.push(sec ?? 'sec=sys');
  out.push(has('rw') ? 'rw' : 'ro');
  out.push(has('insecure') ? 'insecure' : 'secure');
  out.push(has('no_root_squash') ? 'no_root_squash' : has('all_squash') ? 'root_squash' : 'root_squash');
  out.push(has('all_squash') ? 'all_squash' : 'no_all_squash');
  return out.join(',');
}

/** Does the server export `path` (or a parent of it) — what a mount of it needs. */
export function exportCovering(path: string): ExportEntry | undefined {
  const norm = path.replace(/\/+$/, '') || '/';
  return activeExports().find((e) => norm === e.path || norm.startsWith(e.path.replace(/\/+$/, '') + '/'));
}

// ---- tools ----------------------------------------------------------------

export function exportfs(args: string[]): number {
  const flags = new Set<string>();
  for (const a of args) if (/^-[a-z]+$/.test(a)) for (const c of a.slice(1)) flags.add(c);
  if (flags.has('r') || flags.has('a')) {
    if (flags.has('u')) {
      unexportAll();
      return 0;
    }
    const errors = syncExports();
    if (errors.length) {
      err(errors.join('\n') + '\n');
      return 1;
    }
    return 0;
  }
  const table = activeExports();
  let text = '';
  for (const e of table) {
    if (flags.has('s')) {
      text += `${e.path} ${e.client}(${fullOptions(e.options)})\n`;
      continue;
    }
    const client = e.client === '*' ? '<world>' : e.client;
    // The spec shows a 14-character path already wrapped (nfs-utils checks "> 14"): the spec example wins.
    text += e.path.length >= 14 ? `${e.path}\n\t\t${client}` : `${e.path.padEnd(14)}\t${client}`;
    text += flags.has('v') ? `(${fullOptions(e.options)})\n` : '\n';
  }
  out(text);
  return 0;
}

export function showmount(args: string[]): number {
  const noHeaders = args.includes('--no-headers');
  const positional = args.filter((a) => !a.startsWith('-'));
  const wantsExports = args.some((a) => a === '-e' || a === '--exports' || /^-[a-z]*e/.test(a));
  const host = positional[0] ?? 'localhost';
  if (!isSelfAddress(host))
    throw new SimError('clnt_create: RPC: Port mapper failure - Unable to receive: errno 111 (Connection refused)', 1);
  if (!nfsReady() || !mountdRegistered()) throw new SimError('clnt_create: RPC: Program not registered', 1);
  if (!wantsExports) return 0;
  const byPath = new Map<string, string[]>();
  for (const e of activeExports()) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e.client]);
  const width = Math.max(0, ...[...byPath.keys()].map((p) => p.length));
  let text = noHeaders ? '' : `Export list for ${host}:\n`;
  for (const [path, clients] of byPath)
    text += `${path.padEnd(width)} ${clients.length ? clients.join(',') : '(everyone)'}\n`;
  out(text);
  return 0;
}

const PROGRAMS: Record<string, number> = {
  portmapper: 100000,
  rpcbind: 100000,
  mountd: 100005,
  nfs: 100003,
  nlockmgr: 100021,
  nfs_acl: 100227,
};
const VERSIONS: Record<number, number[]> = {
  100000: [2, 3, 4],
  100005: [1, 2, 3],
  100003: [3, 4],
  100021: [1, 3, 4],
  100227: [3],
};

export function rpcinfo(args: string[]): number {
  if (args[0] === '-p') {
    const host = args[1] ?? 'localhost';
    if (!isSelfAddress(host))
      throw new SimError("rpcinfo: can't contact portmapper: RPC: Remote system error - Connection refused", 1);
    const rows: Array<[number, number, string, number, string]> = [];
    for (const v of [4, 3, 2]) rows.push([100000, v, 'tcp', 111, 'portmapper']);
    for (const v of [4, 3, 2]) rows.push([100000, v, 'udp', 111, 'portmapper']);
    if (nfsReady() && mountdRegistered()) {
      for (const v of [1, 2, 3]) rows.push([100005, v, 'udp', 20048, 'mountd'], [100005, v, 'tcp', 20048, 'mountd']);
      rows.push([100003, 3, 'tcp', 2049, 'nfs'], [100003, 4, 'tcp', 2049, 'nfs'], [100227, 3, 'tcp', 2049, 'nfs_acl']);
    } else if (nfsReady()) rows.push([100003, 4, 'tcp', 2049, 'nfs']);
    let text = '   program vers proto   port  service\n';
    for (const [p, v, proto, port, svc] of rows)
      text += `${String(p).padStart(10)}${String(v).padStart(5)}${proto.padStart(6)}${String(port).padStart(7)}  ${svc}\n`;
    out(text);
    return 0;
  }
  let rest = args;
  if (rest[0] === '-T') rest = rest.slice(2);
  else if (rest[0] === '-t' || rest[0] === '-u') rest = rest.slice(1);
  const [host, progArg, versArg] = rest;
  if (!host || !progArg)
    throw new SimError(
      'Usage: rpcinfo [-m | -s] [host]\n       rpcinfo -p [host]\n       rpcinfo -T netid host prognum [versnum]',
      1,
    );
  const prog = PROGRAMS[progArg] ?? Number(progArg);
  const vers = versArg === undefined ? undefined : Number(versArg);
  const notAvailable = (why: string): number => {
    err(`rpcinfo: RPC: ${why}\n`);
    out(
      vers === undefined ? `program ${prog} is not available\n` : `program ${prog} version ${vers} is not available\n`,
    );
    return 1;
  };
  if (!isSelfAddress(host)) return notAvailable('Remote system error - Connection refused');
  const v4Only = !mountdRegistered();
  const registered = prog === 100000 || (nfsReady() && !(v4Only && prog !== 100003));
  if (!registered || !VERSIONS[prog]) return notAvailable('Program not registered');
  const versions = v4Only && prog === 100003 ? [4] : VERSIONS[prog];
  if (vers !== undefined && !versions.includes(vers))
    return notAvailable(
      `Program/version mismatch; low version = ${versions[0]}, high version = ${versions[versions.length - 1]}`,
    );
  out((vers === undefined ? versions : [vers]).map((v) => `program ${prog} version ${v} ready and waiting\n`).join(''));
  return 0;
}

/** Why an NFS mount of `addr:path` from a client would fail right now, or null if it works. */
export function nfsMountProblem(addr: string, path: string): string | null {
  if (!isSelfAddress(addr)) return 'no route to host';
  if (!nfsReady()) return 'connection refused';
  try {
    if (!statSync(hostPath(path)).isDirectory()) return 'not a directory';
  } catch {
    return 'no such file or directory';
  }
  if (!exportCovering(path)) return 'permission denied';
  return null;
}
