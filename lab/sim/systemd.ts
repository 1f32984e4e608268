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
  appendFileSync(p, `${new Date().toISOString()} ${action} ${unit}\n`);
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
  const flags = args.filter((a) => a.startsWith('-'));
  const rest = args.filter((a) => !a.startsWith('-'));
  const quiet = flags.includes('--quiet') || flags.includes('-q');
  const [verb, ...names] = rest;
  if (!verb) throw new SimError('Too few arguments.', 1);
  if (verb === 'daemon-reload') return 0;
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
            if (!quiet) out(u.enabled ? 'enabled\n' : 'disabled\n');
            if (!u.enabled) rc = 1;
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
        case 'show': {
          const props = args
            .find((a) => a.startsWith('--property='))
            ?.slice(11)
            .split(',');
          const all: Record<string, string> = {
            Id: `${name}.service`,
            ActiveState: u?.active ? 'active' : 'inactive',
            SubState: u?.active ? 'running' : 'dead',
            LoadState: u ? 'loaded' : 'not-found',
            UnitFileState: u ? (u.enabled ? 'enabled' : 'disabled') : '',
          };
          for (const [k, v] of Object.entries(all)) if (!props || props.includes(k)) out(`${k}=${v}\n`);
          break;
        }
        default:
          throw new SimError(`Unknown command verb ${verb}.`, 1);
      }
    }
    return rc;
  });
}
