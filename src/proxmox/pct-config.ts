// Parsing of `pct config` / `/etc/pve/lxc/<id>.conf`, `pct pending`, and
// Proxmox property strings (`local:8,mp=/data,backup=1`), plus the rules that
// decide whether two values mean the same thing.

/**
 * A CT's config file on this node (/etc/pve/lxc is pmxcfs's link to nodes/<this node>/lxc, the
 * file `pct config` loads: PVE::LXC::Config->load_config → cfs_config_path with this node).
 */
export const ctConfPath = (ctid: number) => `/etc/pve/lxc/${ctid}.conf`;

export interface LxcEntry {
  key: string; // e.g. lxc.idmap
  value: string; // e.g. u 0 100000 65536
}

export interface PctConfig {
  /** `key: value` entries (description decoded), pending values not applied */
  keys: Record<string, string>;
  /** raw `lxc.*` entries in file order */
  lxc: LxcEntry[];
  /** `[pve:pending]` section of the on-disk file (pct config output merges it instead) */
  pending?: Record<string, string>;
  /** keys a pending `delete:` would remove */
  pendingDelete?: string[];
}

/** Decodes PVE's %XX escapes (description: control characters, `%`, `:`, non-ASCII bytes as UTF-8). */
export function decodePercent(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length;) {
    const m = /^%([0-9A-Fa-f]{2})/.exec(value.slice(i, i + 3));
    if (m) {
      bytes.push(parseInt(m[1], 16));
      i += 3;
    } else {
      const cp = value.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Parses `pct config <id>` output or a .conf file. `#` lines are the description
 * (file form); `[pve:pending]` is kept apart; `[snapshot]` sections are skipped.
 */
export function parsePctConfig(text: string): PctConfig {
  const cfg: PctConfig = { keys: {}, lxc: [] };
  let section: 'main' | 'pending' | 'snapshot' = 'main';
  const descLines: string[] = [];
  const pendingDesc: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const sec = /^\[([^\]]+)\]\s*$/.exec(line);
    if (sec) {
      section = sec[1] === 'pve:pending' ? 'pending' : 'snapshot';
      if (section === 'pending') cfg.pending ??= {};
      continue;
    }
    if (section === 'snapshot') continue;
    if (line.startsWith('#')) {
      // parse_pct_config: `#` lines are the description of the section they are in (pending too)
      if (section === 'main') descLines.push(decodePercent(line.slice(1)));
      else if (section === 'pending') pendingDesc.push(decodePercent(line.slice(1)));
      continue;
    }
    const lxc = /^(lxc\.[A-Za-z0-9_.]+)\s*(?::|=)\s?(.*)$/.exec(line);
    if (lxc) {
      if (section === 'main') cfg.lxc.push({ key: lxc[1], value: lxc[2].trim() });
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9_-]*):\s?(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, rawValue] = kv;
    const value = key === 'description' ? decodePercent(rawValue) : rawValue.trim();
    if (section === 'pending') {
      if (key === 'delete')
        cfg.pendingDelete = value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      else cfg.pending![key] = value;
    } else cfg.keys[key] = value;
  }
  if (descLines.length > 0 && cfg.keys.description === undefined) cfg.keys.description = descLines.join('\n');
  if (pendingDesc.length > 0 && cfg.pending && cfg.pending.description === undefined)
    cfg.pending.description = pendingDesc.join('\n');
  return cfg;
}

/**
 * The config as `pct config` shows it (pending values merged in, pending deletes
 * applied) from the on-disk form with its [pve:pending] section.
 */
export function effectiveConfig(file: PctConfig): PctConfig {
  const keys = { ...file.keys, ...(file.pending ?? {}) };
  for (const k of file.pendingDelete ?? []) delete keys[k];
  return { keys, lxc: [...file.lxc] };
}

/** `pct pending`'s view of the on-disk form: keys with a new value or a pending delete. */
export function pendingFromFile(file: PctConfig): PendingEntry[] {
  const out: PendingEntry[] = [];
  for (const [k, v] of Object.entries(file.pending ?? {}))
    out.push({ key: k, ...(file.keys[k] !== undefined ? { cur: file.keys[k] } : {}), new: v });
  for (const k of file.pendingDelete ?? []) out.push({ key: k, del: file.keys[k] ?? '' });
  return out;
}

