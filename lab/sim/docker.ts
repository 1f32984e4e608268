// `docker` inside the simulated VM: volumes (local and NFS options), containers
// as records (no process keeps running), `docker run` executing its command in a
// throw-away root with the volumes bound, and `docker compose up -d`. NFS volume
// mounts resolve `device=:/path` against the hypervisor (the lab's NFS server)
// and fail like the real mount when NFS is not ready or the path is missing.
import { mkdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { readJson, writeJson, withLock, SimError, out, err, SIM_DIR } from './env.js';
import { runIsolated, systemBinds, type Bind } from './isolate.js';
import { HYPERVISOR_IN_GUEST } from './qm.js';

interface Volume {
  Name: string;
  Driver: string;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
  CreatedAt: string;
}
interface Container {
  Id: string;
  Name: string;
  Image: string;
  Cmd: string[];
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
  Status: 'running' | 'exited' | 'created';
  StartedAt: string;
  Created: string;
  RestartCount: number;
  ConfigHash: string;
  Project?: string;
}
interface DockerState {
  volumes: Record<string, Volume>;
  containers: Record<string, Container>;
}
const STATE = '/var/lib/docker/phx-lab.json';
const volMountpoint = (n: string) => `/var/lib/docker/volumes/${n}/_data`;

function load(): DockerState {
  return readJson<DockerState>(STATE, { volumes: {}, containers: {} });
}
function save(s: DockerState): void {
  writeJson(STATE, s);
}
function sortedMap(m: Record<string, string> | null): Record<string, string> | null {
  return (
    m &&
    Object.fromEntries(
      Object.keys(m)
        .sort()
        .map((k) => [k, m[k]]),
    )
  );
}
function goJson(v: unknown): string {
  return JSON.stringify(v, null, 4).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}
function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export async function docker(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'volume':
      return volume(rest);
    case 'run':
      return run(rest);
    case 'ps':
      return ps(rest);
    case 'restart':
    case 'start':
      return restart(rest, cmd);
    case 'stop':
      return stopOrRm(rest, 'stop');
    case 'rm':
      return stopOrRm(rest, 'rm');
    case 'inspect':
      return inspect(rest);
    case 'compose':
      return compose(rest);
    case 'info':
      out('Server:\n Containers: 0\n Server Version: 27.3.1\n Storage Driver: overlay2\n');
      return 0;
    case 'version':
    case '--version':
      out('Docker version 27.3.1, build ce12230\n');
      return 0;
    default:
      throw new SimError(`docker: '${cmd ?? ''}' is not a docker command.\nSee 'docker --help'`, 1);
  }
}

// ---- volumes ----------------------------------------------------------------

function volume(args: string[]): number {
  const [sub, ...rest] = args;
  if (sub === 'create') return withLock(() => volumeCreate(rest));
  if (sub === 'inspect') {
    const s = load();
    const names = rest.filter((a) => !a.startsWith('-'));
    const found = names
      .filter((n) => s.volumes[n])
      .map((n) => ({ ...s.volumes[n], Mountpoint: volMountpoint(n), Scope: 'local' }));
    const missing = names.filter((n) => !s.volumes[n]);
    out(
      goJson(
        found.map((v) => ({
          CreatedAt: v.CreatedAt,
          Driver: v.Driver,
          Labels: sortedMap(v.Labels),
          Mountpoint: v.Mountpoint,
          Name: v.Name,
          Options: sortedMap(v.Options),
          Scope: v.Scope,
        })),
      ) + '\n',
    );
    if (missing.length) {
      err(missing.map((n) => `Error: No such volume: ${n}\n`).join(''));
      return 1;
    }
    return 0;
  }
  if (sub === 'ls') {
    const s = load();
    if (rest.includes('-q') || rest.includes('--quiet'))
      out(
        Object.keys(s.volumes)
          .sort()
          .map((n) => `${n}\n`)
          .join(''),
      );
    else
      out(
        `DRIVER    VOLUME NAME\n${Object.keys(s.volumes)
          .sort()
          .map((n) => `${s.volumes[n].Driver.padEnd(10)}${n}\n`)
          .join('')}`,
      );
    return 0;
  }
  if (sub === 'rm') {
    return withLock(() => {
      const s = load();
      let rc = 0;
      for (const n of rest.filter((a) => !a.startsWith('-'))) {
        if (!s.volumes[n]) {
          err(`Error response from daemon: get ${n}: no such volume\n`);
          rc = 1;
          continue;
        }
        const users = Object.values(s.containers).filter((c) => c.Mounts.some((m) => m.Name === n));
        if (users.length) {
          err(`Error response from daemon: remove ${n}: volume is in use - [${users.map((c) => c.Id).join(', ')}]\n`);
          rc = 1;
          continue;
        }
        delete s.volumes[n];
        rmSync(`/var/lib/docker/volumes/${n}`, { recursive: true, force: true });
        out(`${n}\n`);
      }
      save(s);
      return rc;
    });
  }
  throw new SimError(`docker: 'volume ${sub ?? ''}' is not a docker command.`, 1);
}

