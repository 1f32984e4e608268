// A task's module arguments: from a mapping, a free-form string (command,
// shell) or Ansible's inline `key=value` string, merged with `args:`; then
// checked against the module's zod schema, each problem located at the
// offending argument. Values holding templates are only known per host, so
// their type is checked again at run time after rendering.
import type { z } from 'zod';
import type { SourceLoc } from '../errors.js';
import type { ModuleDefinition } from '../module.js';
import { UnsafeText } from '../unsafe.js';
import { locate, locateValue } from '../yaml-source.js';
import { checkCondition, checkTemplatesDeep, looksTemplated } from './checks.js';
import { parseKv, type Token } from './kv.js';
import { describe, isMapping, textLoc, type Problems } from './problems.js';
import { didYouMean } from './suggest.js';
import { coerceScalar } from './arg-coerce.js';
import { knownKeys } from './zod-introspect.js';

/** Where each top-level argument was written. */
interface ArgLocs {
  key: Map<string, SourceLoc>;
  value: Map<string, SourceLoc>;
}

/** Arguments that hold bare expressions rather than templates. */
const EXPRESSION_ARGS: Record<string, string[]> = { assert: ['that'] };

export interface ModuleCall {
  def: ModuleDefinition;
  /** the name as written (alias or canonical) */
  written: string;
  /** the module's value in the task */
  raw: unknown;
  /** where the module key is, and its value */
  keyLoc: SourceLoc;
  valueLoc: SourceLoc;
}

/** Builds and validates the arguments; returns them as written (templates unrendered). */
export function moduleArgs(
  call: ModuleCall,
  extraArgs: unknown,
  extraLoc: SourceLoc,
  problems: Problems,
): Record<string, unknown> {
  const { def } = call;
  const locs: ArgLocs = { key: new Map(), value: new Map() };
  const args: Record<string, unknown> = {};
  const take = (from: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(from)) {
      args[k] = v;
      locs.key.set(k, locate(from, k) ?? call.keyLoc);
      locs.value.set(k, locateValue(from, k) ?? call.valueLoc);
    }
  };

  if (extraArgs !== undefined && extraArgs !== null) {
    if (isMapping(extraArgs)) take(extraArgs);
    else problems.add(`'args' expects a mapping, got ${describe(extraArgs)}`, extraLoc);
  }

  const raw = call.raw;
  if (raw === null || raw === undefined) {
    // `ping:` — no arguments
  } else if (raw instanceof UnsafeText && def.freeForm) {
    // `command: !unsafe ...`: the whole text is the free-form argument, as written
    args[def.freeForm] = raw;
    locs.key.set(def.freeForm, call.valueLoc);
    locs.value.set(def.freeForm, call.valueLoc);
  } else if (isMapping(raw)) {
    take(raw);
  } else if (typeof raw === 'string' || ((typeof raw === 'number' || typeof raw === 'boolean') && def.freeForm)) {
    inlineArgs(String(raw), call, args, locs, problems);
  } else {
    const expected = def.freeForm ? 'a mapping or a string' : 'a mapping or key=value string';
    problems.add(`arguments of module '${call.written}' must be ${expected}, got ${describe(raw)}`, call.valueLoc);
    return args;
  }

  // `system: "yes"` is a boolean for Ansible (templates are converted after rendering, in the executor)
  const known = knownKeys(def.args);
  for (const [k, v] of Object.entries(args)) if (!holdsTemplate(v)) args[k] = coerceScalar(v, known?.get(k));
  validate(def, call, args, locs, problems);
  for (const [k, v] of Object.entries(args)) {
    const loc = locs.value.get(k) ?? call.valueLoc;
    if (EXPRESSION_ARGS[def.name]?.includes(k)) checkCondition(v, loc, problems);
    else checkTemplatesDeep(v, loc, problems);
  }
  return args;
}

