// YAML loading that remembers where every value came from, so validation
// errors can point at file:line:col. Values are plain JS (objects, arrays,
// scalars); `locate(obj, key?)` returns the position of an object or of one
// of its keys/items. YAML 1.1, as Ansible reads it: `yes`/`no` are booleans, `0644` is octal.
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  isAlias,
  LineCounter,
  parseAllDocuments,
  type Node,
  type Document,
  type ScalarTag,
  type Tags,
} from 'yaml';
import { PhxError, ValidationErrors, type SourceLoc } from './errors.js';
import { UnsafeText, markUnsafe } from './unsafe.js';
import { isVaultText } from './vault/format.js';
import { decryptVaultText, VaultDecryptError } from './vault/keyring.js';
import { markSecretData, registerSecretText } from './vault/secrecy.js';

interface Positions {
  self: SourceLoc;
  /** key (object) or index (array) → where that key / item starts */
  children: Map<string | number, SourceLoc>;
  /** key → where that key's value starts */
  values: Map<string | number, SourceLoc>;
}

const positions = new WeakMap<object, Positions>();
/** every file read, for showing the offending line */
const sources = new Map<string, string>();

export function locate(value: unknown, key?: string | number): SourceLoc | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const p = positions.get(value);
  if (!p) return undefined;
  if (key === undefined) return p.self;
  return p.children.get(key) ?? p.self;
}

/** Position of the value under `key` (rather than the key itself). */
export function locateValue(value: unknown, key: string | number): SourceLoc | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const p = positions.get(value);
  return p?.values.get(key) ?? p?.children.get(key) ?? p?.self;
}

/** A copy made of a loaded mapping (some keys left out) answers `locate` as the original does. */
export function sharePositions(copy: object, original: object): void {
  const p = positions.get(original);
  if (p) positions.set(copy, p);
}

/** The text of the line a location points at, if the file was loaded here. */
export function sourceLine(loc: SourceLoc): string | undefined {
  const text = sources.get(loc.file);
  return text?.split('\n')[loc.line - 1];
}

export function registerSource(file: string, text: string): void {
  sources.set(file, text);
}

export interface LoadOptions {
  /** allow a file holding several documents (returns all of them) */
  multi?: boolean;
}

/** Parses one YAML file's text; throws ValidationErrors with locations. */
export function parseYaml(text: string, file: string): unknown {
  const docs = parseYamlDocuments(text, file);
  if (docs.length > 1) throw new PhxError('expected one YAML document, found several', { file, line: 1, col: 1 });
  return docs[0] ?? null;
}

export function parseYamlDocuments(text: string, file: string): unknown[] {
  if (isVaultText(text)) {
    // a vaulted file: its lines are never shown in an error, every string in it is a secret
    const docs = parseDocuments(decryptedText(text, { file, line: 1, col: 1 }), file);
    markSecretData(docs);
    return docs;
  }
  registerSource(file, text);
  return parseDocuments(text, file);
}

/** The plaintext of vault text read at `loc`, as UTF-8; a wrong password or bad data is a located error. */
function decryptedText(vaultText: string, loc: SourceLoc): string {
  let bytes: Buffer;
  try {
    bytes = decryptVaultText(vaultText).plaintext;
  } catch (e) {
    if (e instanceof VaultDecryptError) throw new PhxError(e.message, loc);
    throw e;
  }
  if (!isUtf8(bytes)) throw new PhxError('the decrypted vault data is not UTF-8 text', loc);
  return bytes.toString('utf8');
}

function parseDocuments(text: string, file: string): unknown[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter: lc,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    version: '1.1',
    customTags: (tags) => [...asAnsibleReadsIt(tags), UNSAFE_TAG, VAULT_TAG],
  });
  if (!Array.isArray(docs)) return [];
  const at = (offset: number): SourceLoc => {
    const { line, col } = lc.linePos(offset);
    return { file, line, col };
  };
  const errors: PhxError[] = [];
  for (const d of docs)
    for (const e of d.errors) errors.push(new PhxError(`YAML: ${firstLine(e.message)}`, at(e.pos[0])));
  if (errors.length) throw new ValidationErrors(errors);
  return docs.map((d) => {
    const budget: AliasBudget = { expanded: 0, insideAlias: 0, sizes: new Map() };
    return convert(d.contents, d, at, budget);
  });
}