export interface PendingEntry {
  key: string;
  cur?: string;
  new?: string;
  del?: string;
}

/** Parses `pct pending <id>`: `cur k: v`, `new k: v`, `del k: v` lines. */
export function parsePctPending(text: string): PendingEntry[] {
  const byKey = new Map<string, PendingEntry>();
  for (const line of text.split('\n')) {
    const m = /^(cur|new|del)\s+([A-Za-z0-9_.-]+):\s?(.*)$/.exec(line.replace(/\r$/, ''));
    if (!m) continue;
    const [, kind, key, value] = m;
    const e = byKey.get(key) ?? { key };
    e[kind as 'cur' | 'new' | 'del'] = key === 'description' ? decodePercent(value) : value;
    byKey.set(key, e);
  }
  return [...byKey.values()];
}

/** Keys that `pct pending` shows as waiting for the next start. */
export function pendingKeys(entries: readonly PendingEntry[]): string[] {
  return entries.filter((e) => e.new !== undefined || e.del !== undefined).map((e) => e.key);
}

export interface PropertyString {
  /** the leading value without `=` (mpN/rootfs volume), if any */
  volume?: string;
  props: Record<string, string>;
}

/** `local-zfs:subvol-105-disk-1,mp=/data,backup=1` → {volume, props}. */
export function parsePropertyString(s: string, volumeKey = 'volume'): PropertyString {
  const out: PropertyString = { props: {} };
  for (const part of s.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (out.volume === undefined) out.volume = part;
      else out.props[part] = '1';
      continue;
    }
    const k = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (k === volumeKey && out.volume === undefined) out.volume = v;
    else out.props[k] = v;
  }
  return out;
}

