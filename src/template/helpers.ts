// The template helpers: what playbooks need, each a small pure function of its
// arguments. `{{ helper arg1 arg2 key=value }}` in a template; the conditions
// language has the same operations as filters.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { stringify as yamlStringify } from 'yaml';
import { shellQuote } from '../quote.js';
import { UnsafeText, markUnsafe, plain } from '../unsafe.js';
import { printExportsLine } from '../encode/exports-line.js';
// playbook regexes run on RE2, in linear time on host output (./regex.ts)
import { searchCandidates } from './search-path.js';
import { InvalidTerm, NOTHING_FOUND, firstFound } from './first-found.js';
import { regexReplace } from './regex.js';
import {
  EvalFailure,
  Undefined,
  deepEqual,
  getMember,
  isMapping,
  mappingKeys,
  MISSING,
  table,
  toBool,
  toFloat,
  toInt,
  toJson,
  toTemplateString,
  truthy,
  typeName,
} from './values.js';

export interface HelperEnv {
  /** the playbook's directory: `lookup('file', …)` looks in its files/, then in it */
  baseDir?: string;
  /** a role's task: the role's directory, whose files/ and itself come before baseDir's */
  roleDir?: string;
  /** `lookup('template', path)`: the file rendered with the variables of the expression (set by template/index.ts) */
  renderTemplateFile?: (path: string) => string;
}

export interface HelperDef {
  minArgs: number;
  maxArgs: number;
  /** receives Undefined markers instead of failing on an undefined argument */
  acceptsUndefined?: boolean;
  fn(args: unknown[], hash: Record<string, unknown>, env: HelperEnv): unknown;
}

function str(value: unknown, helper: string): string {
  const v = plain(value);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  throw new EvalFailure(`${helper} expects a string, got ${typeName(v)}`);
}

function list(v: unknown, helper: string): unknown[] {
  if (Array.isArray(v)) return v;
  throw new EvalFailure(`${helper} expects a list, got ${typeName(v)}`);
}

/** Orders two values like Python: numbers with numbers, strings with strings. */
export function compareValues(a: unknown, b: unknown, op: string): number {
  const na = typeof a === 'boolean' ? Number(a) : plain(a);
  const nb = typeof b === 'boolean' ? Number(b) : plain(b);
  if (typeof na === 'number' && typeof nb === 'number') return na - nb;
  if (typeof na === 'string' && typeof nb === 'string') return na < nb ? -1 : na > nb ? 1 : 0;
  if (Array.isArray(na) && Array.isArray(nb)) {
    for (let i = 0; i < Math.min(na.length, nb.length); i++) {
      if (deepEqual(na[i], nb[i])) continue;
      return compareValues(na[i], nb[i], op);
    }
    return na.length - nb.length;
  }
  throw new EvalFailure(`'${op}' not supported between ${typeName(a)} and ${typeName(b)}`);
}

/**
 * `lookup('env', NAME)` and `lookup('file', PATH)`: read on the controller, like Ansible.
 * What they read is data from outside the playbook: unsafe text, never rendered.
 */
export function lookupPlugin(kind: unknown, args: unknown[], env: HelperEnv): UnsafeText | unknown[] {
  if (kind === 'first_found') {
    // Templar._lookup without wantlist: the one path as text; nothing (skip: true) stays []
    const found = firstFoundLookup(args, env);
    return found.length === 0 ? found : new UnsafeText(String(plain(found[0])));
  }
  return new UnsafeText(lookupText(kind, args, env));
}

/**
 * lookup('first_found', …) / query(…): the terms are values already (the expression rendered
 * them); a lookup in a template has no _subdir from the task executor, so files/ is searched.
 */
export function firstFoundLookup(terms: unknown[], env: HelperEnv): unknown[] {
  let found: unknown[] | undefined;
  try {
    found = firstFound(terms, (v) => v, env, 'files');
  } catch (e) {
    if (e instanceof InvalidTerm) throw new EvalFailure(`lookup first_found: ${e.message}`);
    throw e;
  }
  if (found === undefined) throw new EvalFailure(`lookup first_found: ${NOTHING_FOUND}`);
  return markUnsafe(found);
}

