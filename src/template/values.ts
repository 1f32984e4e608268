// Value semantics shared by templates and conditions: safe member access (own
// data only, never the JS prototype machinery), the "undefined" marker that
// `default` and `is defined` can see, equality, truthiness and conversions.
// An UnsafeText (src/unsafe.ts) is a string here: same length, items, truth
// and comparisons; what is read out of it stays unsafe.
import { UnsafeText, plain } from '../unsafe.js';

/** Names that reach JS internals; never readable from a template or expression. */
const BLOCKED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A failure inside rendering/evaluation; `pos` is a position inside the source text. */
export class EvalFailure extends Error {
  constructor(
    message: string,
    /** line is 1-based, column 0-based, relative to the template/expression text */
    readonly pos?: { line: number; column: number },
    /** `pos` is already in the text as written (not in the rewritten Handlebars source) */
    readonly original = false,
    /** it failed on an undefined variable: `is defined` and `default` take that as undefined */
    readonly undefinedVar = false,
  ) {
    super(message);
    this.name = 'EvalFailure';
  }
}

/** What a lookup of a missing variable or key yields: usable only by `default`, `is defined`, ... */
export class Undefined {
  constructor(
    /** the variable path as written, e.g. `a.b` */
    readonly name: string,
    /** why it is undefined when that is not obvious, e.g. "'a' has no key 'b'" */
    readonly reason?: string,
  ) {}

  message(): string {
    return `undefined variable '${this.name}'${this.reason ? ` (${this.reason})` : ''}`;
  }
}

export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}

export function checkKeyAllowed(key: string | number): void {
  if (typeof key === 'string' && BLOCKED_KEYS.has(key)) {
    throw new EvalFailure(`access to '${key}' is not allowed`);
  }
}

/** A lookup table without Object.prototype behind it: `'constructor' in t` is false. */
export function table<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries);
}

const MISSING = Symbol('missing');
export type Missing = typeof MISSING;
export { MISSING };

function isIndexKey(key: string | number): number | undefined {
  if (typeof key === 'number') return Number.isInteger(key) ? key : undefined;
  return /^-?\d+$/.test(key) ? Number(key) : undefined;
}

/**
 * Reads `obj[key]` the way a playbook means it: list items by (possibly
 * negative, when `negativeIndex`) index, mapping keys that the data itself has
 * (walking a chain of plain layered objects, but never into Object.prototype),
 * `length` of lists and strings. Anything else is MISSING.
 */
export function getMember(obj: unknown, key: string | number, negativeIndex = false): unknown {
  checkKeyAllowed(key);
  if (obj instanceof UnsafeText) {
    const v = getMember(obj.text, key, negativeIndex);
    return typeof v === 'string' ? new UnsafeText(v) : v;
  }
  if (obj === null || obj === undefined) return MISSING;
  if (Array.isArray(obj) || typeof obj === 'string') {
    const i = isIndexKey(key);
    if (i !== undefined) {
      const at = i < 0 && negativeIndex ? obj.length + i : i;
      return at >= 0 && at < obj.length && obj[at] !== undefined ? obj[at] : MISSING;
    }
    if (key === 'length') return obj.length;
    return MISSING;
  }
  if (typeof obj !== 'object') return MISSING;
  // A JS `undefined` value counts as not defined, as it would in a playbook.
  if (obj instanceof Map) return obj.get(key) ?? (obj.has(key) && obj.get(key) === null ? null : MISSING);
  const k = String(key);
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    if (Object.prototype.hasOwnProperty.call(o, k)) {
      const v = (o as Record<string, unknown>)[k];
      return v === undefined ? MISSING : v;
    }
  }
  return MISSING;
}

/** Own enumerable keys of a mapping, including layered (prototype-chained) plain objects. */
export function mappingKeys(obj: object): string[] {
  if (obj instanceof Map) return [...obj.keys()].map(String);
  const keys = new Set<string>();
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.keys(o)) keys.add(k);
  }
  return [...keys];
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return (
    v !== null &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Undefined) &&
    !(v instanceof UnsafeText) &&
    !Buffer.isBuffer(v)
  );
}

/**
 * Python/Jinja truthiness, for conditions (`when`, `{{#if}}`, and/or/not, the
 * `truthy` test): empty string/list/mapping, 0, None, false are false; the
 * string 'false' is true. A boolean keyword's value is read by toBool instead.
 */
export function truthy(value: unknown): boolean {
  const v = plain(value);
  if (v instanceof Undefined) throw new EvalFailure(v.message(), undefined, false, true);
  if (v === null || v === undefined || v === false) return false;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return mappingKeys(v).length > 0;
  return true;
}

/**
 * Ansible's boolean(): the `bool` filter, and the boolean keywords (become,
 * ignore_errors, no_log, check_mode, …) once rendered. yes/on/1/true/y/t (any
 * case, trimmed), true and the number 1 are true; everything else is false.
 */
export function toBool(value: unknown): boolean {
  const v = plain(value);
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  if (typeof v === 'number') return v === 1;
  if (typeof v === 'string') return ['yes', 'on', '1', 'true', 'y', 't'].includes(v.trim().toLowerCase());
  return false;
}

/** Jinja's `int` filter: a number or numeric string, truncated; `fallback` for anything else. */
export function toInt(value: unknown, fallback = 0, base = 10): number {
  const v = plain(value);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : fallback;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (base === 10) {
      if (/^[-+]?\d+$/.test(s)) return Number.parseInt(s, 10);
      if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Math.trunc(Number(s));
      return fallback;
    }
    const digits = s.replace(/^([-+]?)0[xob]/i, '$1');
    const n = Number.parseInt(digits, base);
    return Number.isNaN(n) ? fallback : n;
  }
  return fallback;
}

export function toFloat(value: unknown, fallback = 0): number {
  const v = plain(value);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.trim());
    return Number.isNaN(n) ? fallback : n;
  }
  return fallback;
}

/** Structural equality, with Python's numeric view of booleans (True == 1). */
export function deepEqual(x: unknown, y: unknown): boolean {
  const [a, b] = [plain(x), plain(y)];
  if (a === b) return true;
  const na = typeof a === 'boolean' ? Number(a) : a;
  const nb = typeof b === 'boolean' ? Number(b) : b;
  if (typeof na === 'number' && typeof nb === 'number') return na === nb;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const ka = mappingKeys(a);
    const kb = mappingKeys(b);
    return ka.length === kb.length && ka.every((k) => kb.includes(k) && deepEqual(getMember(a, k), getMember(b, k)));
  }
  return false;
}

/** A short type name for messages, in the playbook's vocabulary. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (v instanceof Undefined) return 'undefined';
  if (v instanceof UnsafeText) return 'string';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

/** JSON of a value as a template shows it (objects never become "[object Object]"). */
export function toJson(v: unknown, indent?: number): string {
  try {
    return (
      JSON.stringify(
        v,
        (_k, x: unknown) =>
          x instanceof Map ? Object.fromEntries(x as Map<PropertyKey, unknown>) : typeof x === 'bigint' ? Number(x) : x,
        indent,
      ) ?? 'null'
    );
  } catch (e) {
    throw new EvalFailure(`cannot show this value as JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** How a value reads when interpolated into a larger template string. */
export function toTemplateString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (v instanceof UnsafeText) return v.text;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return toJson(v);
}

/** Python's str(), as Jinja's `~` and `string` see values. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return toTemplateString(v);
}
