// Connection variables are ordinary variables, but a wrong one (a port of
// 99999, `ansible_connection: winrm`) should stop the run before it starts,
// pointing at the line that set it. Templated values are checked when used.
import { PhxError, type SourceLoc } from '../errors.js';
import { plain } from '../unsafe.js';

const CONNECTIONS: Record<string, 'local' | 'ssh' | 'pct'> = {
  local: 'local',
  ssh: 'ssh',
  pct: 'pct',
  paramiko: 'ssh',
  paramiko_ssh: 'ssh',
  smart: 'ssh',
  'ansible.builtin.local': 'local',
  'ansible.builtin.ssh': 'ssh',
  'ansible.builtin.paramiko_ssh': 'ssh',
};

const BOOLEAN_WORDS = new Set(['yes', 'no', 'true', 'false', 'on', 'off', '1', '0', 'y', 'n', 't', 'f']);

const isTemplated = (v: unknown): boolean => typeof v === 'string' && v.includes('{{');

/** Throws a located PhxError when a connection variable has an impossible value. */
export function checkConnectionVar(key: string, written: unknown, loc?: SourceLoc): void {
  const value = plain(written); // a `!unsafe` password is a string
  if (value === null || value === undefined || isTemplated(value)) return;
  switch (key) {
    case 'ansible_port':
    case 'ansible_ssh_port': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && /^\d+$/.test(value.trim())
            ? Number(value)
            : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 65535) {
        throw new PhxError(`${key} must be an integer from 1 to 65535, got ${JSON.stringify(value)}`, loc);
      }
      return;
    }
    case 'ansible_connection':
      if (typeof value !== 'string' || !(value in CONNECTIONS)) {
        throw new PhxError(
          `${key} must be 'local', 'ssh' or 'pct' (paramiko means ssh), got ${JSON.stringify(value)}`,
          loc,
        );
      }
      return;
    case 'pct_vmid':
      if (pctVmid(value) === undefined)
        throw new PhxError(`${key} must be a container id from 100 to 999999999, got ${JSON.stringify(value)}`, loc);
      return;
    case 'ansible_become':
      if (
        typeof value !== 'boolean' &&
        !(typeof value === 'string' && BOOLEAN_WORDS.has(value.toLowerCase())) &&
        value !== 0 &&
        value !== 1
      ) {
        throw new PhxError(`${key} must be a boolean (true/false, yes/no), got ${JSON.stringify(value)}`, loc);
      }
      return;
    case 'ansible_host':
    case 'ansible_user':
    case 'ansible_become_user':
    case 'ansible_ssh_private_key_file':
    case 'ansible_private_key_file':
    case 'ansible_password':
    case 'ansible_become_password':
      if (typeof value === 'object' || typeof value === 'boolean') {
        throw new PhxError(
          `${key} must be a string, got ${Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : JSON.stringify(value)}`,
          loc,
        );
      }
      return;
  }
}

/** A CT id as pve-vmid accepts it (PVE::JSONSchema's pve-vmid: 100 to 999999999), or undefined. */
export function pctVmid(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^[1-9]\d{2,8}$/.test(text)) return undefined;
  return Number(text);
}

/** The connection plugin a value names, in the three kinds phx-play has ('paramiko' → 'ssh'). */
export function normalizeConnection(value: unknown): unknown {
  return typeof value === 'string' && value in CONNECTIONS ? CONNECTIONS[value] : value;
}

export function checkConnectionVars(
  vars: Record<string, unknown>,
  locOf: (key: string) => SourceLoc | undefined,
): void {
  for (const [k, v] of Object.entries(vars)) checkConnectionVar(k, v, locOf(k));
}
