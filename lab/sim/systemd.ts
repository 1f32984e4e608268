// Simulated systemd units of a hypervisor: which services are active and since
// when (the NFS readiness delay counts from the last (re)start), plus a journal
// of actions (tests and post-renewal hooks check what was reloaded).
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readJson, writeJson, hostPath, STATE_DIR, withLock, SimError, out, err } from './env.js';

interface UnitState {
  active: boolean;
  since: number;
  enabled: boolean;
  /** `systemctl mask`: /etc/systemd/system/<unit>.service → /dev/null */
  masked?: boolean;
  /** masked without a unit file (systemctl masks any name) */
  noUnitFile?: boolean;
}
type Units = Record<string, UnitState>;

const DESCRIPTIONS: Record<string, string> = {
  'nfs-server': 'NFS server and services',
  rpcbind: 'RPC bind portmap service',
  pveproxy: 'PVE API Proxy Server',
  pvedaemon: 'PVE API Daemon',
  'pve-cluster': 'The Proxmox VE cluster filesystem',
  ssh: 'OpenBSD Secure Shell server',
  cron: 'Regular background program processing daemon',
  'zfs-zed': 'ZFS Event Daemon (zed)',
  nginx: 'A high performance web server and a reverse proxy server',
  docker: 'Docker Application Container Engine',
};
const ALIASES: Record<string, string> = { 'nfs-kernel-server': 'nfs-server', sshd: 'ssh' };
const UNITS_FILE = `${STATE_DIR}/systemd.json`;
export const JOURNAL_FILE = `${STATE_DIR}/systemctl.log`;

/** The seeded set: everything a PVE node runs; nfs-server installed but stopped. */
export function seedUnits(now = Date.now()): Units {
  const u: Units = {};
  for (const name of ['rpcbind', 'pveproxy', 'pvedaemon', 'pve-cluster', 'ssh', 'cron', 'zfs-zed'])
    u[name] = { active: true, since: now, enabled: true };
  u['nfs-server'] = { active: false, since: 0, enabled: false };
  return u;
}

export function unitName(arg: string): string {
  const base = arg.replace(/\.service$/, '');
  return ALIASES[base] ?? base;
}

export function readUnits(): Units {
  return readJson<Units>(UNITS_FILE, seedUnits());
}

export function unitState(name: string): UnitState | undefined {
  return readUnits()[unitName(name)];
}

function journal(action: string, unit: string): void {
  const p = hostPath(JOURNAL_FILE);
  mkdirSync(dirname(p), { recursive: true });
  appendFileSync(p, `${new Date().toISOString()} ${action}${unit ? ` ${unit}` : ''}\n`);
}

/** Hooks run when a unit (re)starts or stops, e.g. nfs-server re-exports. */
const onStart: Record<string, () => void> = {};
const onStop: Record<string, () => void> = {};
export function registerUnitHooks(unit: string, start: () => void, stop: () => void): void {
  onStart[unit] = start;
  onStop[unit] = stop;
}

