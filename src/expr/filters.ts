// Filters (`x | default(1)`), tests (`x is defined`), functions (`lookup(...)`)
// and the few string/mapping methods Ansible users call (`x.startswith('a')`).
// Semantics follow Jinja2/Ansible; see docs in src/expr/index.ts.
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import { parse as yamlParse, stringify as yamlStringify } from 'yaml';
import { shellQuote } from '../quote.js';
import { pyJsonDumps } from './pyjson.js';
import { commentFilter } from './comment-filter.js';
import { passwordHash } from './password-hash.js';
import { makeNamespace } from '../template/namespace.js';
import { queryPlugin } from '../template/query-lookup.js';
import {
  b64decode,
  compareValues,
  firstOf,
  lastOf,
  lengthOf,
  lookupPlugin,
  splitString,
  type HelperEnv,
} from '../template/helpers.js';
import { regexFindall, regexReplace, regexSearch, regexTest } from '../template/regex.js';
import {
  EvalFailure,
  Undefined,
  deepEqual,
  getMember,
  isMapping,
  mappingKeys,
  MISSING,
  pyStr,
  table,
  toBool,
  toFloat,
  toInt,
  toJson,
  truthy,
  typeName,
} from '../template/values.js';

type Kwargs = Record<string, unknown>;

export interface FilterDef {
  acceptsUndefined?: boolean;
  fn(input: unknown, args: unknown[], kwargs: Kwargs, env: HelperEnv): unknown;
}
export interface TestDef {
  acceptsUndefined?: boolean;
  fn(input: unknown, args: unknown[], env: HelperEnv): boolean;
}

const arg = (args: unknown[], kwargs: Kwargs, i: number, name: string, fallback?: unknown): unknown =>
  i < args.length ? args[i] : name in kwargs ? kwargs[name] : fallback;

function asList(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return mappingKeys(v);
  throw new EvalFailure(`${what} expects a list, got ${typeName(v)}`);
}

function asMapping(v: unknown, what: string): Record<string, unknown> {
  if (isMapping(v)) return v;
  throw new EvalFailure(`${what} expects a mapping, got ${typeName(v)}`);
}

function attribute(item: unknown, path: string): unknown {
  let v = item;
  for (const part of path.split('.')) {
    v = getMember(v, part);
    if (v === MISSING) return new Undefined(path, `an item has no key '${part}'`);
  }
  return v;
}

/**
 * Ansible's subelements (lib/ansible/plugins/filter/core.py): each element of a
 * list (or a mapping's values) paired with each item of the list a dotted key
 * names in it; skip_missing skips elements without the key.
 */
function subelements(obj: unknown, keys: unknown, skipMissing: boolean): unknown[] {
  const elements = Array.isArray(obj)
    ? obj
    : isMapping(obj)
      ? mappingKeys(obj).map((key) => getMember(obj, key))
      : fail('subelements: obj must be a list of dicts or a nested dict');
  const path = Array.isArray(keys)
    ? keys.map((x) => pyStr(x))
    : typeof keys === 'string' || keys instanceof String
      ? pyStr(keys).split('.')
      : fail('subelements: subelements must be a list or a string');
  const out: unknown[] = [];
  for (const element of elements) {
    let values: unknown = element;
    for (const key of path) {
      if (!isMapping(values)) fail(`subelements: the key ${key} should point to a dictionary, got '${pyStr(values)}'`);
      const next = getMember(values, key);
      if (next === MISSING) {
        if (!skipMissing) fail(`subelements: could not find '${key}' key in iterated item`);
        values = [];
        break;
      }
      values = next;
    }
    if (!Array.isArray(values))
      fail(`subelements: the key '${path.join('.')}' should point to a list, got ${typeName(values)}`);
    for (const value of values) out.push([element, value]);
  }
  return out;
}

function fail(message: string): never {
  throw new EvalFailure(message);
}

function sortValues(list: unknown[], reverse: boolean, attr?: string): unknown[] {
  const key = (v: unknown): unknown => {
    const k = attr ? attribute(v, attr) : v;
    if (k instanceof Undefined) throw new EvalFailure(k.message());
    return k;
  };
  const sorted = [...list].sort((a, b) => compareValues(key(a), key(b), '<'));
  return reverse ? sorted.reverse() : sorted;
}