function volumeCreate(args: string[]): number {
  let driver = 'local';
  const opts: Record<string, string> = {};
  const labels: Record<string, string> = {};
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const take = (flag: string) => (a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : args[++i]);
    if (a === '--driver' || a === '-d' || a.startsWith('--driver=')) driver = take('--driver');
    else if (a === '--opt' || a === '-o' || a.startsWith('--opt=')) {
      const kv = take('--opt');
      const eq = kv.indexOf('=');
      opts[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--label' || a.startsWith('--label=')) {
      const kv = take('--label');
      const eq = kv.indexOf('=');
      labels[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? '' : kv.slice(eq + 1);
    } else if (a === '--name') name = args[++i];
    else name = a;
  }
  const s = load();
  name ??= randomBytes(32).toString('hex');
  if (s.volumes[name]) {
    // an existing volume is returned as is: new options are silently ignored
    out(`${name}\n`);
    return 0;
  }
  s.volumes[name] = {
    Name: name,
    Driver: driver,
    Options: Object.keys(opts).length ? opts : null,
    Labels: Object.keys(labels).length ? labels : null,
    CreatedAt: now(),
  };
  mkdirSync(volMountpoint(name), { recursive: true });
  save(s);
  out(`${name}\n`);
  return 0;
}

/** Where the data of a volume is, or the mount error a real daemon would give. */
function volumeSource(v: Volume): string {
  const o = v.Options ?? {};
  if (o.type !== 'nfs') return volMountpoint(v.Name);
  const addr = /(?:^|,)addr=([^,]+)/.exec(o.o ?? '')?.[1] ?? '';
  const path = (o.device ?? '').replace(/^[^:]*:/, '');
  const problem = checkNfsOnHypervisor(addr, path);
  if (problem)
    throw new SimError(
      `Error response from daemon: error while mounting volume '${volMountpoint(v.Name)}': failed to mount local volume: mount ${o.device}:${volMountpoint(v.Name)}, data: addr=${addr}: ${problem}`,
      125,
    );
  return `${HYPERVISOR_IN_GUEST}${path}`;
}

/** Asks the hypervisor side (its state is visible at HYPERVISOR_IN_GUEST) whether the NFS mount works. */
function checkNfsOnHypervisor(addr: string, path: string): string | null {
  if (!existsSync(HYPERVISOR_IN_GUEST)) return 'connection refused';
  const r = spawnSync(process.execPath, [`${SIM_DIR}/main.js`, '__nfs-mount-check', addr, path], {
    env: { ...process.env, PHX_LAB_ROOT: HYPERVISOR_IN_GUEST },
    encoding: 'utf8',
  });
  const answer = r.stdout.trim();
  return answer === 'ok' ? null : answer || 'connection refused';
}

// ---- containers -------------------------------------------------------------

interface RunSpec {
  name?: string;
  image: string;
  cmd: string[];
  volumes: string[];
  rm: boolean;
  detach: boolean;
}

function parseRun(args: string[]): RunSpec {
  const spec: RunSpec = { image: '', cmd: [], volumes: [], rm: false, detach: false };
  const withValue = new Set([
    '--name',
    '-v',
    '--volume',
    '-e',
    '--env',
    '-p',
    '--publish',
    '--restart',
    '-w',
    '--workdir',
    '--network',
    '--entrypoint',
    '-u',
    '--user',
    '--label',
    '-l',
    '--hostname',
    '-h',
  ]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) {
      spec.image = a;
      spec.cmd = args.slice(i + 1);
      break;
    }
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = eq > 0 ? a.slice(eq + 1) : withValue.has(flag) ? args[++i] : '';
    if (flag === '--rm') spec.rm = true;
    else if (flag === '-d' || flag === '--detach') spec.detach = true;
    else if (flag === '-it' || flag === '-i' || flag === '-t') continue;
    else if (flag === '--name') spec.name = value;
    else if (flag === '-v' || flag === '--volume') spec.volumes.push(value);
  }
  if (!spec.image) throw new SimError(`"docker run" requires at least 1 argument.\nSee 'docker run --help'.`, 125);
  return spec;
}