/**
 * How many values aliases may expand to in one document. The loader copies what
 * an alias points at (positions are per copy), so an alias bomb (billion laughs:
 * 9 levels of 9 aliases each) would take gigabytes; real playbooks stay far below.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

interface AliasBudget {
  /** values copied through aliases so far in this document */
  expanded: number;
  /** how many aliases the value being converted is inside of */
  insideAlias: number;
  /** node → how many values it expands to (aliases counted through); -1 while being counted */
  sizes: Map<Node, number>;
}

/** How many values `node` becomes once its aliases are expanded; Infinity for an alias to its own ancestor. */
function expandedSize(node: Node | null | undefined, doc: Document, budget: AliasBudget): number {
  if (node == null) return 1;
  const known = budget.sizes.get(node);
  if (known !== undefined) return known === -1 ? Infinity : known;
  budget.sizes.set(node, -1);
  let size = 1;
  if (isAlias(node)) size = expandedSize(node.resolve(doc), doc, budget);
  else if (isMap(node))
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      size += expandedSize(pair.key as Node | null, doc, budget) + expandedSize(pair.value as Node | null, doc, budget);
      if (size > MAX_ALIAS_EXPANSION) break; // enough to refuse; do not walk the rest of a bomb
    }
  else if (isSeq(node))
    for (const item of node.items) {
      size += expandedSize(item as Node, doc, budget);
      if (size > MAX_ALIAS_EXPANSION) break;
    }
  budget.sizes.set(node, size);
  return size;
}

/**
 * A file's text, decoded strictly: invalid UTF-8 is a located error rather than
 * silently U+FFFD. Read errors are thrown as they are (with their `code`).
 */
export function readTextFile(path: string): string {
  const bytes = readFileSync(path);
  if (!isUtf8(bytes)) throw invalidUtf8(bytes, path);
  return bytes.toString('utf8');
}

/** Names the first invalid UTF-8 sequence of `bytes`: line, column (in characters), byte offset. */
function invalidUtf8(bytes: Buffer, file: string): PhxError {
  const decodesSoFar = (n: number) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  // the longest prefix without an error yet (a character cut at its end is not an error when streaming)
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (decodesSoFar(mid)) lo = mid;
    else hi = mid - 1;
  }
  // the bad sequence starts at the lead byte of the character the prefix ends inside, if it does
  let start = lo;
  if (!isUtf8(bytes.subarray(0, lo))) {
    while (start > 0 && (bytes[start - 1] & 0xc0) === 0x80) start--;
    start--;
  }
  const lines = bytes.subarray(0, start).toString('utf8').split('\n');
  const loc: SourceLoc = { file, line: lines.length, col: lines[lines.length - 1].length + 1 };
  const hex = [...bytes.subarray(start, Math.max(lo + 1, start + 1))].map((b) => b.toString(16).padStart(2, '0'));
  return new PhxError(`invalid UTF-8 (bytes ${hex.join(' ')} at offset ${start}): the file must be UTF-8 text`, loc);
}