function unique(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of list) if (!out.some((o) => deepEqual(o, v))) out.push(v);
  return out;
}

function combine(a: Record<string, unknown>, b: Record<string, unknown>, recursive: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of mappingKeys(a)) out[k] = getMember(a, k);
  for (const k of mappingKeys(b)) {
    const bv = getMember(b, k);
    const av = out[k];
    out[k] = recursive && isMapping(av) && isMapping(bv) ? combine(av, bv, true) : bv;
  }
  return out;
}

function flatten(list: unknown[], levels: number): unknown[] {
  return list.flatMap((v) => (Array.isArray(v) && levels > 0 ? flatten(v, levels - 1) : [v]));
}

/** Applies a test by name, as `select('match', 'x')` and `selectattr('a', 'defined')` do. */
function runTest(name: unknown, value: unknown, args: unknown[], env: HelperEnv): boolean {
  if (name === undefined) return truthy(value);
  const test = TESTS[pyStr(name)];
  if (!test) throw new EvalFailure(`unknown test '${pyStr(name)}'`);
  if (value instanceof Undefined && !test.acceptsUndefined) throw new EvalFailure(value.message());
  return test.fn(value, args, env);
}

function pyRound(v: number, precision: number, method: string): number {
  const f = 10 ** precision;
  const x = v * f;
  const r =
    method === 'ceil' ? Math.ceil(x) : method === 'floor' ? Math.floor(x) : Math.sign(x) * Math.round(Math.abs(x));
  return r / f;
}