function fmtTime(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  return `${days[d.getUTCDay()]} ${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function systemctl(args: string[]): number {
  const flags: string[] = [];
  const rest: string[] = [];
  const props: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-p' || a === '--property') props.push(...(args[++i] ?? '').split(','));
    else if (a.startsWith('--property=')) props.push(...a.slice(11).split(','));
    else if (/^-p./.test(a)) props.push(...a.slice(2).split(','));
    else if (a.startsWith('-')) flags.push(a);
    else rest.push(a);
  }
  const quiet = flags.includes('--quiet') || flags.includes('-q');
  const [verb, ...names] = rest;
  if (!verb) throw new SimError('Too few arguments.', 1);
  if (verb === 'daemon-reload') {
    journal(verb, ''); // so a test sees that it ran: it changes nothing here
    return 0;
  }
  if (names.length === 0) throw new SimError('Too few arguments.', 1);

  return withLock(() => {
    const units = readUnits();
    let rc = 0;
    const save = () => writeJson(UNITS_FILE, units);
    for (const arg of names) {
      const name = unitName(arg);
      const svc = `${arg.replace(/\.service$/, '')}.service`;
      const u = units[name];
      switch (verb) {
        case 'is-active':
          if (!quiet) out(u?.active ? 'active\n' : 'inactive\n');
          if (!u?.active) rc = 3;
          break;
        case 'is-enabled':
          if (!u) {
            err(`Failed to get unit file state for ${svc}: No such file or directory\n`);
            rc = 1;
          } else {
            const state = u.masked ? 'masked' : u.enabled ? 'enabled' : 'disabled';
            if (!quiet) out(`${state}\n`);
            if (state !== 'enabled') rc = 1;
          }
          break;
        case 'is-failed':
          if (!quiet) out(u?.active ? 'active\n' : 'inactive\n');
          rc = 1;
          break;
        case 'status':
          if (!u) {
            err(`Unit ${svc} could not be found.\n`);
            rc = 4;
            break;
          }
          out(
            `${u.active ? '●' : '○'} ${name}.service - ${DESCRIPTIONS[name] ?? name}\n` +
              `     Loaded: loaded (/lib/systemd/system/${name}.service; ${u.enabled ? 'enabled' : 'disabled'}; preset: enabled)\n` +
              (u.active
                ? `     Active: active (running) since ${fmtTime(u.since)}; ${Math.round((Date.now() - u.since) / 1000)}s ago\n`
                : `     Active: inactive (dead)\n`),
          );
          if (!u.active) rc = 3;
          break;
        case 'start':
        case 'stop':
        case 'restart':
        case 'reload':
        case 'reload-or-restart':
        case 'try-restart':
        case 'try-reload-or-restart': {
          if (!u) {
            err(`Failed to ${verb} ${svc}: Unit ${svc} not found.\n`);
            rc = 5;
            break;
          }
          if (u.masked && verb !== 'stop') {
            err(`Failed to ${verb} ${svc}: Unit ${svc} is masked.\n`);
            rc = 1;
            break;
          }
          if (verb === 'reload' && !u.active) {
            err(`${svc} is not active, cannot reload.\n`);
            rc = 1;
            break;
          }
          if (verb.startsWith('try-') && !u.active) break;
          if (verb === 'stop') {
            if (u.active) onStop[name]?.();
            u.active = false;
          } else if (verb === 'start') {
            if (!u.active) {
              u.active = true;
              u.since = Date.now();
              onStart[name]?.();
            }
          } else if (verb === 'reload' || (verb.includes('reload') && u.active)) {
            onStart[name]?.(); // a reload re-reads config (nfs-server: exportfs -r) but keeps running
          } else {
            if (u.active) onStop[name]?.();
            u.active = true;
            u.since = Date.now();
            onStart[name]?.();
          }
          journal(verb, name);
          save();
          break;
        }
        case 'enable':
        case 'disable':
          if (!u) {
            err(`Failed to ${verb} unit: Unit file ${svc} does not exist.\n`);
            rc = 1;
            break;
          }
          if (verb === 'enable' && u.masked) {
            err(`Failed to enable unit: Unit file /etc/systemd/system/${name}.service is masked.\n`);
            rc = 1;
            break;
          }
          if (u.enabled !== (verb === 'enable'))
            err(
              verb === 'enable'
                ? `Created symlink /etc/systemd/system/multi-user.target.wants/${name}.service → /lib/systemd/system/${name}.service.\n`
                : `Removed "/etc/systemd/system/multi-user.target.wants/${name}.service".\n`,
            );
          u.enabled = verb === 'enable';
          if (flags.includes('--now')) {
            if (verb === 'enable' && !u.active) {
              u.active = true;
              u.since = Date.now();
              onStart[name]?.();
            } else if (verb === 'disable' && u.active) {
              onStop[name]?.();
              u.active = false;
            }
          }
          journal(verb, name);
          save();
          break;
        case 'mask':
        case 'unmask':
          // a unit that is not installed can be masked too (the link is made all the same)
          if (verb === 'mask' && !u?.masked) err(`Created symlink /etc/systemd/system/${name}.service → /dev/null.\n`);
          if (verb === 'unmask' && u?.masked) err(`Removed "/etc/systemd/system/${name}.service".\n`);
          if (u) u.masked = verb === 'mask';
          else if (verb === 'mask')
            units[name] = { active: false, since: 0, enabled: false, masked: true, noUnitFile: true };
          if (verb === 'unmask' && u?.noUnitFile) delete units[name];
          journal(verb, name);
          save();
          break;
        case 'show': {
          const orphan = u?.noUnitFile === true;
          const all: Record<string, string> = {
            Id: `${name}.service`,
            Names: `${name}.service`,
            LoadState: u?.masked ? 'masked' : u && !orphan ? 'loaded' : 'not-found',
            ActiveState: u?.active ? 'active' : 'inactive',
            SubState: u?.active ? 'running' : 'dead',
            UnitFileState: u?.masked ? 'masked' : u && !orphan ? (u.enabled ? 'enabled' : 'disabled') : '',
            FragmentPath: u && !u.masked && !orphan ? `/lib/systemd/system/${name}.service` : '',
          };
          for (const [k, v] of Object.entries(all)) if (props.length === 0 || props.includes(k)) out(`${k}=${v}\n`);
          break;
        }
        default:
          throw new SimError(`Unknown command verb ${verb}.`, 1);
      }
    }
    return rc;
  });
}