export function loadYamlFile(path: string): unknown {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (e) {
    if (e instanceof PhxError) throw e;
    throw new PhxError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseYaml(text, path);
}

// PyYAML (what Ansible uses) reads YAML 1.1 without `y`/`n` as booleans and
// without timestamps turned into dates; so do we.
const PYYAML_TRUE = /^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/;
const PYYAML_FALSE = /^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/;
function asAnsibleReadsIt(tags: Tags): Tags {
  return tags
    .filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp')
    .map((t) => {
      if (typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:bool' || !('test' in t) || !t.test) return t;
      return { ...t, test: t.test.test('true') ? PYYAML_TRUE : PYYAML_FALSE };
    });
}

// Ansible's `!unsafe`: the text is data, never rendered as a template (on a list or mapping: all the text in it).
const UNSAFE_TAG: ScalarTag = { tag: '!unsafe', resolve: (text: string) => new UnsafeText(text) };
const unsafeIfTagged = <T>(node: Node, value: T): T => (node.tag === UNSAFE_TAG.tag ? markUnsafe(value) : value);

// Ansible's `!vault |` value: vault text decrypted when the file is read (with its position for errors)
class VaultedScalar {
  constructor(readonly text: string) {}
}
const VAULT_TAG: ScalarTag = { tag: '!vault', resolve: (text: string) => new VaultedScalar(text) };

function decryptedScalar(value: VaultedScalar, loc: SourceLoc): string {
  const text = decryptedText(value.text, loc);
  registerSecretText(text);
  return text;
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

function convert(
  node: Node | null | undefined,
  doc: Document,
  at: (o: number) => SourceLoc,
  budget: AliasBudget,
): unknown {
  if (node == null) return null;
  if (isAlias(node)) {
    const size = expandedSize(node, doc, budget);
    const where = at(node.range?.[0] ?? 0);
    if (size === Infinity)
      throw new PhxError(`YAML: the alias *${node.source} refers to a node that contains it (endless value)`, where);
    // size counts the aliases inside the target too: only the outermost alias adds to the budget
    if (budget.insideAlias === 0) budget.expanded += size;
    if (budget.expanded > MAX_ALIAS_EXPANSION)
      throw new PhxError(
        `YAML: aliases expand to more than ${MAX_ALIAS_EXPANSION} values (an alias bomb?); refusing to load`,
        where,
      );
    budget.insideAlias++;
    try {
      return convert(node.resolve(doc), doc, at, budget);
    } finally {
      budget.insideAlias--;
    }
  }
  if (isScalar(node))
    return node.value instanceof VaultedScalar ? decryptedScalar(node.value, at(node.range?.[0] ?? 0)) : node.value;
  if (isMap(node)) {
    const obj: Record<string, unknown> = {};
    const p: Positions = { self: at(node.range?.[0] ?? 0), children: new Map(), values: new Map() };
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      // with `merge: true` the yaml library reads a plain `<<` key as a Symbol
      const key = isScalar(keyNode)
        ? typeof keyNode.value === 'symbol'
          ? '<<'
          : String(keyNode.value)
        : String(convert(keyNode, doc, at, budget));
      if (key === '<<') {
        // merge key: copy the merged mappings' entries that are not set here
        const src = convert(pair.value as Node, doc, at, budget);
        const merged: unknown[] = Array.isArray(src) ? src : [src];
        for (const m of merged) {
          if (m && typeof m === 'object') for (const [k, v] of Object.entries(m)) if (!(k in obj)) obj[k] = v;
        }
        continue;
      }
      obj[key] = convert(pair.value as Node | null, doc, at, budget);
      if (keyNode?.range) p.children.set(key, at(keyNode.range[0]));
      const vr = (pair.value as Node | null)?.range;
      if (vr) p.values.set(key, at(vr[0]));
    }
    positions.set(obj, p);
    return unsafeIfTagged(node, obj);
  }
  if (isSeq(node)) {
    const arr: unknown[] = [];
    const p: Positions = { self: at(node.range?.[0] ?? 0), children: new Map(), values: new Map() };
    node.items.forEach((item, i) => {
      arr.push(convert(item as Node, doc, at, budget));
      const r = (item as Node | null)?.range;
      if (r) p.children.set(i, at(r[0]));
    });
    positions.set(arr, p);
    return unsafeIfTagged(node, arr);
  }
  return (node as { toJSON?: () => unknown }).toJSON?.() ?? null;
}