/** Resolves `-v` specs into binds, creating missing named volumes (as docker does). */
function resolveMounts(s: DockerState, specs: string[]): { binds: Bind[]; mounts: Container['Mounts'] } {
  const binds: Bind[] = [];
  const mounts: Container['Mounts'] = [];
  for (const spec of specs) {
    const [src, dst, mode] = spec.split(':');
    const ro = mode === 'ro';
    if (src.startsWith('/')) {
      binds.push({ src, dst, ro });
      mounts.push({ Type: 'bind', Source: src, Destination: dst, RW: !ro });
      continue;
    }
    if (!s.volumes[src]) {
      s.volumes[src] = { Name: src, Driver: 'local', Options: null, Labels: null, CreatedAt: now() };
      mkdirSync(volMountpoint(src), { recursive: true });
    }
    binds.push({ src: volumeSource(s.volumes[src]), dst, ro });
    mounts.push({ Type: 'volume', Name: src, Source: volMountpoint(src), Destination: dst, RW: !ro });
  }
  return { binds, mounts };
}

function imageRoot(image: string): string {
  const dir = `/var/lib/docker/phx-lab-rootfs/${image.replace(/[^\w.-]/g, '_')}`;
  if (!existsSync(`${dir}/etc`)) {
    for (const d of ['etc', 'usr', 'dev', 'proc', 'tmp', 'root', 'data']) mkdirSync(`${dir}/${d}`, { recursive: true });
    for (const l of ['bin', 'lib', 'lib64', 'sbin']) spawnSync('ln', ['-sfn', `usr/${l}`, `${dir}/${l}`]);
  }
  return dir;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

async function run(args: string[]): Promise<number> {
  const spec = parseRun(args);
  let binds: Bind[] = [];
  const container = withLock(() => {
    const s = load();
    if (spec.name && s.containers[spec.name])
      throw new SimError(
        `docker: Error response from daemon: Conflict. The container name "/${spec.name}" is already in use by container "${s.containers[spec.name].Id}". You have to remove (or rename) that container to be able to reuse that name.\nSee 'docker run --help'.`,
        125,
      );
    let m;
    try {
      m = resolveMounts(s, spec.volumes);
    } catch (e) {
      if (e instanceof SimError) throw new SimError(`docker: ${e.message}.\nSee 'docker run --help'.`, 125);
      throw e;
    }
    binds = m.binds;
    const c: Container = {
      Id: newId(),
      Name: spec.name ?? `phx_${randomBytes(3).toString('hex')}`,
      Image: spec.image,
      Cmd: spec.cmd,
      Mounts: m.mounts,
      Status: spec.detach ? 'running' : 'exited',
      StartedAt: now(),
      Created: now(),
      RestartCount: 0,
      ConfigHash: '',
    };
    if (!spec.rm || spec.detach) s.containers[c.Name] = c;
    save(s);
    return c;
  });
  if (spec.detach) {
    out(`${container.Id}\n`);
    return 0;
  }
  if (spec.cmd.length === 0) return 0;
  const r = await runIsolated({
    rootfs: imageRoot(spec.image),
    binds: [...systemBinds(), ...binds],
    idmap: null,
    argv: spec.cmd,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root' },
    stdin: 'inherit',
    nested: Boolean(process.env.PHX_LAB_GUEST),
  });
  return r.rc;
}

function findContainer(s: DockerState, ref: string): Container | undefined {
  return s.containers[ref] ?? Object.values(s.containers).find((c) => c.Id.startsWith(ref) && ref.length >= 4);
}

/**
 * Runs `each` on every container named in args (options skipped), under the
 * lock, then saves: a missing one, or `each` returning false, makes rc 1; a
 * container `each` accepts is echoed like docker does.
 */
function eachContainer(args: string[], each: (s: DockerState, c: Container) => boolean): number {
  return withLock(() => {
    const s = load();
    let rc = 0;
    for (const ref of args.filter((a) => !a.startsWith('-'))) {
      const c = findContainer(s, ref);
      if (!c) {
        err(`Error response from daemon: No such container: ${ref}\n`);
        rc = 1;
        continue;
      }
      if (!each(s, c)) {
        rc = 1;
        continue;
      }
      out(`${ref}\n`);
    }
    save(s);
    return rc;
  });
}

function restart(args: string[], how: string): number {
  return eachContainer(args, (s, c) => {
    for (const m of c.Mounts) if (m.Name && s.volumes[m.Name]) volumeSource(s.volumes[m.Name]);
    if (how === 'restart' || c.Status !== 'running') {
      c.Status = 'running';
      c.StartedAt = now();
      if (how === 'restart') c.RestartCount += 1;
    }
    return true;
  });
}

function stopOrRm(args: string[], how: 'stop' | 'rm'): number {
  const force = args.includes('-f') || args.includes('--force');
  return eachContainer(args, (s, c) => {
    if (how === 'stop') c.Status = 'exited';
    else {
      if (c.Status === 'running' && !force) {
        err(
          `Error response from daemon: cannot remove container "/${c.Name}": container is running: stop the container before removing or force remove\n`,
        );
        return false;
      }
      delete s.containers[c.Name];
    }
    return true;
  });
}

function statusText(c: Container): string {
  if (c.Status !== 'running') return 'Exited (0) 1 second ago';
  const secs = Math.max(1, Math.floor((Date.now() - Date.parse(c.StartedAt)) / 1000));
  return secs < 60 ? `Up ${secs} seconds` : `Up ${Math.floor(secs / 60)} minutes`;
}

function ps(args: string[]): number {
  const s = load();
  const all = args.includes('-a') || args.includes('--all');
  const quiet = args.includes('-q') || args.includes('--quiet');
  const fmtIdx = args.findIndex((a) => a === '--format' || a.startsWith('--format='));
  const fmt = fmtIdx < 0 ? undefined : args[fmtIdx].startsWith('--format=') ? args[fmtIdx].slice(9) : args[fmtIdx + 1];
  const filters = args.flatMap((a, i) =>
    a === '--filter' || a === '-f' ? [args[i + 1]] : a.startsWith('--filter=') ? [a.slice(9)] : [],
  );
  let list = Object.values(s.containers).filter((c) => all || c.Status === 'running');
  for (const f of filters) {
    const [k, v] = f.split('=');
    if (k === 'name') list = list.filter((c) => c.Name.includes(v));
    if (k === 'status') list = list.filter((c) => c.Status === v);
  }
  if (quiet) {
    out(list.map((c) => `${c.Id.slice(0, 12)}\n`).join(''));
    return 0;
  }
  if (fmt && fmt !== 'table') {
    const fields: Record<string, (c: Container) => string> = {
      '.Names': (c) => c.Name,
      '.ID': (c) => c.Id.slice(0, 12),
      '.Image': (c) => c.Image,
      '.Status': statusText,
      '.State': (c) => c.Status,
      '.Command': (c) => JSON.stringify(c.Cmd.join(' ')),
      '.Mounts': (c) => c.Mounts.map((m) => m.Name ?? m.Source).join(','),
    };
    const tmpl = fmt.replace(/\\t/g, '\t');
    out(
      list.map((c) => tmpl.replace(/\{\{\s*(\.\w+)\s*\}\}/g, (_, f: string) => fields[f]?.(c) ?? '') + '\n').join(''),
    );
    return 0;
  }
  const rows = [
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    ...list.map((c) => [
      c.Id.slice(0, 12),
      c.Image,
      JSON.stringify(c.Cmd.join(' ').slice(0, 20)),
      'About a minute ago',
      statusText(c),
      '',
      c.Name,
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  out(rows.map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i] + 3))).join('') + '\n').join(''));
  return 0;
}