export const FILTERS: Record<string, FilterDef> = table({
  default: {
    acceptsUndefined: true,
    fn: (v, a, k) =>
      v instanceof Undefined || (truthy(arg(a, k, 1, 'boolean', false)) && !truthy(v))
        ? arg(a, k, 0, 'default_value', '')
        : v,
  },
  mandatory: {
    acceptsUndefined: true,
    fn: (v, a) => {
      if (v instanceof Undefined)
        throw new EvalFailure(
          a.length
            ? pyStr(a[0])
            : `mandatory variable ${v.message().replace(/^undefined variable /, '')} is not defined`,
        );
      return v;
    },
  },
  bool: { fn: (v) => toBool(v) },
  int: { fn: (v, a, k) => toInt(v, toInt(arg(a, k, 0, 'default', 0)), toInt(arg(a, k, 1, 'base', 10))) },
  float: { fn: (v, a, k) => toFloat(v, toFloat(arg(a, k, 0, 'default', 0))) },
  string: { fn: (v) => pyStr(v) },
  length: { fn: (v) => lengthOf(v) },
  count: { fn: (v) => lengthOf(v, 'count') },
  lower: { fn: (v) => pyStr(v).toLowerCase() },
  upper: { fn: (v) => pyStr(v).toUpperCase() },
  capitalize: { fn: (v) => pyStr(v).charAt(0).toUpperCase() + pyStr(v).slice(1).toLowerCase() },
  trim: { fn: (v) => pyStr(v).trim() },
  first: { fn: (v) => firstOf(v) ?? new Undefined('first', 'the list is empty') },
  last: { fn: (v) => lastOf(v) ?? new Undefined('last', 'the list is empty') },
  join: {
    fn: (v, a, k) =>
      asList(v, 'join')
        .map(pyStr)
        .join(pyStr(arg(a, k, 0, 'd', ''))),
  },
  list: { fn: (v) => [...asList(v, 'list')] },
  sort: {
    fn: (v, a, k) =>
      sortValues(asList(v, 'sort'), truthy(arg(a, k, 0, 'reverse', false)), k.attribute as string | undefined),
  },
  unique: { fn: (v) => unique(asList(v, 'unique')) },
  reverse: { fn: (v) => (typeof v === 'string' ? [...v].reverse().join('') : [...asList(v, 'reverse')].reverse()) },
  flatten: { fn: (v, a, k) => flatten(asList(v, 'flatten'), toInt(arg(a, k, 0, 'levels', 1000))) },
  min: { fn: (v) => sortValues(asList(v, 'min'), false)[0] ?? null },
  max: { fn: (v) => sortValues(asList(v, 'max'), true)[0] ?? null },
  sum: {
    fn: (v, a, k) => asList(v, 'sum').reduce<number>((s, x) => s + toFloat(x), toFloat(arg(a, k, 1, 'start', 0))),
  },
  abs: { fn: (v) => Math.abs(toFloat(v)) },
  round: {
    fn: (v, a, k) => pyRound(toFloat(v), toInt(arg(a, k, 0, 'precision', 0)), String(arg(a, k, 1, 'method', 'common'))),
  },
  replace: {
    fn: (v, a, k) => {
      const [from, to] = [pyStr(arg(a, k, 0, 'old', '')), pyStr(arg(a, k, 1, 'new', ''))];
      const count = arg(a, k, 2, 'count', undefined);
      const parts = pyStr(v).split(from);
      if (count === undefined) return parts.join(to);
      const n = toInt(count);
      return parts.slice(0, n + 1).join(to) + (parts.length > n + 1 ? from + parts.slice(n + 1).join(from) : '');
    },
  },
  regex_replace: {
    fn: (v, a, k) =>
      regexReplace(pyStr(v), pyStr(arg(a, k, 0, 'pattern', '')), pyStr(arg(a, k, 1, 'replacement', '')), {
        ignorecase: truthy(k.ignorecase ?? false),
        multiline: truthy(k.multiline ?? false),
      }),
  },
  regex_search: {
    fn: (v, a, k) =>
      regexSearch(pyStr(v), pyStr(arg(a, k, 0, 'pattern', '')), {
        ignorecase: truthy(k.ignorecase ?? false),
        multiline: truthy(k.multiline ?? false),
      }),
  },
  regex_findall: {
    fn: (v, a, k) =>
      regexFindall(pyStr(v), pyStr(arg(a, k, 0, 'pattern', '')), {
        ignorecase: truthy(k.ignorecase ?? false),
        multiline: truthy(k.multiline ?? false),
      }),
  },
  split: { fn: (v, a, k) => splitString(pyStr(v), arg(a, k, 0, 'sep', undefined)) },
  basename: { fn: (v) => basename(pyStr(v)) },
  dirname: { fn: (v) => dirname(pyStr(v)) },
  to_json: { fn: (v) => pyJsonDumps(v) },
  to_nice_json: { fn: (v, a, k) => pyJsonDumps(v, { indent: toInt(arg(a, k, 0, 'indent', 4)), sortKeys: true }) },
  from_json: {
    fn: (v) => {
      try {
        return JSON.parse(pyStr(v)) as unknown;
      } catch (e) {
        throw new EvalFailure(`from_json: ${(e as Error).message}`);
      }
    },
  },
  to_yaml: { fn: (v) => yamlStringify(v).replace(/\n$/, '') },
  to_nice_yaml: { fn: (v) => yamlStringify(v).replace(/\n$/, '') },
  from_yaml: {
    fn: (v) => {
      try {
        return yamlParse(pyStr(v)) as unknown;
      } catch (e) {
        throw new EvalFailure(`from_yaml: ${(e as Error).message}`);
      }
    },
  },
  b64encode: { fn: (v) => Buffer.from(pyStr(v), 'utf8').toString('base64') },
  b64decode: { fn: (v) => b64decode(pyStr(v)) },
  quote: { fn: (v) => shellQuote(pyStr(v)) },
  comment: { fn: (v, a, k) => commentFilter(pyStr(v), pyStr(arg(a, k, 0, 'style', 'plain')), k) },
  ternary: { fn: (v, a, k) => (truthy(v) ? arg(a, k, 0, 'true_val', null) : arg(a, k, 1, 'false_val', null)) },
  dict2items: {
    fn: (v, a, k) => {
      const m = asMapping(v, 'dict2items');
      const [kn, vn] = [pyStr(arg(a, k, 0, 'key_name', 'key')), pyStr(arg(a, k, 1, 'value_name', 'value'))];
      return mappingKeys(m).map((key) => ({ [kn]: key, [vn]: getMember(m, key) }));
    },
  },
  items2dict: {
    fn: (v, a, k) => {
      const [kn, vn] = [pyStr(arg(a, k, 0, 'key_name', 'key')), pyStr(arg(a, k, 1, 'value_name', 'value'))];
      const out: Record<string, unknown> = {};
      for (const item of asList(v, 'items2dict')) {
        const [key, value] = [getMember(item, kn), getMember(item, vn)];
        if (key === MISSING || value === MISSING)
          throw new EvalFailure(`items2dict: an item has no '${key === MISSING ? kn : vn}' key`);
        const name = pyStr(key);
        if (name === '__proto__') throw new EvalFailure("access to '__proto__' is not allowed");
        out[name] = value;
      }
      return out;
    },
  },
  subelements: {
    fn: (v, a, k) => subelements(v, arg(a, k, 0, 'subelements'), truthy(arg(a, k, 1, 'skip_missing', false))),
  },
  // Ansible's set theory filters (plugins/filter/mathstuff.py: union, intersect, difference,
  // symmetric_difference) on lists: the input's order kept, duplicates dropped (their `unique` branch)
  union: { fn: (v, a) => unique([...asList(v, 'union'), ...asList(a[0], 'union')]) },
  intersect: {
    fn: (v, a) => {
      const b = asList(a[0], 'intersect');
      return unique(asList(v, 'intersect').filter((x) => b.some((y) => deepEqual(x, y))));
    },
  },
  difference: {
    fn: (v, a) => {
      const b = asList(a[0], 'difference');
      return unique(asList(v, 'difference').filter((x) => !b.some((y) => deepEqual(x, y))));
    },
  },
  symmetric_difference: {
    fn: (v, a) => {
      const x = asList(v, 'symmetric_difference');
      const y = asList(a[0], 'symmetric_difference');
      const both = x.filter((i) => y.some((j) => deepEqual(i, j)));
      return unique([...x, ...y]).filter((i) => !both.some((j) => deepEqual(i, j)));
    },
  },
  zip: {
    fn: (v, a) => {
      const lists = [asList(v, 'zip'), ...a.map((x) => asList(x, 'zip'))];
      const n = Math.min(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_x, i) => lists.map((l) => l[i]));
    },
  },
  hash: {
    fn: (v, a, k) => {
      const alg = pyStr(arg(a, k, 0, 'hashtype', 'sha1'));
      if (!HASHES.has(alg))
        throw new EvalFailure(`hash: unknown hash type '${alg}' (known: ${[...HASHES].join(', ')})`);
      return createHash(alg).update(pyStr(v), 'utf8').digest('hex');
    },
  },
  password_hash: {
    fn: (v, a, k) =>
      passwordHash(v, {
        hashtype: arg(a, k, 0, 'hashtype', 'sha512'),
        salt: arg(a, k, 1, 'salt', null),
        saltSize: arg(a, k, 2, 'salt_size', null),
        rounds: arg(a, k, 3, 'rounds', null),
        ident: arg(a, k, 4, 'ident', null),
      }),
  },
  type_debug: { fn: (v) => pyTypeName(v) },
  random: { fn: (v, a, k, env) => randomFilter(v, a, k, env) },
  expanduser: {
    fn: (v) => {
      const p = pyStr(v);
      return p === '~' || p.startsWith('~/') ? homedir() + p.slice(1) : p;
    },
  },
  combine: {
    fn: (v, a, k) =>
      a.reduce<Record<string, unknown>>(
        (acc, x) => combine(acc, asMapping(x, 'combine'), truthy(k.recursive ?? false)),
        asMapping(v, 'combine'),
      ),
  },
  map: {
    fn: (v, a, k, env) => {
      const list = asList(v, 'map');
      if (typeof k.attribute === 'string') {
        const attr = k.attribute;
        return list.map((item) => {
          const r = attribute(item, attr);
          if (!(r instanceof Undefined)) return r;
          if ('default' in k) return k.default;
          throw new EvalFailure(r.message());
        });
      }
      const name = pyStr(a[0]);
      const filter = FILTERS[name];
      if (!filter) throw new EvalFailure(`map: unknown filter '${name}'`);
      return list.map((item) => filter.fn(item, a.slice(1), {}, env));
    },
  },
  select: { fn: (v, a, _k, env) => asList(v, 'select').filter((x) => runTest(a[0], x, a.slice(1), env)) },
  reject: { fn: (v, a, _k, env) => asList(v, 'reject').filter((x) => !runTest(a[0], x, a.slice(1), env)) },
  selectattr: {
    fn: (v, a, _k, env) =>
      asList(v, 'selectattr').filter((x) => runTest(a[1] ?? 'truthy', attribute(x, pyStr(a[0])), a.slice(2), env)),
  },
  rejectattr: {
    fn: (v, a, _k, env) =>
      asList(v, 'rejectattr').filter((x) => !runTest(a[1] ?? 'truthy', attribute(x, pyStr(a[0])), a.slice(2), env)),
  },
});
FILTERS.d = FILTERS.default;

