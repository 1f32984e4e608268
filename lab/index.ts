// The hypervisor lab: N simulated Proxmox hosts, each a real OpenSSH sshd on a
// 127.0.0.1 port running in its own mount namespace, where /etc (overlay),
// /etc/pve, the pools, /var/lib/vz, the simulator state … are that host's own
// directories under <dir>/hosts/<name>/root. See docs/LAB.md.
import { mkdirSync, writeFileSync, readFileSync, existsSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { startSshd, generateKeyPair, processTree, type SshdHandle } from './sshd.js';
import { alive } from './proc.js';
import { writeShims, writeSetupScript } from './hostfs.js';
import { seedHost } from './sim/seed.js';
import { CLUSTER_NAME, clusterPveDir, syncClusterTree, writeCorosync } from './cluster.js';
import { sleep } from '../src/sleep.js';
import { toolLatencyFile } from './sim/tool-calls.js';

export interface LabHost {
  name: string;
  port: number;
  root: string; // this host's private state dir on the controller (its `/` for the simulated paths)
}
export interface LabFaults {
  nfsDelaySeconds?: number;
  guestAgentDelaySeconds?: number;
  createLockSeconds?: number;
  shutdownHang?: number;
  refuseConnections?: boolean;
}
/** A cluster lab's cluster: its members (every host that ever joined; a stopped one is offline). */
export interface LabCluster {
  name: string;
  nodes: string[];
  pveDir: string; // the shared /etc/pve on the controller
}
export interface Lab {
  dir: string;
  hosts: LabHost[];
  cluster: LabCluster | null;
  inventoryFile: string;
  knownHostsFile: string;
  privateKeyFile: string;
  exec(host: string, command: string): Promise<{ rc: number; stdout: string; stderr: string }>;
  reset(host: string): Promise<void>;
  setFaults(host: string, faults: LabFaults): Promise<void>;
  stop(): Promise<void>;
}
export interface HostStatus {
  name: string;
  port: number;
  pid: number | null;
  up: boolean;
}

interface LabConfig {
  hosts: Array<{ name: string; port: number }>;
  cluster?: { name: string; nodes: string[] };
}

const handles = new Map<string, SshdHandle>(); // started by this process, keyed by host dir

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

const hostDirOf = (dir: string, name: string) => join(dir, 'hosts', name);
const pidFileOf = (dir: string, name: string) => join(hostDirOf(dir, name), 'sshd.pid');

function readConfig(dir: string): LabConfig | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabConfig;
  } catch {
    return null;
  }
}

/** The sshd pid of a host if it is really running (a stale pid file after a crash is ignored). */
export function runningPid(dir: string, name: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFileOf(dir, name), 'utf8').trim());
  } catch {
    return null;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!alive(pid)) return null;
    return cmdline.includes(join(hostDirOf(dir, name), 'sshd')) ? pid : null;
  } catch {
    return null;
  }
}

function mountNs(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** Every process of a host: sshd's tree, anything left in its mount namespace (detached helpers), and guest
 *  processes (their own namespaces) marked with PHX_LAB_HOST_NS by the simulator. */
function hostProcesses(pid: number): number[] {
  const ns = mountNs(pid);
  return [...new Set([...processTree(pid), ...namespaceProcesses(ns)])];
}

/** The processes in the host's mount namespace `ns` or marked with it (none for the controller's own). */
function namespaceProcesses(ns: string | null): number[] {
  if (!ns || ns === mountNs(process.pid)) return [];
  const marker = `PHX_LAB_HOST_NS=${ns}\0`;
  const found: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const p = Number(e);
    if (mountNs(p) === ns) found.push(p);
    else {
      try {
        if (readFileSync(`/proc/${p}/environ`, 'latin1').includes(marker)) found.push(p);
      } catch {
        /* gone or not readable */
      }
    }
  }
  return found;
}