/** `key=value ...`; for free-form modules the rest of the text is the free-form argument. */
function inlineArgs(
  text: string,
  call: ModuleCall,
  args: Record<string, unknown>,
  locs: ArgLocs,
  problems: Problems,
): void {
  const { def } = call;
  const known = knownKeys(def.args);
  const { pairs, free } = parseKv(text);
  const base = call.valueLoc;
  // within a one-line scalar we can point at the exact argument
  const at = (offset: number) => (text.includes('\n') ? base : textLoc(base, offset));
  if (def.freeForm) {
    const freeForm = def.freeForm;
    // Like Ansible: only the module's own option names are taken out of the text.
    const options = pairs.filter((p) => p.key !== freeForm && known?.has(p.key));
    if (options.length === 0) {
      args[freeForm] = text;
    } else {
      const rest = withoutTokens(
        text,
        options.map((p) => p.token),
      );
      if (rest !== '') args[freeForm] = rest;
      for (const p of options) setInline(p.key, p.value, at(p.token.offset), at(p.valueOffset));
    }
    locs.key.set(freeForm, base);
    locs.value.set(freeForm, base);
    return;
  }
  for (const t of free) {
    problems.add(`module '${call.written}' takes key=value arguments, got '${t.raw}'`, at(t.offset));
  }
  for (const p of pairs) setInline(p.key, p.value, at(p.token.offset), at(p.valueOffset));

  function setInline(key: string, value: string, keyAt: SourceLoc, valueAt: SourceLoc): void {
    args[key] = coerceInline(value, known?.get(key));
    locs.key.set(key, keyAt);
    locs.value.set(key, valueAt);
  }
}

/** The text with those tokens cut out (and the blanks after them), keeping its other whitespace and newlines. */
function withoutTokens(text: string, tokens: Token[]): string {
  let out = '';
  let from = 0;
  for (const t of [...tokens].sort((a, b) => a.offset - b.offset)) {
    out += text.slice(from, t.offset);
    from = t.offset + t.raw.length;
    while (text[from] === ' ' || text[from] === '\t') from++;
  }
  return (out + text.slice(from)).replace(/[ \t]+$/gm, '').trim();
}

/** Inline values are text; turn `22` / `yes` into what the argument wants, as Ansible's type conversion does. */
function coerceInline(value: string, schema: z.ZodType | undefined): unknown {
  return looksTemplated(value) ? value : coerceScalar(value, schema);
}

/** Does this value (or anything inside it) hold a template? */
function holdsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return looksTemplated(value);
  if (value instanceof UnsafeText) return true; // `!unsafe` text: a plain string once the task runs
  if (Array.isArray(value)) return value.some(holdsTemplate);
  if (isMapping(value)) return Object.values(value).some(holdsTemplate);
  return false;
}

/** `"{{ x }}"`: the rendered value keeps its type, which can be anything. */
function isWholeTemplate(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const t = value.trim();
  return t.startsWith('{{') && t.endsWith('}}') && t.indexOf('{{', 2) < 0;
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  values?: unknown[];
  keys?: string[];
  errors?: Issue[][];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
}

function validate(
  def: ModuleDefinition,
  call: ModuleCall,
  args: Record<string, unknown>,
  locs: ArgLocs,
  problems: Problems,
): void {
  const mod = call.written;
  const known = knownKeys(def.args);
  let unknownArgs = 0;
  if (known) {
    for (const k of Object.keys(args)) {
      if (known.has(k)) continue;
      unknownArgs++;
      problems.add(
        `unknown argument '${k}' for module '${mod}'${didYouMean(k, known.keys())}`,
        locs.key.get(k) ?? call.keyLoc,
      );
    }
  }
  let result: ReturnType<z.ZodType['safeParse']>;
  try {
    result = def.args.safeParse(args);
  } catch (e) {
    // a module's own refinement tripped over unexpected input: still a problem with these arguments
    problems.add(`arguments of module '${mod}' could not be checked: ${(e as Error).message}`, call.valueLoc);
    return;
  }
  if (result.success) return;
  for (const issue of flattenIssues(result.error.issues, [])) {
    if (issue.code === 'unrecognized_keys') {
      if (known) continue; // already reported above, with suggestions
      for (const k of issue.keys ?? [])
        problems.add(
          `unknown argument '${[...issue.path, k].join('.')}' for module '${mod}'`,
          locateAt(args, [...issue.path, k], locs, call, 'key'),
        );
      continue;
    }
    const value = valueAt(args, issue.path);
    const name = issue.path.join('.');
    // A template's value is known per host: checked again after rendering.
    if (issue.path.some((_, i) => holdsTemplate(valueAt(args, issue.path.slice(0, i + 1))))) continue;
    // checks across arguments fail anyway when a name is misspelt: the unknown name says it better
    if (issue.path.length === 0 && issue.code === 'custom' && unknownArgs > 0) continue;
    // a whole-value template may render to any type, so checks across arguments wait for run time
    if (issue.path.length === 0 && issue.code === 'custom' && Object.values(args).some(isWholeTemplate)) continue;
    if (value === undefined && issue.code === 'invalid_type') {
      problems.add(
        `missing required argument '${name}' for module '${mod}'`,
        locateAt(args, issue.path.slice(0, -1), locs, call, 'value', call.keyLoc),
      );
      continue;
    }
    const where = issue.path.length ? `argument '${name}' of module '${mod}'` : `module '${mod}'`;
    problems.add(`${where}: ${explain(issue, value)}`, locateAt(args, issue.path, locs, call, 'value'));
  }
}