const HASHES = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

/** Python's type name, as Ansible's `type_debug` shows it. */
function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (isMapping(v)) return 'dict';
  return typeName(v);
}

/**
 * `list | random` (an item), `n | random(start=0, step=1)` (a number in range(start, n, step)).
 * Seeded by the host (inventory_hostname), the input and the `seed` argument: the same host gets the same
 * value on every run, so a check run predicts what the real run does (Ansible draws anew unless seeded).
 */
function randomFilter(v: unknown, a: unknown[], k: Kwargs, env: HelperEnv): unknown {
  const vars = (env as { vars?: Record<string, unknown> }).vars ?? {};
  const host = getMember(vars, 'inventory_hostname');
  const seed = arg(a, k, 2, 'seed', undefined);
  const digest = createHash('sha256')
    .update(toJson([host === MISSING ? '' : pyStr(host), seed === undefined ? null : pyStr(seed), v, a, k]))
    .digest();
  const pick = (n: number): number => Number(digest.readBigUInt64BE(0) % BigInt(n));
  if (typeof v === 'number') {
    const start = toInt(arg(a, k, 0, 'start', 0));
    const step = toInt(arg(a, k, 1, 'step', 1));
    if (step <= 0) throw new EvalFailure('random: step must be positive');
    const count = Math.ceil((Math.trunc(v) - start) / step);
    if (count <= 0) throw new EvalFailure(`random: empty range for random (start ${start}, end ${v})`);
    return start + pick(count) * step;
  }
  const list = asList(v, 'random');
  if (!list.length) throw new EvalFailure('random: the list is empty');
  return list[pick(list.length)];
}