/** SIGTERM, then SIGKILL after a second; waits at most 5 s for them to end. */
async function terminate(procs: number[]): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    for (const p of procs) {
      try {
        process.kill(p, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 200 && procs.some(alive); i++) {
    if (i === 40) signal('SIGKILL');
    await sleep(25);
  }
}

async function stopHost(dir: string, name: string): Promise<void> {
  const hostDir = hostDirOf(dir, name);
  const pid = runningPid(dir, name);
  const ns = pid ? mountNs(pid) : null;
  const procs = pid ? hostProcesses(pid) : [];
  const handle = handles.get(hostDir);
  handles.delete(hostDir);
  if (handle) await handle.stop();
  await terminate(procs);
  // the first list can miss a guest's process: one forked meanwhile, or one caught inside execve, whose
  // /proc/<pid>/environ (the marker) cannot be read at that moment and whose mount namespace is the
  // guest's. Look again, by namespace and marker, until none is left (CI once saw a `sleep &` survive)
  for (let round = 0; round < 5; round++) {
    const left = namespaceProcesses(ns).filter(alive);
    if (left.length === 0) break;
    await terminate(left);
  }
  rmSync(pidFileOf(dir, name), { force: true });
}

function readFaults(host: LabHost): LabFaults {
  try {
    return JSON.parse(readFileSync(join(host.root, 'var/lib/phx-lab/faults.json'), 'utf8')) as LabFaults;
  } catch {
    return {};
  }
}

async function startHost(
  dir: string,
  host: LabHost,
  publicKey: string,
  persistent: boolean,
  cluster: boolean,
): Promise<void> {
  if (runningPid(dir, host.name)) return;
  if (readFaults(host).refuseConnections) return;
  const hostDir = hostDirOf(dir, host.name);
  const setup = writeSetupScript(dir, hostDir, host.name, cluster);
  const handle = await startSshd({
    dir: join(hostDir, 'sshd'),
    port: host.port,
    authorizedKeys: [publicKey],
    launchPrefix: ['unshare', '--mount', '--uts', '--propagation', 'private', '--', '/bin/sh', setup],
    extraConfig: ['AcceptEnv LANG LC_*'],
    persistent, // the CLI's hosts outlive the `lab up` process
  });
  handles.set(hostDir, handle);
  writeFileSync(pidFileOf(dir, host.name), `${handle.pid}\n`);
}

function rebootVms(root: string): void {
  const vmDir = join(root, 'var/lib/phx-lab/vm');
  let ids: string[] = [];
  try {
    ids = readdirSync(vmDir);
  } catch {
    return;
  }
  for (const id of ids) {
    const file = join(vmDir, id, 'state.json');
    try {
      const st = JSON.parse(readFileSync(file, 'utf8')) as { running: boolean };
      if (st.running) writeFileSync(file, JSON.stringify({ running: true, startedAt: Date.now() }) + '\n');
    } catch {
      /* no state */
    }
  }
}

export const GENERATED_MARK = '# Written by the phx-play lab';

function writeInventory(
  lab: { hosts: LabHost[]; cluster: LabCluster | null; privateKeyFile: string; knownHostsFile: string },
  file: string,
): void {
  const lines = [
    `${GENERATED_MARK} (\`npm run lab -- up\`): simulated Proxmox hosts on 127.0.0.1. See docs/LAB.md.`,
    'all:',
    '  children:',
    '    lab:',
    '      hosts:',
  ];
  for (const h of lab.hosts)
    lines.push(
      `        ${h.name}:`,
      '          ansible_host: 127.0.0.1',
      `          ansible_port: ${h.port}`,
      '          ansible_user: root',
      `          ansible_ssh_private_key_file: ${lab.privateKeyFile}`,
      `          ansible_ssh_known_hosts_file: ${lab.knownHostsFile}`,
      ...clusterIds(lab.cluster, h.name),
    );
  // the cluster's hosts also in their own group (their variables are in group `lab` already)
  const members = lab.cluster ? lab.hosts.filter((h) => lab.cluster!.nodes.includes(h.name)) : [];
  if (members.length) lines.push('    lab_cluster:', '      hosts:', ...members.map((h) => `        ${h.name}: {}`));
  // the Phoenix playbooks target phoenix_hypervisors; `lab` (deeper) keeps its group_vars on top
  lines.push('    phoenix_hypervisors:', '      children:', '        lab: {}');
  // each hypervisor's gateway CT (phoenix_gateway_ct, `nginx`) as a host of its own, reached through
  // the hypervisor's connection (ansible_connection pct: docs/CONNECTIONS.md); the gateway play's
  // site values come from its hypervisor (hostvars), so the CTs stay out of group `lab`
  lines.push('    phoenix_gateway:', '      hosts:');
  for (const h of lab.hosts)
    lines.push(
      `        ${h.name}-gateway:`,
      '          ansible_connection: pct',
      `          ansible_host: ${h.name}`,
      `          pct_vmid: ${gatewayCtid(lab.cluster, h.name)}`,
    );
  writeFileSync(file, lines.join('\n') + '\n');
}

/**
 * A cluster member's own guest ids as host vars: ids are unique cluster-wide, so member i gets
 * the VM seeded on it (1000+i) and its own container ids for the names of inventory/group_vars/lab.yml
 * (phoenix-base 9i0, nginx 1i1, portainer-agent 1i2). A standalone host keeps lab.yml's 900/101/102/1001.
 */
function clusterIds(cluster: LabCluster | null, host: string): string[] {
  const i = cluster ? cluster.nodes.indexOf(host) + 1 : 0;
  if (i === 0) return [];
  return [
    `          portainer_vmid: ${1000 + i}`,
    `          phoenix_ctids: { phoenix-base: 9${i}0, nginx: 1${i}1, portainer-agent: 1${i}2 }`,
  ];
}

/** The gateway CT's id on a host: inventory/group_vars/lab.yml's nginx (101), or a member's own (1i1). */
function gatewayCtid(cluster: LabCluster | null, host: string): number {
  const i = cluster ? cluster.nodes.indexOf(host) + 1 : 0;
  return i === 0 ? 101 : Number(`1${i}1`);
}

/** Opens (creating or resuming) the lab in `dir` without starting anything. */
export async function openLab(opts: LabOptions): Promise<Lab> {
  return (await open(opts)).lab;
}

/** `persistent`: hosts keep running after this process exits (the CLI); tests leave it off. */
export interface LabOptions {
  dir: string;
  hosts?: number;
  basePort?: number;
  persistent?: boolean;
  /** the hosts are one Proxmox VE cluster sharing /etc/pve (a lab's mode is fixed when it is created) */
  cluster?: boolean;
  /** what each Proxmox tool costs (lab/sim/tool-calls.ts, ms per tool; {} for none); kept in the lab dir */
  toolLatency?: Record<string, number>;
}

async function open(opts: LabOptions): Promise<{ lab: Lab; publicKey: string }> {
  const persistent = opts.persistent === true;
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const privateKeyFile = join(dir, 'id_ed25519');
  if (!existsSync(privateKeyFile) || !existsSync(`${privateKeyFile}.pub`)) await generateKeyPair(privateKeyFile);
  const publicKey = readFileSync(`${privateKeyFile}.pub`, 'utf8').trim();
  writeShims(dir);
  if (opts.toolLatency !== undefined) {
    if (Object.keys(opts.toolLatency).length === 0) rmSync(toolLatencyFile(dir), { force: true });
    else writeFileSync(toolLatencyFile(dir), JSON.stringify(opts.toolLatency, null, 2) + '\n');
  }

  const config: LabConfig = readConfig(dir) ?? { hosts: [] };
  if (opts.cluster !== undefined && config.hosts.length > 0 && opts.cluster !== Boolean(config.cluster))
    throw new Error(
      `the lab in ${dir} is ${config.cluster ? 'a cluster' : 'standalone'}; a lab keeps its mode (remove ${dir} or use another --dir)`,
    );
  if (opts.cluster && !config.cluster) config.cluster = { name: CLUSTER_NAME, nodes: [] };
  const count = opts.hosts ?? config.hosts.length;
  for (let i = 1; i <= count; i++) {
    const name = `pve${i}`;
    const known = config.hosts.find((h) => h.name === name);
    const port = opts.basePort !== undefined ? opts.basePort + i : (known?.port ?? (await freePort()));
    if (known) known.port = port;
    else config.hosts.push({ name, port });
  }
  // fewer hosts than before: the extra ones stop (their state stays on disk)
  for (const gone of config.hosts.slice(Math.max(count, 0))) await stopHost(dir, gone.name);
  config.hosts = config.hosts.slice(0, Math.max(count, 0));
  // a host that joined stays a member when it stops (offline, like a powered-off node)
  if (config.cluster)
    for (const h of config.hosts) if (!config.cluster.nodes.includes(h.name)) config.cluster.nodes.push(h.name);
  writeFileSync(join(dir, 'lab.json'), JSON.stringify(config, null, 2) + '\n');
  const hosts: LabHost[] = config.hosts.map((h) => ({ ...h, root: join(hostDirOf(dir, h.name), 'root') }));
  const cluster: LabCluster | null = config.cluster
    ? { name: config.cluster.name, nodes: [...config.cluster.nodes], pveDir: clusterPveDir(dir) }
    : null;
  const isCluster = cluster !== null;
  const seed = (h: LabHost) => {
    if (!cluster) return seedHost(h.root, h.name);
    // VM ids are unique across a cluster: member i's seeded VM is 1000+i
    seedHost(h.root, h.name, { pve: cluster.pveDir, vmid: String(1000 + cluster.nodes.indexOf(h.name) + 1) });
    writeCorosync(cluster.pveDir, [h.root], cluster.nodes);
  };
  const knownHostsFile = join(dir, 'known_hosts');
  const inventoryFile = join(dir, 'inventory.yml');

  const hostByName = (name: string): LabHost => {
    const h = hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no lab host named '${name}' (hosts: ${hosts.map((x) => x.name).join(', ')})`);
    return h;
  };

  const lab: Lab = {
    dir,
    hosts,
    cluster,
    inventoryFile,
    knownHostsFile,
    privateKeyFile,
    exec(host, command) {
      const h = hostByName(host);
      return new Promise((res) => {
        const child = spawn(
          'ssh',
          [
            '-i',
            privateKeyFile,
            '-p',
            String(h.port),
            '-o',
            `UserKnownHostsFile=${knownHostsFile}`,
            '-o',
            'StrictHostKeyChecking=yes',
            '-o',
            'BatchMode=yes',
            '-o',
            'ConnectTimeout=5',
            '-o',
            'LogLevel=ERROR',
            'root@127.0.0.1',
            '--',
            command,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => res({ rc: code ?? 255, stdout, stderr }));
      });
    },
    async reset(host) {
      const h = hostByName(host);
      const wasUp = runningPid(dir, h.name) !== null;
      await stopHost(dir, h.name);
      seed(h);
      if (wasUp) await startHost(dir, h, publicKey, persistent, isCluster);
    },
    async setFaults(host, faults) {
      const h = hostByName(host);
      mkdirSync(join(h.root, 'var/lib/phx-lab'), { recursive: true });
      writeFileSync(join(h.root, 'var/lib/phx-lab/faults.json'), JSON.stringify(faults, null, 2) + '\n');
      // a late guest agent means a VM that just booted: restart the running VMs' clocks
      if (faults.guestAgentDelaySeconds) rebootVms(h.root);
      if (faults.refuseConnections) await stopHost(dir, h.name);
      else await startHost(dir, h, publicKey, persistent, isCluster);
    },
    async stop() {
      await Promise.all(hosts.map((h) => stopHost(dir, h.name)));
    },
  };

  // seed new hosts; write known_hosts (host keys are kept across down/up) and the inventory
  if (cluster) mkdirSync(cluster.pveDir, { recursive: true });
  for (const h of hosts) if (!existsSync(join(h.root, 'etc/pve'))) seed(h);
  if (cluster)
    syncClusterTree(
      cluster.pveDir,
      hosts.map((h) => ({ node: h.name, hostDir: hostDirOf(dir, h.name), root: h.root })),
      cluster.nodes,
    );
  writeInventory(lab, inventoryFile);
  return { lab, publicKey };
}

/** Starts (or resumes) a lab of `hosts` hosts; already running hosts stay as they are. */
export async function startLab(opts: LabOptions & { hosts: number }): Promise<Lab> {
  const { lab, publicKey } = await open(opts);
  await Promise.all(
    lab.hosts.map((h) => startHost(lab.dir, h, publicKey, opts.persistent === true, lab.cluster !== null)),
  );
  const lines: string[] = [];
  for (const h of lab.hosts) {
    const pub = join(hostDirOf(lab.dir, h.name), 'sshd', 'ssh_host_ed25519_key.pub');
    if (existsSync(pub))
      lines.push(`[127.0.0.1]:${h.port} ${readFileSync(pub, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}`);
  }
  writeFileSync(lab.knownHostsFile, lines.join('\n') + '\n');
  return lab;
}

/** The cluster of the lab in `dir` (name and members), or null for a standalone lab. */
export function labClusterOf(dir: string): { name: string; nodes: string[] } | null {
  return readConfig(resolve(dir))?.cluster ?? null;
}

export function labStatus(dir: string): HostStatus[] {
  const config = readConfig(resolve(dir));
  return (config?.hosts ?? []).map((h) => {
    const pid = runningPid(resolve(dir), h.name);
    return { name: h.name, port: h.port, pid, up: pid !== null };
  });
}
