// `qm` — the seeded VM(s): power state in /var/lib/phx-lab/vm/<id>/state.json, a
// guest agent that answers guestAgentDelaySeconds after start, and
// `qm guest exec` running the command inside the VM's root directory (with the
// simulated docker on its PATH), printing qm's pretty JSON.
import { existsSync, readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import {
  SimError,
  out,
  err,
  hostPath,
  nodeName,
  readText,
  readJson,
  writeJson,
  STATE_DIR,
  faults,
  withLock,
  SIM_DIR,
} from './env.js';
import { agentEnabled } from '../../src/proxmox/qm-agent.js';
import { parsePveArgs, parsePveArgsExpecting, needArgs, unknownOption } from './pve-args.js';
import { runIsolated, systemBinds, type Bind } from './isolate.js';

interface VmState {
  running: boolean;
  startedAt: number;
}
export const vmDir = (id: string) => `${STATE_DIR}/vm/${id}`;
const confPath = (id: string) => `/etc/pve/nodes/${nodeName()}/qemu-server/${id}.conf`;
/** Where a guest sees the hypervisor's filesystem (the NFS server side of the lab). */
export const HYPERVISOR_IN_GUEST = '/run/phx-lab/hypervisor';

function readConf(id: string, rc = 2): Record<string, string> {
  const text = readText(confPath(id));
  if (text === null)
    throw new SimError(`Configuration file 'nodes/${nodeName()}/qemu-server/${id}.conf' does not exist`, rc);
  const conf: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (/^\[/.test(line)) break;
    const m = /^([a-z][\w-]*):\s*(.*)$/.exec(line);
    if (m) conf[m[1]] = m[2];
  }
  return conf;
}

export function vmState(id: string): VmState {
  return readJson<VmState>(`${vmDir(id)}/state.json`, { running: false, startedAt: 0 });
}

function setVmState(id: string, running: boolean): void {
  writeJson(`${vmDir(id)}/state.json`, { running, startedAt: running ? Date.now() : 0 });
}

/** Services of the guest come up with it (markers read by the guest's systemctl). */
export function startGuestUnits(id: string): void {
  const units = hostPath(`${vmDir(id)}/rootfs/run/phx-lab/units`);
  rmSync(units, { recursive: true, force: true });
  mkdirSync(units, { recursive: true });
  for (const u of GUEST_UNITS) writeFileSync(`${units}/${u}`, `${Date.now()}\n`);
}
export const GUEST_UNITS = ['docker', 'containerd', 'qemu-guest-agent', 'ssh', 'cron'];

/** Perl JSON->pretty->canonical: 3-space indent, `"key" : value`, sorted keys. */
export function perlPrettyJson(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj).sort();
  if (keys.length === 0) return '{}\n';
  return `{\n${keys.map((k) => `   ${JSON.stringify(k)} : ${JSON.stringify(obj[k])}`).join(',\n')}\n}\n`;
}

export function qm(args: string[]): number | Promise<number> {
  const [cmd, ...rest] = args;
  switch (cmd) {
    case 'status':
      return status(rest);
    case 'start':
      return power(rest, true);
    case 'stop':
    case 'shutdown':
      return power(rest, false);
    case 'reboot': {
      power(rest, false);
      return power(rest, true);
    }
    case 'list':
      return list();
    case 'config': {
      const p = parsePveArgs(rest);
      needArgs(p, 1);
      const conf = readConf(p.positional[0]);
      out(
        Object.keys(conf)
          .sort()
          .map((k) => `${k}: ${conf[k]}\n`)
          .join(''),
      );
      return 0;
    }
    case 'guest':
      if (rest[0] === 'exec') return guestExec(rest.slice(1));
      if (rest[0] === 'cmd') return guestCmd(rest.slice(1));
      throw new SimError(`unknown command 'qm guest ${rest[0] ?? ''}'`, 255);
    case 'agent':
      return guestCmd(rest);
    default:
      throw new SimError(`unknown command 'qm ${cmd ?? ''}'\nUSAGE: qm <COMMAND> [ARGS] [OPTIONS]`, 255);
  }
}

