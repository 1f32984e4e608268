// The [OPTIONS] of a pve-firewall file (proxmox/pve-firewall src/PVE/Firewall.pm): the keys a guest's file
// and cluster.fw take ($vm_option_properties, $cluster_option_properties: what the API lets one set), and
// how parse_vmfw_option / parse_clusterfw_option read a `key: value` line (key case-insensitive, blanks
// around the value ignored, booleans 0|1, policies in capitals, log levels in lower case).
import type { FwFileKind } from './fw-rule.js';
import { LOG_LEVELS } from './fw-rule.js';

export type FwOptionType = 'bool' | 'policy' | 'forward-policy' | 'loglevel' | 'ratelimit';

/** $vm_option_properties. */
export const GUEST_OPTIONS: Readonly<Record<string, FwOptionType>> = {
  enable: 'bool',
  dhcp: 'bool',
  ndp: 'bool',
  radv: 'bool',
  macfilter: 'bool',
  ipfilter: 'bool',
  policy_in: 'policy',
  policy_out: 'policy',
  log_level_in: 'loglevel',
  log_level_out: 'loglevel',
};

/** $cluster_option_properties. */
export const CLUSTER_OPTIONS: Readonly<Record<string, FwOptionType>> = {
  enable: 'bool',
  ebtables: 'bool',
  policy_in: 'policy',
  policy_out: 'policy',
  policy_forward: 'forward-policy',
  log_ratelimit: 'ratelimit',
};

export const optionsOf = (kind: FwFileKind) => (kind === 'guest' ? GUEST_OPTIONS : CLUSTER_OPTIONS);

const LEVELS = LOG_LEVELS.join('|');

/**
 * A `key: value` line of [OPTIONS] (trimmed) as the file's parser reads it: the key lower-cased and the value
 * in the form pve-firewall keeps; `value: undefined` when the parser would refuse the line ("can't parse
 * option", which it then ignores). Undefined when the line is no `key:` line at all.
 */
export function parseFwOptionLine(text: string, kind: FwFileKind): { key: string; value?: string } | undefined {
  const m = /^([A-Za-z_0-9]+):\s*(.*)$/.exec(text);
  if (!m) return undefined;
  const key = m[1].toLowerCase();
  const raw = m[2].replace(/\s+$/, '');
  const type = optionsOf(kind)[key];
  let value: string | undefined;
  if (kind === 'cluster' && key === 'enable') {
    // parse_clusterfw_option: any number (a time stamp while the GUI waits for a confirmation)
    if (/^\d+$/.test(raw)) value = String(Number(raw));
  } else if (type === 'bool') {
    if (/^[01]$/.test(raw)) value = raw;
  } else if (type === 'policy') {
    if (/^(ACCEPT|DROP|REJECT)$/i.test(raw)) value = raw.toUpperCase();
  } else if (type === 'forward-policy') {
    // parse_clusterfw_option takes REJECT too; the API's enum does not
    if (/^(ACCEPT|DROP|REJECT)$/i.test(raw)) value = raw.toUpperCase();
  } else if (type === 'loglevel') {
    if (raw === '' || new RegExp(`^(${LEVELS})$`, 'i').test(raw)) value = raw.toLowerCase();
  } else if (type === 'ratelimit') {
    if (/^\S+$/.test(raw)) value = raw;
  }
  return { key, value };
}

/** log_ratelimit's property string as a map (enable is its default key), booleans as 0/1, for comparing. */
export function ratelimitMap(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? ['enable', part] : [part.slice(0, eq), part.slice(eq + 1)];
    out[k] = k === 'enable' ? (/^(1|true|yes|on)$/i.test(v) ? '1' : '0') : v;
  }
  return out;
}

/** Whether two values of option `key` mean the same to pve-firewall. */
export function sameOptionValue(key: string, kind: FwFileKind, a: string, b: string): boolean {
  if (optionsOf(kind)[key] !== 'ratelimit') return a === b;
  const [x, y] = [ratelimitMap(a), ratelimitMap(b)];
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  return [...keys].every((k) => x[k] === y[k]);
}