function inspect(args: string[]): number {
  const s = load();
  const refs = args.filter((a) => !a.startsWith('-'));
  const found: unknown[] = [];
  let rc = 0;
  for (const ref of refs) {
    const c = findContainer(s, ref);
    if (c) {
      found.push({
        Id: c.Id,
        Created: c.Created,
        Path: c.Cmd[0] ?? '',
        Args: c.Cmd.slice(1),
        State: { Status: c.Status, Running: c.Status === 'running', StartedAt: c.StartedAt, ExitCode: 0 },
        Image: c.Image,
        Name: `/${c.Name}`,
        RestartCount: c.RestartCount,
        Mounts: c.Mounts,
        Config: { Image: c.Image, Cmd: c.Cmd, Labels: c.Project ? { 'com.docker.compose.project': c.Project } : {} },
      });
    } else if (s.volumes[ref]) found.push({ ...s.volumes[ref], Mountpoint: volMountpoint(ref), Scope: 'local' });
    else {
      err(`Error: No such object: ${ref}\n`);
      rc = 1;
    }
  }
  out(goJson(found) + '\n');
  return rc;
}

// ---- compose ----------------------------------------------------------------

interface ComposeFile {
  name?: string;
  services?: Record<
    string,
    {
      image?: string;
      container_name?: string;
      volumes?: Array<string | { type?: string; source?: string; target?: string; read_only?: boolean }>;
      command?: string | string[];
    }
  >;
  volumes?: Record<
    string,
    {
      external?: boolean | { name?: string };
      name?: string;
      driver?: string;
      driver_opts?: Record<string, string>;
    } | null
  >;
}

