// known_hosts checking as OpenSSH does it: plain and hashed (|1|salt|hash) host
// fields, `[host]:port` for ports other than 22, comma lists with `*`, `?` and
// `!` patterns, @revoked keys. A key is accepted only when a line vouches for it.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  file: string;
  line: number;
  marker?: '@revoked' | '@cert-authority';
  hosts: string; // the raw host field
  keyType: string;
  keyBlob: Buffer;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypes: KnownHostEntry[] }
  | { status: 'changed'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry };

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** "SHA256:..." as `ssh-keygen -l` prints it: base64 without padding. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name at the start of an SSH public key blob. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

export function parseKnownHosts(text: string, file: string, onNote?: (msg: string) => void): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m !== '@revoked' && m !== '@cert-authority') {
        onNote?.(`${file}:${i + 1}: unknown marker ${m}, line ignored`);
        continue;
      }
      marker = m;
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, b64] = fields;
    const keyBlob = Buffer.from(b64, 'base64');
    if (keyBlob.length === 0) continue;
    if (marker === '@cert-authority') {
      onNote?.(
        `${file}:${i + 1}: @cert-authority entries are not supported (host certificates are not checked); line ignored`,
      );
      continue;
    }
    out.push({ file, line: i + 1, marker, hosts, keyType, keyBlob });
  }
  return out;
}

/** OpenSSH's match_pattern: `*` any run, `?` one character, case-insensitive for host names. */
function globMatch(text: string, pattern: string): boolean {
  const t = text.toLowerCase();
  const p = pattern.toLowerCase();
  // iterative glob with backtracking on the last `*`
  let ti = 0;
  let pi = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      ti++;
      pi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** A comma list of patterns: a negated match wins and means no; otherwise any positive match. */
export function matchPatternList(name: string, list: string): boolean {
  let matched = false;
  for (const pat of list.split(',')) {
    if (pat === '') continue;
    if (pat.startsWith('!')) {
      if (globMatch(name, pat.slice(1))) return false;
    } else if (globMatch(name, pat)) matched = true;
  }
  return matched;
}

function hashedMatch(name: string, field: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && got.equals(want);
}

export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.startsWith('|')) return hashedMatch(name, entry.hosts);
  return matchPatternList(name, entry.hosts);
}

/** A file's entries and what parsing it had to say, and the text they were parsed from. */
interface ParsedFile {
  text: string;
  entries: KnownHostEntry[];
  notes: string[];
}

// Every connection reads the same files: each is read every time (so our own accept-new appends,
// or anyone's edits, are seen), parsed again only when its text changed.
const parsedFiles = new Map<string, ParsedFile>();

function parsedFile(file: string): Omit<ParsedFile, 'text'> | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    parsedFiles.delete(file);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { entries: [], notes: [`cannot read ${file}: ${(e as Error).message}`] };
  }
  const cached = parsedFiles.get(file);
  if (cached?.text === text) return cached;
  const notes: string[] = [];
  const entries = parseKnownHosts(text, file, (n) => notes.push(n));
  parsedFiles.set(file, { text, entries, notes });
  return { entries, notes };
}

export function readKnownHosts(files: readonly string[], onNote?: (msg: string) => void): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const file of files) {
    const parsed = parsedFile(file);
    if (!parsed) continue;
    for (const n of parsed.notes) onNote?.(n);
    all.push(...parsed.entries);
  }
  return Promise.resolve(all);
}

/** Key types known for a name, so the handshake can prefer them as OpenSSH does. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types: string[] = [];
  for (const e of entries)
    if (!e.marker && entryMatchesHost(e, name) && !types.includes(e.keyType)) types.push(e.keyType);
  return types;
}

export function checkHostKey(entries: readonly KnownHostEntry[], name: string, keyBlob: Buffer): HostKeyVerdict {
  const type = keyTypeOf(keyBlob);
  // A revoked key is refused wherever it shows up, whatever host field the line has.
  const revoked = entries.find((e) => e.marker === '@revoked' && e.keyBlob.equals(keyBlob));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => !e.marker && entryMatchesHost(e, name));
  const same = forHost.find((e) => e.keyBlob.equals(keyBlob));
  if (same) return { status: 'known', entry: same };
  const sameType = forHost.find((e) => e.keyType === type);
  if (sameType) return { status: 'changed', entry: sameType };
  return { status: 'unknown', otherTypes: forHost };
}

// Appends are serialised per file inside this process, so ten hosts accepted
// at once write ten whole lines. Each line is one O_APPEND write.
const appendQueues = new Map<string, Promise<unknown>>();

export function appendKnownHost(file: string, name: string, keyBlob: Buffer): Promise<void> {
  const line = `${name} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}\n`;
  const prev = appendQueues.get(file) ?? Promise.resolve();
  const next = prev
    .catch(() => undefined)
    .then(async () => {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      let existing = '';
      try {
        existing = await readFile(file, 'utf8');
      } catch {
        // a new file
      }
      // another connection of this run may have added the same key meanwhile
      const already = parseKnownHosts(existing, file).some(
        (e) => !e.marker && e.keyBlob.equals(keyBlob) && entryMatchesHost(e, name),
      );
      if (already) return;
      const sep = existing !== '' && !existing.endsWith('\n') ? '\n' : '';
      await appendFile(file, sep + line, { mode: 0o600 });
    });
  appendQueues.set(file, next);
  return next;
}