function lookupText(kind: unknown, args: unknown[], env: HelperEnv): string {
  if (kind === 'env') {
    return args.map((a) => process.env[str(a, 'lookup env')] ?? '').join(',');
  }
  if (kind === 'file') {
    return args
      .map((a) => {
        const path = lookupFilePath(str(a, 'lookup file'), env);
        try {
          return readFileSync(path, 'utf8').replace(/\s+$/, '');
        } catch (e) {
          throw new EvalFailure(
            `lookup file: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          );
        }
      })
      .join(',');
  }
  if (kind === 'template') {
    const render = env.renderTemplateFile;
    if (!render) throw new EvalFailure('lookup template cannot be used here');
    return args
      .map((a) => {
        const path = lookupFilePath(str(a, 'lookup template'), env, 'templates');
        if (!existsSync(path)) throw new EvalFailure(`lookup template: cannot read ${path}: ENOENT`);
        return render(path);
      })
      .join(',');
  }
  throw new EvalFailure(`unknown lookup ${JSON.stringify(kind)} (known: env, file, template, first_found)`);
}

/**
 * Where `lookup('file', name)` reads: Ansible's search path for a lookup (Task.get_search_path,
 * DataLoader.path_dwim_relative_stack): the role's files/ and the role's directory for a role's
 * task, then the playbook's files/ and directory (templates/ for the template lookup). The first
 * that exists; else the last, for the error.
 */
function lookupFilePath(name: string, env: HelperEnv, subdir: 'files' | 'templates' = 'files'): string {
  const candidates = searchCandidates(name, env, subdir);
  return candidates.find((p) => existsSync(p)) ?? candidates[candidates.length - 1];
}

export function lengthOf(v: unknown, helper = 'length'): number {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (isMapping(v)) return mappingKeys(v).length;
  throw new EvalFailure(`${helper} expects a string, list or mapping, got ${typeName(v)}`);
}

export function splitString(s: string, sep?: unknown): string[] {
  if (sep === undefined || sep === null) return s.split(/\s+/).filter((x) => x !== '');
  return s.split(str(sep, 'split'));
}

export function mappingValues(v: unknown, helper: string): { keys: string[]; values: unknown[] } {
  if (!isMapping(v)) throw new EvalFailure(`${helper} expects a mapping, got ${typeName(v)}`);
  const keys = mappingKeys(v);
  return { keys, values: keys.map((k) => getMember(v, k)) };
}

export function firstOf(v: unknown, helper = 'first'): unknown {
  if (typeof v === 'string' || Array.isArray(v)) return v.length ? v[0] : undefined;
  throw new EvalFailure(`${helper} expects a list or string, got ${typeName(v)}`);
}

export function lastOf(v: unknown, helper = 'last'): unknown {
  if (typeof v === 'string' || Array.isArray(v)) return v.length ? v[v.length - 1] : undefined;
  throw new EvalFailure(`${helper} expects a list or string, got ${typeName(v)}`);
}

export function b64decode(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

export function indentText(s: string, width: number, first = false): string {
  const pad = ' '.repeat(width);
  return s
    .split('\n')
    .map((line, i) => ((i > 0 || first) && line !== '' ? pad + line : line))
    .join('\n');
}

const fixed = (n: number, fn: (...a: unknown[]) => unknown): HelperDef => ({
  minArgs: n,
  maxArgs: n,
  fn: (a) => fn(...a),
});

export const HELPERS: Record<string, HelperDef> = table({
  default: {
    minArgs: 2,
    maxArgs: 3,
    acceptsUndefined: true,
    // Like Ansible: only an undefined value is replaced, unless the third argument asks for falsy ones too.
    fn: ([value, fallback, orFalsy]) =>
      value instanceof Undefined || (orFalsy === true && !truthy(value)) ? fallback : value,
  },
  defined: { minArgs: 1, maxArgs: 1, acceptsUndefined: true, fn: ([v]) => !(v instanceof Undefined) },
  eq: fixed(2, (a, b) => deepEqual(a, b)),
  ne: fixed(2, (a, b) => !deepEqual(a, b)),
  lt: fixed(2, (a, b) => compareValues(a, b, '<') < 0),
  gt: fixed(2, (a, b) => compareValues(a, b, '>') > 0),
  le: fixed(2, (a, b) => compareValues(a, b, '<=') <= 0),
  ge: fixed(2, (a, b) => compareValues(a, b, '>=') >= 0),
  and: { minArgs: 1, maxArgs: Infinity, fn: (a) => a.every(truthy) },
  or: { minArgs: 1, maxArgs: Infinity, fn: (a) => a.some(truthy) },
  not: fixed(1, (a) => !truthy(a)),
  ternary: fixed(3, (c, a, b) => (truthy(c) ? a : b)),
  join: {
    minArgs: 1,
    maxArgs: 2,
    fn: ([l, sep]) =>
      list(l, 'join')
        .map(toTemplateString)
        .join(sep === undefined ? '' : str(sep, 'join')),
  },
  concat: { minArgs: 1, maxArgs: Infinity, fn: (a) => a.map(toTemplateString).join('') },
  // one /etc/exports line through its encoder: a value cannot add a client, an option or an export
  exports_line: {
    minArgs: 3,
    maxArgs: 3,
    fn: ([path, clients, options]) =>
      exportsLine(
        str(path, 'exports_line'),
        Array.isArray(clients) ? clients.map((c) => str(c, 'exports_line')) : str(clients, 'exports_line'),
        str(options, 'exports_line'),
      ),
  },
  json: { minArgs: 1, maxArgs: 2, fn: ([v, indent]) => toJson(v, indent === undefined ? undefined : toInt(indent)) },
  to_yaml: fixed(1, (v) => yamlStringify(v).replace(/\n$/, '')),
  indent: { minArgs: 2, maxArgs: 2, fn: ([s, n], hash) => indentText(str(s, 'indent'), toInt(n), hash.first === true) },
  basename: fixed(1, (p) => basename(str(p, 'basename'))),
  dirname: fixed(1, (p) => dirname(str(p, 'dirname'))),
  regex_replace: {
    minArgs: 3,
    maxArgs: 3,
    fn: ([v, p, r], hash) =>
      regexReplace(str(v, 'regex_replace'), str(p, 'regex_replace'), str(r, 'regex_replace'), {
        ignorecase: hash.ignorecase === true,
        multiline: hash.multiline === true,
      }),
  },
  lookup: { minArgs: 2, maxArgs: Infinity, fn: ([kind, ...rest], _h, env) => lookupPlugin(kind, rest, env) },
  upper: fixed(1, (s) => str(s, 'upper').toUpperCase()),
  lower: fixed(1, (s) => str(s, 'lower').toLowerCase()),
  trim: fixed(1, (s) => str(s, 'trim').trim()),
  length: fixed(1, (v) => lengthOf(v)),
  int: { minArgs: 1, maxArgs: 2, fn: ([v, fallback]) => toInt(v, fallback === undefined ? 0 : toInt(fallback)) },
  float: fixed(1, (v) => toFloat(v)),
  bool: fixed(1, (v) => toBool(v)),
  string: fixed(1, (v) => toTemplateString(v)),
  split: { minArgs: 1, maxArgs: 2, fn: ([s, sep]) => splitString(str(s, 'split'), sep) },
  replace: fixed(3, (s, a, b) => str(s, 'replace').split(str(a, 'replace')).join(str(b, 'replace'))),
  quote: fixed(1, (s) => shellQuote(str(s, 'quote'))),
  b64encode: fixed(1, (s) => Buffer.from(str(s, 'b64encode'), 'utf8').toString('base64')),
  b64decode: fixed(1, (s) => b64decode(str(s, 'b64decode'))),
  first: fixed(1, (v) => firstOf(v)),
  last: fixed(1, (v) => lastOf(v)),
  keys: fixed(1, (v) => mappingValues(v, 'keys').keys),
  values: fixed(1, (v) => mappingValues(v, 'values').values),
  // dynamic key: {{ get hostvars inventory_hostname }} (Jinja's hostvars[inventory_hostname])
  get: fixed(2, (obj, key) => {
    const k = typeof key === 'number' ? key : str(key, 'get');
    const v = getMember(obj, k);
    return v === MISSING ? new Undefined(`${typeName(obj)}[${JSON.stringify(k)}]`, `no key ${JSON.stringify(k)}`) : v;
  }),
  contains: fixed(2, (c, x) => {
    if (typeof c === 'string') return c.includes(str(x, 'contains'));
    if (Array.isArray(c)) return c.some((i) => deepEqual(i, x));
    if (isMapping(c)) return getMember(c, str(x, 'contains')) !== MISSING;
    throw new EvalFailure(`contains expects a string, list or mapping, got ${typeName(c)}`);
  }),
});

/** The block helpers the renderer implements itself: `{{#if}}`, `{{#each}}`, ... */
export const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);

/** printExportsLine, its refusal as a template error (the task fails before anything is written). */
function exportsLine(path: string, clients: string | string[], options: string): string {
  try {
    return printExportsLine(path, clients, options);
  } catch (e) {
    throw new EvalFailure(`exports_line: ${(e as Error).message}`);
  }
}