async function compose(args: string[]): Promise<number> {
  const files: string[] = [];
  let project: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-f' || args[i] === '--file') files.push(args[++i]);
    else if (args[i] === '-p' || args[i] === '--project-name') project = args[++i];
    else rest.push(args[i]);
  }
  const fromStdin = files[0] === '-';
  const file = fromStdin ? resolve('docker-compose.yml') : resolve(files[0] ?? 'docker-compose.yml');
  let text: string;
  try {
    text = readFileSync(fromStdin ? 0 : file, 'utf8');
  } catch {
    throw new SimError(`open ${file}: no such file or directory`, 1);
  }
  const { parse } = await import('yaml');
  const doc = (parse(text) ?? {}) as ComposeFile;
  project ??=
    doc.name ??
    process.env.COMPOSE_PROJECT_NAME ??
    (basename(dirname(file))
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '') ||
      'default');
  const [verb] = rest;
  if (verb === 'up') return withLock(() => composeUp(doc, project));
  if (verb === 'down') {
    return withLock(() => {
      const s = load();
      for (const [n, c] of Object.entries(s.containers))
        if (c.Project === project) {
          delete s.containers[n];
          err(` Container ${n}  Removed\n`);
        }
      save(s);
      return 0;
    });
  }
  if (verb === 'ps') return ps(['--filter', `name=`]);
  throw new SimError(`unknown docker command: "compose ${verb ?? ''}"`, 1);
}

function composeUp(doc: ComposeFile, project: string): number {
  const s = load();
  const volumeNames: Record<string, string> = {};
  for (const [key, def] of Object.entries(doc.volumes ?? {})) {
    const ext = def?.external;
    if (ext) {
      const real = (typeof ext === 'object' && ext.name) || def?.name || key;
      if (!s.volumes[real]) throw new SimError(`external volume "${real}" not found`, 1);
      volumeNames[key] = real;
    } else {
      const real = def?.name ?? `${project}_${key}`;
      volumeNames[key] = real;
      if (!s.volumes[real]) {
        s.volumes[real] = {
          Name: real,
          Driver: def?.driver ?? 'local',
          Options: def?.driver_opts ?? null,
          Labels: { 'com.docker.compose.project': project, 'com.docker.compose.volume': key },
          CreatedAt: now(),
        };
        mkdirSync(volMountpoint(real), { recursive: true });
        err(` Volume "${real}"  Created\n`);
      }
    }
  }
  for (const [svc, def] of Object.entries(doc.services ?? {})) {
    const name = def.container_name ?? `${project}-${svc}-1`;
    const specs = (def.volumes ?? []).map((v) => {
      if (typeof v === 'string') {
        const [src, ...restParts] = v.split(':');
        if (!src.startsWith('/') && !src.startsWith('.') && !volumeNames[src])
          throw new SimError(`service "${svc}" refers to undefined volume ${src}: invalid compose project`, 1);
        return [src.startsWith('.') ? resolve(src) : (volumeNames[src] ?? src), ...restParts].join(':');
      }
      return `${v.source && !v.source.startsWith('/') ? (volumeNames[v.source] ?? v.source) : v.source}:${v.target}${v.read_only ? ':ro' : ''}`;
    });
    const hash = createHash('sha256').update(JSON.stringify({ def, specs })).digest('hex');
    const existing = s.containers[name];
    if (existing && existing.ConfigHash === hash && existing.Status === 'running') {
      err(` Container ${name}  Running\n`);
      continue;
    }
    let mounts: Container['Mounts'];
    try {
      mounts = resolveMounts(s, specs).mounts;
    } catch (e) {
      err(` Container ${name}  Error\n`);
      throw e;
    }
    const cmd = typeof def.command === 'string' ? def.command.split(' ') : (def.command ?? []);
    if (existing && existing.ConfigHash === hash) {
      err(` Container ${name}  Starting\n`);
      existing.Status = 'running';
      existing.StartedAt = now();
      err(` Container ${name}  Started\n`);
      continue;
    }
    err(
      existing
        ? ` Container ${name}  Recreate\n Container ${name}  Recreated\n`
        : ` Container ${name}  Creating\n Container ${name}  Created\n`,
    );
    s.containers[name] = {
      Id: newId(),
      Name: name,
      Image: def.image ?? '',
      Cmd: cmd,
      Mounts: mounts,
      Status: 'running',
      StartedAt: now(),
      Created: now(),
      RestartCount: 0,
      ConfigHash: hash,
      Project: project,
    };
    err(` Container ${name}  Starting\n Container ${name}  Started\n`);
  }
  save(s);
  return 0;
}