function status(args: string[]): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  const conf = readConf(id);
  const st = vmState(id);
  if (!p.options.some(([k, v]) => k === 'verbose' && v === '1')) {
    out(`status: ${st.running ? 'running' : 'stopped'}\n`);
    return 0;
  }
  const info: Record<string, string> = {
    agent: agentEnabled(conf.agent) ? '1' : '0',
    cpus: conf.cores ?? '1',
    maxmem: String(Number(conf.memory ?? 2048) * 1024 * 1024),
    name: conf.name ?? `VM${id}`,
    qmpstatus: st.running ? 'running' : 'stopped',
    status: st.running ? 'running' : 'stopped',
    uptime: st.running ? String(Math.floor((Date.now() - st.startedAt) / 1000)) : '0',
    vmid: id,
  };
  out(
    Object.keys(info)
      .sort()
      .map((k) => `${k}: ${info[k]}\n`)
      .join(''),
  );
  return 0;
}

function power(args: string[], on: boolean): number {
  const p = parsePveArgsExpecting(args, 1);
  const [id] = p.positional;
  return withLock(() => {
    readConf(id, 255);
    const st = vmState(id);
    if (on && st.running) throw new SimError(`VM ${id} already running`, 255);
    if (st.running !== on) setVmState(id, on);
    if (on && !st.running) startGuestUnits(id);
    return 0;
  });
}

function list(): number {
  let ids: string[] = [];
  try {
    ids = readdirSync(hostPath(`/etc/pve/nodes/${nodeName()}/qemu-server`))
      .filter((f) => /^\d+\.conf$/.test(f))
      .map((f) => f.slice(0, -5))
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    /* none */
  }
  if (ids.length === 0) return 0;
  let text = `${'VMID'.padStart(10)} ${'NAME'.padEnd(20)} ${'STATUS'.padEnd(10)} ${'MEM(MB)'.padEnd(10)} ${'BOOTDISK(GB)'.padStart(12)} ${'PID'.padEnd(10)}\n`;
  for (const id of ids) {
    const c = readConf(id);
    const st = vmState(id);
    text += `${id.padStart(10)} ${(c.name ?? `VM${id}`).padEnd(20)} ${(st.running ? 'running' : 'stopped').padEnd(10)} ${(c.memory ?? '2048').padEnd(10)} ${'32.00'.padStart(12)} ${(st.running ? String(200000 + Number(id)) : '0').padEnd(10)}\n`;
  }
  out(text);
  return 0;
}

/**
 * The checks qm does before talking to the agent (qemu-server
 * PVE/QemuServer/Agent.pm, assert_agent_available): the key must be defined,
 * the VM running, and guest-ping must answer — which it never does for a
 * disabled agent (`agent: 0`), as QEMU then has no agent socket.
 * rc: a Perl die without errno, 255.
 */
function agentReady(id: string): void {
  const conf = readConf(id);
  const enabled = agentEnabled(conf.agent);
  if (enabled === undefined) throw new SimError('No QEMU guest agent configured', 255);
  const st = vmState(id);
  if (!st.running) throw new SimError(`VM ${id} is not running`, 255);
  if (!enabled || Date.now() - st.startedAt < (faults().guestAgentDelaySeconds ?? 0) * 1000)
    throw new SimError('QEMU guest agent is not running', 255);
}

function guestCmd(args: string[]): number {
  const [id, command] = args;
  if (!id || !command) throw new SimError('400 not enough arguments', 255);
  agentReady(id);
  if (command === 'ping') return 0;
  if (command === 'get-osinfo') {
    out(perlPrettyJson({ id: 'debian', name: 'Debian GNU/Linux', 'version-id': '12' }));
    return 0;
  }
  throw new SimError(
    `400 Parameter verification failed.\ncommand: value '${command}' does not have a value in the enumeration`,
    255,
  );
}