/** Union failures: keep the branch that came closest; scalar alternatives become "expected a or b". */
function flattenIssues(issues: Issue[], prefix: PropertyKey[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code !== 'invalid_union' || !issue.errors?.length) {
      out.push({ ...issue, path });
      continue;
    }
    const branches = issue.errors;
    const allTypeAtRoot = branches.every(
      (b) => b.length === 1 && b[0].code === 'invalid_type' && b[0].path.length === 0,
    );
    if (allTypeAtRoot) {
      const expected = [...new Set(branches.map((b) => b[0].expected ?? '?'))];
      out.push({ code: 'invalid_type', path, message: issue.message, expected: expected.join(' or ') });
      continue;
    }
    // the branch whose failures are deepest and fewest is the one the user meant
    const score = (b: Issue[]) =>
      b.length -
      0.1 * Math.max(0, ...b.map((i) => i.path.length)) +
      (b.some((i) => i.code === 'invalid_type' && i.path.length === 0) ? 100 : 0);
    const best = [...branches].sort((a, b) => score(a) - score(b))[0];
    out.push(...flattenIssues(best, path));
  }
  return out;
}

function explain(issue: Issue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected ?? 'another type'}, got ${describe(value)}`;
    case 'invalid_value': {
      const allowed = (issue.values ?? []).map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
      const hint = typeof value === 'string' ? didYouMean(value, (issue.values ?? []).map(String)) : '';
      return `expected ${allowed.length > 1 ? `one of ${allowed.join(', ')}` : allowed[0]}, got ${describe(value)}${hint}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? issue.minimum : issue.maximum;
      if (issue.origin === 'string' && small && Number(bound) === 1) return 'must not be empty';
      if (issue.origin === 'string' || issue.origin === 'array') {
        const unit = issue.origin === 'string' ? 'character' : 'item';
        const n = Number(bound);
        return `expected ${small ? 'at least' : 'at most'} ${n} ${unit}${n === 1 ? '' : 's'}`;
      }
      const op = small ? (issue.inclusive === false ? '>' : '>=') : issue.inclusive === false ? '<' : '<=';
      return `expected ${op} ${String(bound)}, got ${describe(value)}`;
    }
    default:
      return issue.message;
  }
}

function valueAt(args: Record<string, unknown>, path: PropertyKey[]): unknown {
  let v: unknown = args;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function locateAt(
  args: Record<string, unknown>,
  path: PropertyKey[],
  locs: ArgLocs,
  call: ModuleCall,
  which: 'key' | 'value',
  fallback?: SourceLoc,
): SourceLoc {
  if (path.length === 0) return fallback ?? call.valueLoc;
  const first = String(path[0]);
  const top = (which === 'key' ? locs.key.get(first) : locs.value.get(first)) ?? locs.key.get(first) ?? call.valueLoc;
  if (path.length === 1) return top;
  const container = valueAt(args, path.slice(0, -1));
  const last = path[path.length - 1];
  const key = typeof last === 'number' ? last : String(last);
  return (which === 'key' ? locate(container, key) : locateValue(container, key)) ?? top;
}