/** Builds a property string the way PVE writes it: volume, then mp, then the rest sorted. */
export function formatPropertyString(p: PropertyString): string {
  const keys = Object.keys(p.props).sort((a, b) => (a === 'mp' ? -1 : b === 'mp' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return [...(p.volume !== undefined ? [p.volume] : []), ...keys.map((k) => `${k}=${p.props[k]}`)].join(',');
}

/** Keys PVE fills in by itself; an actual value having them while the wanted one does not is no difference. */
const GENERATED_KEYS = new Set(['hwaddr', 'type', 'size']);

const BOOL_WORDS: Record<string, string> = { true: '1', yes: '1', on: '1', false: '0', no: '0', off: '0' };

function normaliseValue(v: string): string {
  return BOOL_WORDS[v.toLowerCase()] ?? v;
}

/** A volume given as `storage:<GiB>` asks PVE to allocate a new one. */
export function isAllocation(volume: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*:\d+(\.\d+)?$/.test(volume);
}

/**
 * Whether the property string `have` already is what `want` asks for. Compared
 * as key/value sets: order does not matter, `1`/`true` agree, keys PVE generates
 * (hwaddr, type, size) may be extra. A wanted `storage:8` allocation matches a
 * volume on that storage.
 */
export function propertyStringsMatch(want: string, have: string): boolean {
  const w = parsePropertyString(want);
  const h = parsePropertyString(have);
  if (w.volume !== undefined) {
    if (h.volume === undefined) return false;
    if (isAllocation(w.volume)) {
      if (w.volume.split(':')[0] !== h.volume.split(':')[0]) return false;
    } else if (w.volume !== h.volume) return false;
  } else if (h.volume !== undefined) return false;
  for (const [k, v] of Object.entries(w.props)) {
    if (h.props[k] === undefined || normaliseValue(h.props[k]) !== normaliseValue(v)) return false;
  }
  for (const k of Object.keys(h.props)) {
    if (w.props[k] === undefined && !GENERATED_KEYS.has(k)) return false;
  }
  return true;
}

/** Keys whose value is a property string (compared as sets). */
export function isPropertyStringKey(key: string): boolean {
  return /^(mp\d+|net\d+|rootfs|features|dev\d+|startup)$/.test(key);
}

/** Whether a plain (non property string) value matches: `1`/`true`, numbers, description without trailing newline. */
export function plainValuesMatch(key: string, want: string, have: string | undefined): boolean {
  if (have === undefined) return false;
  if (key === 'description') return want.replace(/\n+$/, '') === have.replace(/\n+$/, '');
  // LXC::Config::update_pct_config stores nameserver/searchdomain through verify_nameserver_list /
  // verify_searchdomain_list (split_list, joined by one space)
  if (key === 'nameserver' || key === 'searchdomain') return splitList(want).join(' ') === splitList(have).join(' ');
  if (key === 'tags') {
    // GuestHelpers::get_unique_tags: split_list, lower-cased unless datacenter tag-style is
    // case-sensitive, unique, sorted unless ordering=config, joined by `;`: compare as sets
    const set = (v: string) => [...new Set(splitList(v).map((t) => t.toLowerCase()))].sort().join(';');
    return set(want) === set(have);
  }
  // numbers as Perl prints them (cpulimit 1.0 → 1)
  if (NUMBER.test(want) && NUMBER.test(have)) return Number(want) === Number(have);
  return normaliseValue(want) === normaliseValue(have);
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** PVE::ParseUtils::split_list: `,` and `;` count as spaces; split on whitespace. */
export function splitList(v: string): string[] {
  return v.replace(/[,;]/g, ' ').split(/\s+/).filter(Boolean);
}

export function valuesMatch(key: string, want: string, have: string | undefined): boolean {
  if (have === undefined) return false;
  return isPropertyStringKey(key) ? propertyStringsMatch(want, have) : plainValuesMatch(key, want, have);
}

export interface MountPoint {
  /** mp0 … mp255 */
  key: string;
  index: number;
  /** the container path (mp=) */
  path: string;
  volume: string;
  value: string;
}

/** The config's mount points, by index. */
export function mountPoints(cfg: PctConfig): MountPoint[] {
  const out: MountPoint[] = [];
  for (const [key, value] of Object.entries(cfg.keys)) {
    const m = /^mp(\d+)$/.exec(key);
    if (!m) continue;
    const p = parsePropertyString(value);
    out.push({ key, index: Number(m[1]), path: p.props.mp ?? '', volume: p.volume ?? '', value });
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Container paths compare without a trailing slash. */
export function samePath(a: string, b: string): boolean {
  const n = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  return n(a) === n(b);
}

export const MAX_MP_INDEX = 255;

/** Lowest mpN index not in `used`. */
export function lowestFreeMpIndex(used: ReadonlySet<number>): number | undefined {
  for (let i = 0; i <= MAX_MP_INDEX; i++) if (!used.has(i)) return i;
  return undefined;
}

/** Keys that apply to a running CT at once or are hot-plugged (spec §1); others wait for a restart. */
const IMMEDIATE_KEYS = new Set([
  'description',
  'onboot',
  'startup',
  'protection',
  'hostname',
  'hookscript',
  'cores',
  'tags',
]);
const HOTPLUG_KEYS = new Set(['cpulimit', 'cpuunits', 'memory', 'swap']);

/**
 * Whether `pct set <key>` on a running CT stays pending until the next start.
 * `isNew`: the key (mpN/devN) did not exist before: new mount points are hot-plugged.
 */
export function setStaysPending(key: string, isNew: boolean): boolean {
  if (IMMEDIATE_KEYS.has(key) || HOTPLUG_KEYS.has(key) || /^net\d+$/.test(key)) return false;
  if (/^(mp|dev)\d+$/.test(key)) return !isNew;
  return true;
}

/** Encodes a CT status line: `status: running`. */
export function parsePctStatus(text: string): string {
  const m = /status:\s*(\S+)/.exec(text);
  return m ? m[1] : 'unknown';
}

/** The "missing CT" error text of every pct read. */
export function isMissingCt(stderr: string): boolean {
  return /Configuration file '[^']*' does not exist/i.test(stderr) || /does not exist/i.test(stderr);
}
