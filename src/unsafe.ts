// Text that must never be rendered as a template (Ansible's `!unsafe` /
// AnsibleUnsafe): what hosts print (registered results), what lookups read
// (env, files), `-e @file` contents and `!unsafe` YAML strings.
//
// JS strings cannot carry a flag, so such text is an `UnsafeText` object. The
// renderer and the evaluator only ever render *strings*: an UnsafeText that
// reaches a place that forgot about it is shown as text (toString, toJSON),
// never evaluated. It is unwrapped to a plain string only where a value leaves
// as data: module arguments sent to a host, connection settings, output.
//
//   markUnsafe({ stdout: '{{ x }}' })   → { stdout: UnsafeText('{{ x }}') } (a copy; containers marked)
//   unwrapUnsafe(that)                  → { stdout: '{{ x }}' }
//   withPlainInputs([a, b], fn)         → fn on plain inputs; its result marked when an input was unsafe

export class UnsafeText {
  // a private field: generic walkers (Object.entries, spreads) see no data to render
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  get text(): string {
    return this.#text;
  }

  toString(): string {
    return this.#text;
  }

  toJSON(): string {
    return this.#text;
  }
}

export function isUnsafeText(value: unknown): value is UnsafeText {
  return value instanceof UnsafeText;
}

/** The plain value at the top level: an UnsafeText's string, anything else as it is. */
export function plain(value: unknown): unknown {
  return value instanceof UnsafeText ? value.text : value;
}

// Lists and mappings that hold unsafe data: walkers (lazy vars, renderDeep)
// skip them, and what is read out of them is unsafe too. Keys cannot be
// UnsafeText, so this is what keeps a host-chosen key from being rendered.
const unsafeContainers = new WeakSet<object>();

export function isUnsafeContainer(value: unknown): boolean {
  return value !== null && typeof value === 'object' && unsafeContainers.has(value);
}

/** A value read out of unsafe data is unsafe: strings wrapped, lists/mappings marked (in place). */
export function taintChild(value: unknown): unknown {
  if (typeof value === 'string') return new UnsafeText(value);
  if (value !== null && typeof value === 'object' && !(value instanceof UnsafeText)) unsafeContainers.add(value);
  return value;
}

// Deeper than any host result or playbook value: past it a copy stops and the
// container is only marked (reads out of it are still tainted by taintChild).
const MAX_DEPTH = 200;

function isList(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

/** Plain data mappings (YAML/JSON objects, layered vars): not class instances, Buffers, Maps or UnsafeText. */
function isPlainMapping(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (let p = Object.getPrototypeOf(v) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    if (p === Object.prototype) return true;
    if (Object.prototype.hasOwnProperty.call(p, 'constructor')) return false; // a class instance
  }
  return true;
}

/** Own and layered (prototype-chained) enumerable keys, as templates see them. */
function keysOf(obj: object): string[] {
  const keys = new Set<string>();
  for (let o: object | null = obj; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.keys(o)) keys.add(k);
  }
  return [...keys];
}

/** Sets a key of a new plain object: by assignment (twice as fast), but `__proto__` as a key, not the prototype. */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * A copy of `value` with every string inside it (list items, mapping values,
 * nested) an UnsafeText, and every list/mapping marked unsafe. Shared parts stay
 * shared (no blow-up on aliased data). Numbers, booleans, null stay as they are.
 */
export function markUnsafe<T>(value: T): T {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return new UnsafeText(v);
    if (v === null || typeof v !== 'object' || v instanceof UnsafeText) return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (depth > MAX_DEPTH || (!isList(v) && !isPlainMapping(v))) return taintChild(v);
    if (isList(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const item of v) out.push(walk(item, depth + 1));
      unsafeContainers.add(out);
      return out;
    }
    const out: Record<string, unknown> = {};
    seen.set(v, out);
    for (const k of keysOf(v)) setKey(out, k, walk(v[k], depth + 1));
    unsafeContainers.add(out);
    return out;
  };
  return walk(value, 0) as T;
}

/** Does `value` hold unsafe data anywhere (an UnsafeText, or a marked list/mapping)? */
export function containsUnsafe(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false; // most calls: a string or number
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (v instanceof UnsafeText || unsafeContainers.has(v)) return true;
    if (seen.has(v) || depth > MAX_DEPTH) return false;
    seen.add(v);
    if (isList(v)) return v.some((item) => walk(item, depth + 1));
    if (isPlainMapping(v)) return keysOf(v).some((k) => walk(v[k], depth + 1));
    return false;
  };
  return walk(value, 0);
}

/**
 * Plain data for where a value leaves (module arguments, connection settings):
 * every UnsafeText becomes its string. Parts without one keep their identity.
 */
export function unwrapUnsafe<T>(value: T): T {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v instanceof UnsafeText) return v.text;
    if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return v;
    if (seen.has(v)) return seen.get(v);
    if (isList(v)) {
      seen.set(v, v);
      const items = v.map((item) => walk(item, depth + 1));
      const out = items.some((item, i) => item !== v[i]) ? items : v;
      seen.set(v, out);
      return out;
    }
    if (!isPlainMapping(v)) return v;
    seen.set(v, v);
    const keys = keysOf(v);
    const values = keys.map((k) => walk(v[k], depth + 1));
    if (values.every((x, i) => x === v[keys[i]])) return v;
    const out: Record<string, unknown> = {};
    keys.forEach((k, i) => setKey(out, k, values[i]));
    seen.set(v, out);
    return out;
  };
  return walk(value, 0) as T;
}

/**
 * Runs an operation (a filter, helper, method) on plain inputs. When any input
 * held unsafe data, what it returns is unsafe as a whole: text derived from
 * host output stays host output (`upper`, `replace`, `join`, `~`, ...).
 */
export function withPlainInputs<R>(inputs: unknown[], fn: (plainInputs: unknown[]) => R): R {
  if (!inputs.some(containsUnsafe)) return fn(inputs);
  return markUnsafe(fn(inputs.map(unwrapUnsafe)));
}

/**
 * `validated` (module arguments as the schema returned them, from plain data)
 * with the UnsafeText of `rendered` put back where the same text stands: for
 * controller-side modules (set_fact keeps host output unsafe in the facts it sets).
 */
export function restoreUnsafe(validated: unknown, rendered: unknown): unknown {
  if (rendered instanceof UnsafeText) return validated === rendered.text ? rendered : validated;
  if (isList(validated) && isList(rendered)) {
    const items = validated.map((v, i) => restoreUnsafe(v, rendered[i]));
    return items.some((x, i) => x !== validated[i]) ? items : validated;
  }
  if (isPlainMapping(validated) && isPlainMapping(rendered)) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const k of keysOf(validated)) {
      const r = Object.prototype.hasOwnProperty.call(rendered, k)
        ? restoreUnsafe(validated[k], rendered[k])
        : validated[k];
      if (r !== validated[k]) changed = true;
      setKey(out, k, r);
    }
    return changed ? out : validated;
  }
  return validated;
}

/** The top-level values of a mapping as plain data (connection settings: a password may be `!unsafe`). */
export function plainValues(vars: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, plain(v)]));
}