// ── Tests ────────────────────────────────────────────────────────────────────
/** A registered task result: failed/changed/skipped, and for loops its `results`. */
function registered(v: unknown, test: string): Record<string, unknown> {
  if (!isMapping(v))
    throw new EvalFailure(`'${test}' test expects a registered task result (a mapping), got ${typeName(v)}`);
  return v;
}

function items(r: Record<string, unknown>): Record<string, unknown>[] {
  const results = getMember(r, 'results');
  return Array.isArray(results) ? results.filter(isMapping) : [];
}

function flag(r: Record<string, unknown>, key: string): boolean {
  const v = getMember(r, key);
  return v !== MISSING && toBool(v);
}

export const resultFailed = (r: Record<string, unknown>): boolean =>
  flag(r, 'failed') || items(r).some((i) => flag(i, 'failed'));
export const resultChanged = (r: Record<string, unknown>): boolean =>
  flag(r, 'changed') || items(r).some((i) => flag(i, 'changed'));
export const resultSkipped = (r: Record<string, unknown>): boolean => {
  const list = items(r);
  return flag(r, 'skipped') || (list.length > 0 && list.every((i) => flag(i, 'skipped')));
};

function versionCompare(a: string, b: string): number {
  const pa = a.split(/[^0-9A-Za-z]+/).filter(Boolean);
  const pb = b.split(/[^0-9A-Za-z]+/).filter(Boolean);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const [x, y] = [pa[i] ?? '0', pb[i] ?? '0'];
    const c = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

const VERSION_OPS: Record<string, (c: number) => boolean> = table({
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
});

const test = (fn: (v: unknown, args: unknown[], env: HelperEnv) => boolean): TestDef => ({ fn });
const isNumber = (v: unknown): boolean => typeof v === 'number';
const contains = (container: unknown, x: unknown): boolean => {
  if (typeof container === 'string') return typeof x === 'string' && container.includes(x);
  if (Array.isArray(container)) return container.some((i) => deepEqual(i, x));
  if (isMapping(container)) return getMember(container, pyStr(x)) !== MISSING;
  throw new EvalFailure(`'in' needs a string, list or mapping on its right, got ${typeName(container)}`);
};
export { contains as containsValue };

export const TESTS: Record<string, TestDef> = table({
  defined: { acceptsUndefined: true, fn: (v) => !(v instanceof Undefined) },
  undefined: { acceptsUndefined: true, fn: (v) => v instanceof Undefined },
  none: test((v) => v === null || v === undefined),
  succeeded: test((v) => !resultFailed(registered(v, 'succeeded'))),
  failed: test((v) => resultFailed(registered(v, 'failed'))),
  changed: test((v) => resultChanged(registered(v, 'changed'))),
  skipped: test((v) => resultSkipped(registered(v, 'skipped'))),
  string: test((v) => typeof v === 'string'),
  number: test(isNumber),
  integer: test((v) => typeof v === 'number' && Number.isInteger(v)),
  float: test((v) => typeof v === 'number' && !Number.isInteger(v)),
  boolean: test((v) => typeof v === 'boolean'),
  mapping: test(isMapping),
  iterable: test((v) => typeof v === 'string' || Array.isArray(v) || isMapping(v)),
  sequence: test((v) => typeof v === 'string' || Array.isArray(v) || isMapping(v)),
  list: test((v) => Array.isArray(v)),
  truthy: test((v) => truthy(v)),
  falsy: test((v) => !truthy(v)),
  true: test((v) => v === true),
  false: test((v) => v === false),
  lower: test((v) => typeof v === 'string' && v === v.toLowerCase()),
  upper: test((v) => typeof v === 'string' && v === v.toUpperCase()),
  even: test((v) => toInt(v) % 2 === 0),
  odd: test((v) => Math.abs(toInt(v) % 2) === 1),
  divisibleby: test((v, [n]) => toFloat(v) % toFloat(n) === 0),
  eq: test((v, [x]) => deepEqual(v, x)),
  ne: test((v, [x]) => !deepEqual(v, x)),
  lt: test((v, [x]) => compareValues(v, x, '<') < 0),
  le: test((v, [x]) => compareValues(v, x, '<=') <= 0),
  gt: test((v, [x]) => compareValues(v, x, '>') > 0),
  ge: test((v, [x]) => compareValues(v, x, '>=') >= 0),
  sameas: test((v, [x]) => v === x),
  in: test((v, [c]) => contains(c, v)),
  contains: test((v, [x]) => contains(v, x)),
  match: test((v, [p, ic]) => regexTest(pyStr(v), `^(?:${pyStr(p)})`, { ignorecase: truthy(ic ?? false) })),
  search: test((v, [p, ic]) => regexTest(pyStr(v), pyStr(p), { ignorecase: truthy(ic ?? false) })),
  version: test((v, [other, op]) => {
    const check = VERSION_OPS[pyStr(op ?? '==')];
    if (!check) throw new EvalFailure(`version test: unknown operator ${JSON.stringify(op)}`);
    return check(versionCompare(pyStr(v), pyStr(other)));
  }),
});
for (const [alias, name] of [
  ['success', 'succeeded'],
  ['successful', 'succeeded'],
  ['failure', 'failed'],
  ['change', 'changed'],
  ['skip', 'skipped'],
  ['equalto', 'eq'],
  ['==', 'eq'],
  ['!=', 'ne'],
  ['<', 'lt'],
  ['<=', 'le'],
  ['>', 'gt'],
  ['>=', 'ge'],
  ['greaterthan', 'gt'],
  ['lessthan', 'lt'],
  ['regex', 'search'],
  ['version_compare', 'version'],
] as const) {
  TESTS[alias] = TESTS[name];
}

// ── Functions and methods ────────────────────────────────────────────────────
export const FUNCTIONS: Record<string, (args: unknown[], kwargs: Kwargs, env: HelperEnv) => unknown> = table({
  lookup: ([kind, ...rest], _k, env) => lookupPlugin(kind, rest, env),
  q: ([kind, ...rest], _k, env) => queryPlugin(kind, rest, env),
  query: ([kind, ...rest], _k, env) => queryPlugin(kind, rest, env),
  namespace: (args, kwargs) => {
    if (args.length) throw new EvalFailure('namespace() takes only name=value arguments');
    return makeNamespace(kwargs);
  },
  range: (args) => {
    const [a, b, step] = args.map((x) => toInt(x));
    const [from, to, by] = args.length === 1 ? [0, a, 1] : [a, b, step ?? 1];
    if (by === 0) throw new EvalFailure('range() step must not be zero');
    const out: number[] = [];
    for (let i = from; by > 0 ? i < to : i > to; i += by) {
      out.push(i);
      if (out.length > 100_000) throw new EvalFailure('range() too long');
    }
    return out;
  },
});

const STRING_METHODS: Record<string, (s: string, args: unknown[]) => unknown> = table({
  startswith: (s, [p]) => (Array.isArray(p) ? p : [p]).some((x) => s.startsWith(pyStr(x))),
  endswith: (s, [p]) => (Array.isArray(p) ? p : [p]).some((x) => s.endsWith(pyStr(x))),
  strip: (s, [chars]) => stripChars(s, chars, true, true),
  lstrip: (s, [chars]) => stripChars(s, chars, true, false),
  rstrip: (s, [chars]) => stripChars(s, chars, false, true),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  split: (s, [sep, max]) => {
    const parts = splitString(s, sep);
    if (max === undefined || toInt(max) < 0) return parts;
    const n = toInt(max);
    return parts.length > n + 1
      ? [...parts.slice(0, n), parts.slice(n).join(sep === undefined || sep === null ? ' ' : pyStr(sep))]
      : parts;
  },
  splitlines: (s) => s.split(/\r?\n/).filter((l, i, all) => i < all.length - 1 || l !== ''),
  replace: (s, [a, b]) => s.split(pyStr(a)).join(pyStr(b)),
  find: (s, [x]) => s.indexOf(pyStr(x)),
  count: (s, [x]) => s.split(pyStr(x)).length - 1,
  isdigit: (s) => /^\d+$/.test(s),
  join: (s, [list]) => asList(list, 'join').map(pyStr).join(s),
});

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === undefined || chars === null) return left && right ? s.trim() : left ? s.trimStart() : s.trimEnd();
  const set = new Set(pyStr(chars));
  let [a, b] = [0, s.length];
  while (left && a < b && set.has(s[a])) a++;
  while (right && b > a && set.has(s[b - 1])) b--;
  return s.slice(a, b);
}

