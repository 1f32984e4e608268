// The lines of an OpenSSH authorized_keys file as ansible.posix's authorized_key
// module reads, edits and writes them (plugins/modules/authorized_key.py:
// parseoptions, parsekey, parsekeys, serialize, enforce_state). Pure: text in,
// text out. Ansible's quirks are kept where they shape the file (a key is
// known by its base64 blob; identical comment or invalid lines are written
// once; options compare as a dict), and fixed where they would corrupt it or
// never converge (below, "deviation").
import { keyOptionsProblem } from '../encode/key-options.js';

/** parsekey's VALID_SSH2_KEY_TYPES */
export const KEY_TYPES: readonly string[] = [
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'ssh-ed25519',
  'ssh-dss',
  'ssh-rsa',
];

/** Options in their order; a name may come twice (Ansible's `keydict`). null: a flag without `=`. */
export type KeyOptions = [string, string | null][];

/** A key line, or a line kept as it is (comment, blank, invalid: Ansible's 'skipped'). */
export type KeyEntry =
  | { kind: 'key'; blob: string; type: string; options: KeyOptions; comment: string; rank: number }
  | { kind: 'kept'; text: string; rank: number };

/** Python's str.splitlines(keepends): the line boundaries Ansible splits `key` and the file on. */
export function pythonSplitLines(text: string, keepEnds = false): string[] {
  const out: string[] = [];
  // eslint-disable-next-line no-control-regex -- Python's line boundaries include \x1c-\x1e
  const re = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push(text.slice(start, keepEnds ? m.index + m[0].length : m.index));
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** shlex.shlex with whitespace_split, no quotes, no commenters (non-POSIX): words between blanks. */
function words(line: string): string[] {
  return line.split(/[ \t\r\n]+/).filter((w) => w !== '');
}

/** parseoptions: split on commas outside "…" and '…'; `name=value` or a flag. */
export function parseOptions(options: string | null | undefined): KeyOptions {
  const out: KeyOptions = [];
  if (!options) return out;
  const parts = options.split(/((?:[^,"']|"[^"]*"|'[^']*')+)/).slice(1, -1);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq >= 0) out.push([part.slice(0, eq), part.slice(eq + 1)]);
    else if (part !== ',') out.push([part, null]);
  }
  return out;
}

/** parsekey: options, type, blob, comment of one line; null when the line holds no key. */
export function parseKey(raw: string, rank: number): KeyEntry | null {
  const line = raw.replaceAll('\\#', '#');
  const parts = words(line);
  if (parts[0] === '#') return { kind: 'kept', text: line, rank };
  const typeIndex = parts.findIndex((p) => KEY_TYPES.includes(p));
  // deviation: a type with nothing after it is an invalid line (Ansible's IndexError ends the module)
  if (typeIndex < 0 || typeIndex + 1 >= parts.length) return null;
  return {
    kind: 'key',
    blob: parts[typeIndex + 1],
    type: parts[typeIndex],
    options: parseOptions(typeIndex > 0 ? parts.slice(0, typeIndex).join(' ') : null),
    comment: parts.slice(typeIndex + 2).join(' '),
    rank,
  };
}

/** The identity Ansible files an entry under: a key's blob, a kept line's text. */
const idOf = (e: KeyEntry) => (e.kind === 'key' ? e.blob : e.text);

/** parsekeys: the file's entries by identity, in Python dict order (a later duplicate takes the first's place). */
export function parseKeys(content: string): Map<string, KeyEntry> {
  const keys = new Map<string, KeyEntry>();
  pythonSplitLines(content, true).forEach((line, rank) => {
    const e = parseKey(line, rank) ?? { kind: 'kept', text: line, rank };
    keys.set(idOf(e), e);
  });
  return keys;
}

/** Python dict equality of two keydicts: the same names, each with the same values in order. */
function sameOptions(a: KeyOptions, b: KeyOptions): boolean {
  const group = (o: KeyOptions) => {
    const m = new Map<string, (string | null)[]>();
    for (const [k, v] of o) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const [ga, gb] = [group(a), group(b)];
  if (ga.size !== gb.size) return false;
  for (const [k, va] of ga) {
    const vb = gb.get(k);
    if (!vb || vb.length !== va.length || va.some((v, i) => v !== vb[i])) return false;
  }
  return true;
}

function sameKey(a: KeyEntry, b: KeyEntry): boolean {
  if (a.kind !== 'key' || b.kind !== 'key') return a.kind === b.kind && idOf(a) === idOf(b);
  return a.blob === b.blob && a.type === b.type && a.comment === b.comment && sameOptions(a.options, b.options);
}

/** One key's line as serialize writes it. */
export function keyLine(e: Extract<KeyEntry, { kind: 'key' }>): string {
  const opts = e.options.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(',');
  return `${opts ? `${opts} ` : ''}${e.type} ${e.blob} ${e.comment}\n`;
}

/** serialize: the entries by rank (stable: dict order among equal ranks). */
export function serializeKeys(keys: Map<string, KeyEntry>): string {
  const ordered = [...keys.values()].sort((a, b) => a.rank - b.rank);
  const lines = ordered.map((e) => (e.kind === 'key' ? keyLine(e) : e.text));
  // deviation: a kept last line without its newline would have the next key glued to it (commented out)
  return lines.map((l, i) => (i < lines.length - 1 && !/[\n\r]$/.test(l) ? `${l}\n` : l)).join('');
}

export interface KeyRequest {
  /** the `key` argument: one key per line; blank lines and lines starting with # are ignored */
  key: string;
  keyOptions?: string;
  comment?: string;
  state: 'present' | 'absent';
  exclusive: boolean;
}

export type EnforceResult = { changed: boolean; content: string } | { invalid: string };

/**
 * enforce_state on the file's text: the text it writes, and whether it writes
 * (Ansible's `changed` is "it writes", even when the text comes out the same).
 */
export function enforceKeys(existingContent: string, r: KeyRequest): EnforceResult {
  // the encoder's check again where the value is printed: a value that got past the schema is still refused
  if (r.keyOptions !== undefined && keyOptionsProblem(r.keyOptions)) return { invalid: r.keyOptions };
  const newKeys = pythonSplitLines(r.key).filter((s) => s !== '' && !s.startsWith('#'));
  const existing = parseKeys(existingContent);
  const maxRank = existing.size;
  const toExist = new Set<string>();
  let write = false;
  for (const [rankIndex, line] of newKeys.entries()) {
    let parsed = parseKey(line, rankIndex);
    if (!parsed || parsed.kind !== 'key') return { invalid: line };
    if (r.keyOptions !== undefined) parsed = { ...parsed, options: parseOptions(r.keyOptions) };
    if (r.comment !== undefined) parsed = { ...parsed, comment: r.comment };
    // deviation: the key as it reads back from the file (runs of blanks in a comment or a
    // quoted option are one blank there), so that a second run finds it unchanged
    const reread = parseKey(keyLine(parsed), rankIndex);
    if (reread?.kind === 'key' && reread.blob === parsed.blob && reread.type === parsed.type) parsed = reread;
    const current = existing.get(parsed.blob);
    const matched = current !== undefined && (r.state !== 'present' || sameKey(parsed, current));
    if (r.state === 'present') {
      toExist.add(parsed.blob);
      if (current !== undefined && !matched) {
        existing.delete(parsed.blob);
        write = true;
      }
      if (!matched) {
        existing.set(parsed.blob, { ...parsed, rank: maxRank + parsed.rank });
        write = true;
      }
    } else if (matched) {
      existing.delete(parsed.blob);
      write = true;
    }
  }
  if (r.state === 'present' && r.exclusive) {
    for (const id of [...existing.keys()]) {
      if (toExist.has(id)) continue;
      existing.delete(id);
      write = true;
    }
  }
  return { changed: write, content: write ? serializeKeys(existing) : existingContent };
}