/** The root of this package (the sim's node_modules and package.json live there). */
export function packageRoot(): string {
  return resolve(SIM_DIR, '../../..');
}

function guestBinds(id: string): Bind[] {
  const binds = systemBinds();
  binds.push({ src: hostPath('/'), dst: HYPERVISOR_IN_GUEST, recursive: true });
  const pkg = packageRoot();
  if (!pkg.startsWith('/usr/')) binds.push({ src: pkg, dst: pkg, ro: true });
  // node itself, when installed outside /usr (nvm, a tarball under /opt …)
  const nodePrefix = resolve(dirname(process.execPath), '..');
  if (!nodePrefix.startsWith('/usr') && nodePrefix !== '/' && !pkg.startsWith(nodePrefix + '/'))
    binds.push({ src: nodePrefix, dst: nodePrefix, ro: true });
  // the guest's tools (docker) first in PATH; /usr/local/sbin, not …/bin, which may hold node
  const vmBin = process.env.PHX_LAB_VM_BIN;
  if (vmBin) binds.push({ src: vmBin, dst: '/usr/local/sbin' });
  void id;
  return binds;
}

function guestHasBinary(rootfs: string, name: string): boolean {
  const vmBin = process.env.PHX_LAB_VM_BIN;
  if (name.startsWith('/usr/local/sbin/')) return Boolean(vmBin) && existsSync(`${vmBin}/${name.slice(16)}`);
  if (/^\/(usr|bin|sbin)\//.test(name)) return existsSync(name); // the guest's /usr is the machine's
  if (name.includes('/')) return existsSync(rootfs + name);
  if (vmBin && existsSync(`${vmBin}/${name}`)) return true;
  return ['/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(`${d}/${name}`));
}

async function guestExec(args: string[]): Promise<number> {
  const p = parsePveArgs(args);
  const id = p.positional[0];
  if (!id) throw new SimError('400 not enough arguments', 255);
  let timeout = 30;
  let passStdin = false;
  let synchronous = true;
  for (const [k, v] of p.options) {
    if (k === 'timeout') timeout = Number(v);
    else if (k === 'pass-stdin') passStdin = v === '1';
    else if (k === 'synchronous') synchronous = v !== '0';
    else unknownOption(k);
  }
  const argv = [...p.positional.slice(1), ...(p.trailing ?? [])];
  agentReady(id);
  if (argv.length === 0) throw new SimError(`VM ${id} qga command 'guest-exec' failed - Guest exec: missing path`, 255);
  const rootfs = hostPath(`${vmDir(id)}/rootfs`);
  if (!guestHasBinary(rootfs, argv[0]))
    throw new SimError(
      `VM ${id} qga command 'guest-exec' failed - Failed to execute child process “${argv[0]}” (No such file or directory)`.replace(
        /[“”]/g,
        '"',
      ),
      255,
    );
  const stdin = passStdin ? readFileSync(0) : Buffer.alloc(0);
  if (!synchronous) {
    // started in the background: qm returns the pid at once (the lab does not keep it running)
    out(perlPrettyJson({ pid: process.pid }));
    return 0;
  }
  const r = await runIsolated({
    rootfs,
    binds: guestBinds(id),
    idmap: null,
    argv,
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      PHX_LAB_GUEST: `vm${id}`,
    },
    stdin,
    capture: true,
    timeoutMs: timeout * 1000,
  });
  if (r.timedOut) {
    err('timeout reached, returning pid\n');
    out(perlPrettyJson({ pid: r.pid }));
    return 0;
  }
  const result: Record<string, unknown> = { exited: 1 };
  if (r.signal) result.signal = r.signal === 'SIGKILL' ? 9 : 15;
  else result.exitcode = r.rc;
  if (r.stdout.length) result['out-data'] = r.stdout.toString('utf8');
  if (r.stderr.length) result['err-data'] = r.stderr.toString('utf8');
  out(perlPrettyJson(result));
  return 0;
}