const MAPPING_METHODS: Record<string, (m: Record<string, unknown>, args: unknown[]) => unknown> = table({
  get: (m, [key, fallback]) => {
    const v = getMember(m, pyStr(key));
    return v === MISSING ? (fallback ?? null) : v;
  },
  keys: (m) => mappingKeys(m),
  values: (m) => mappingKeys(m).map((k) => getMember(m, k)),
  items: (m) => mappingKeys(m).map((k) => [k, getMember(m, k)]),
  // `loop.cycle('odd', 'even')` inside {% for %}: the loop variable is the only mapping with index0 and revindex0
  cycle: (m, args) => {
    const i = getMember(m, 'index0');
    if (typeof i !== 'number' || typeof getMember(m, 'revindex0') !== 'number')
      throw new EvalFailure('cycle() is a method of the {% for %} loop variable');
    if (!args.length) throw new EvalFailure('loop.cycle() needs at least one value');
    return args[i % args.length];
  },
});

const LIST_METHODS: Record<string, (l: unknown[], args: unknown[]) => unknown> = table({
  index: (l, [x]) => {
    const i = l.findIndex((v) => deepEqual(v, x));
    if (i < 0) throw new EvalFailure(`${pyStr(x)} is not in the list`);
    return i;
  },
  count: (l, [x]) => l.filter((v) => deepEqual(v, x)).length,
});

export const METHODS = new Set([
  ...Object.keys(STRING_METHODS),
  ...Object.keys(MAPPING_METHODS),
  ...Object.keys(LIST_METHODS),
]);

export function callMethod(obj: unknown, name: string, args: unknown[]): unknown {
  const table: Record<string, (o: never, a: unknown[]) => unknown> =
    typeof obj === 'string'
      ? STRING_METHODS
      : Array.isArray(obj)
        ? LIST_METHODS
        : isMapping(obj)
          ? MAPPING_METHODS
          : {};
  const fn = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  if (!fn) throw new EvalFailure(`a ${typeName(obj)} has no method '${name}()'`);
  return fn(obj as never, args);
}
