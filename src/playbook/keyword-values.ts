// Reading the keywords of a play, block or task: unknown keys (with the
// nearest valid one), value types (zod), template and expression syntax, and
// the normal form the executor gets (tags as a list, notify as a list, ...).
import type { SourceLoc } from '../errors.js';
import { checkCondition, checkTemplatesDeep, looksTemplated } from './checks.js';
import type { LoadContext } from './context.js';
import {
  BLOCK_KEYS,
  INHERITED,
  KEYWORDS,
  LOOP_CONTROL_KEYS,
  LOOP_KEYWORDS,
  PLAY_KEYS,
  TASK_KEYS,
  UNSUPPORTED,
  type KeywordName,
} from './keywords.js';
import { describe, isMapping, keyLoc, valueLoc } from './problems.js';
import { didYouMean } from './suggest.js';
import { sequenceItems } from './sequence.js';
import type { InheritedKeywords, LoopControl, LoopWith } from './types.js';

/** Keywords valid somewhere: on the wrong kind of entry they get "cannot be used on", not "did you mean". */
const ELSEWHERE = new Set<string>([...PLAY_KEYS, ...TASK_KEYS, ...BLOCK_KEYS]);
const LOOPING = new Set<string>([...LOOP_KEYWORDS, 'loop_control']);
const CONDITIONS = new Set<string>(['when', 'changed_when', 'failed_when', 'until']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reports every key of `raw` (of those in `consider`, if given) not in `allowed` ("unknown key 'whn' in task; did you mean 'when'?"). */
export function reportUnknownKeys(
  raw: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
  ctx: LoadContext,
  loc: SourceLoc,
  consider?: readonly string[],
): void {
  for (const key of Object.keys(raw)) {
    if (allowed.includes(key) || (consider && !consider.includes(key))) continue;
    const at = keyLoc(raw, key, loc);
    if (UNSUPPORTED[key]) ctx.problems.add(UNSUPPORTED[key], at);
    else if (ELSEWHERE.has(key))
      ctx.problems.add(
        `'${key}' cannot be used on ${/^(play|block|meta task)$/.test(what) ? `a ${what}` : what}${LOOPING.has(key) ? '; to loop, use include_tasks' : ''}`,
        at,
      );
    else ctx.problems.add(`unknown key '${key}' in ${what}${didYouMean(key, allowed)}`, at);
  }
}

/**
 * Validates and normalises the keywords of `raw` that appear in `keys`
 * (structural keys such as `tasks` or `block` are left to the caller).
 */
export function readKeywords(
  raw: Record<string, unknown>,
  keys: readonly string[],
  ctx: LoadContext,
  loc: SourceLoc,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (!(key in raw) || !(key in KEYWORDS)) continue;
    const value = booleanWords(key, raw[key]);
    const at = valueLoc(raw, key, loc);
    const spec = KEYWORDS[key as KeywordName];
    if (value === null || value === undefined) {
      // `tags:` or `vars:` left empty means none; anything else needs a value
      if (key === 'tags' || key === 'vars' || key === 'notify' || key === 'environment') continue;
      ctx.problems.add(`'${key}' expects ${spec.expects}, got nothing`, at);
      continue;
    }
    if (!spec.schema.safeParse(value).success) {
      ctx.problems.add(`'${key}' expects ${spec.expects}, got ${describe(value)}`, at);
      continue;
    }
    if (CONDITIONS.has(key)) checkCondition(value, at, ctx.problems);
    else checkTemplatesDeep(value, at, ctx.problems);
    out[key] = normalise(key, value, raw, at, ctx);
  }
  return out;
}

function normalise(
  key: string,
  value: unknown,
  raw: Record<string, unknown>,
  at: SourceLoc,
  ctx: LoadContext,
): unknown {
  switch (key) {
    case 'name':
      return String(value);
    case 'tags':
      return normaliseTags(value);
    case 'notify':
    case 'listen':
      return typeof value === 'string' ? [value] : value;
    case 'vars':
      checkVarNames(value as Record<string, unknown>, at, ctx);
      return value;
    default:
      return value;
  }
}

const BOOLEAN_KEYWORDS = new Set([
  'become',
  'check_mode',
  'diff',
  'ignore_errors',
  'ignore_unreachable',
  'no_log',
  'run_once',
  'any_errors_fatal',
  'gather_facts',
  'force_handlers',
]);

/** `become: "yes"` (quoted) means what `become: yes` means, as in Ansible. */
function booleanWords(key: string, value: unknown): unknown {
  if (!BOOLEAN_KEYWORDS.has(key) || typeof value !== 'string') return value;
  if (/^(yes|true|on)$/i.test(value.trim())) return true;
  if (/^(no|false|off)$/i.test(value.trim())) return false;
  return value;
}

/** `a,b` / `[a, b]` / `7` → ['a', 'b'] / ['7'] */
export function normaliseTags(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((t) => t.trim()).filter((t) => t !== '');
}

export function checkVarNames(vars: Record<string, unknown>, loc: SourceLoc, ctx: LoadContext): void {
  for (const name of Object.keys(vars)) {
    if (!IDENTIFIER.test(name)) ctx.problems.add(`'${name}' is not a valid variable name`, keyLoc(vars, name, loc));
  }
}

/** The inherited keywords out of already-normalised keyword values. */
export function inherited(values: Record<string, unknown>): InheritedKeywords {
  const out: Record<string, unknown> = {};
  for (const k of INHERITED) if (values[k] !== undefined) out[k] = values[k];
  return out;
}

export interface LoopSpec {
  loop?: unknown;
  loop_with?: LoopWith;
  loop_control?: LoopControl;
}

/** loop / with_items / with_list / with_dict (at most one) and loop_control. */
export function readLoop(
  raw: Record<string, unknown>,
  values: Record<string, unknown>,
  ctx: LoadContext,
  loc: SourceLoc,
): LoopSpec {
  const spec: LoopSpec = {};
  const used = LOOP_KEYWORDS.filter((k) => k in raw);
  if (used.length > 1)
    ctx.problems.add(`'${used[0]}' and '${used[1]}' cannot be used together`, keyLoc(raw, used[1], loc));
  const which = used.find((k) => values[k] !== undefined);
  if (which) {
    const value = values[which];
    if (which === 'with_items') {
      // as the items lookup: one value that is not a template is a list of one item
      const list = Array.isArray(value) || (typeof value === 'string' && looksTemplated(value)) ? value : [value];
      if (Array.isArray(list) && !list.some((v) => typeof v === 'string' && looksTemplated(v)))
        spec.loop = list.flat(1);
      else {
        spec.loop = value;
        spec.loop_with = 'items';
      }
    } else if (which === 'with_together' || which === 'with_nested') {
      // combined when the task runs: the lists may come from templates
      spec.loop = value;
      spec.loop_with = which === 'with_together' ? 'together' : 'nested';
    } else if (which === 'with_sequence') {
      const terms = (Array.isArray(value) ? value : [value]).map(String);
      if (terms.some((t) => looksTemplated(t))) {
        spec.loop = terms;
        spec.loop_with = 'sequence';
      } else {
        try {
          spec.loop = terms.flatMap(sequenceItems);
        } catch (e) {
          ctx.problems.add((e as Error).message, valueLoc(raw, which, loc));
        }
      }
    } else if (which === 'with_flattened' || which === 'with_community.general.flattened') {
      // flattened when the task runs: the terms are usually templates
      spec.loop = value;
      spec.loop_with = 'flattened';
    } else if (which === 'with_first_found' || which === 'with_ansible.builtin.first_found') {
      // searched when the task runs: the names are templates, the files may appear during the run
      spec.loop = value;
      spec.loop_with = 'first_found';
    } else if (which === 'with_dict') {
      if (isMapping(value)) spec.loop = Object.entries(value).map(([k, v]) => ({ key: k, value: v }));
      else {
        spec.loop = value;
        spec.loop_with = 'dict';
      }
    } else {
      spec.loop = value;
    }
  }
  if ('loop_control' in raw)
    spec.loop_control = readLoopControl(raw.loop_control, valueLoc(raw, 'loop_control', loc), ctx);
  return spec;
}

function readLoopControl(value: unknown, loc: SourceLoc, ctx: LoadContext): LoopControl | undefined {
  if (!isMapping(value)) {
    ctx.problems.add(`'loop_control' expects a mapping, got ${describe(value)}`, loc);
    return undefined;
  }
  reportUnknownKeys(value, LOOP_CONTROL_KEYS, 'loop_control', ctx, loc);
  const out: LoopControl = {};
  for (const k of ['loop_var', 'index_var'] as const) {
    if (!(k in value)) continue;
    const v = value[k];
    if (typeof v === 'string' && IDENTIFIER.test(v)) out[k] = v;
    else ctx.problems.add(`'${k}' expects a variable name, got ${describe(v)}`, valueLoc(value, k, loc));
  }
  if ('label' in value) {
    const v = value.label;
    if (typeof v === 'string' || typeof v === 'number') {
      out.label = String(v);
      checkTemplatesDeep(out.label, valueLoc(value, 'label', loc), ctx.problems);
    } else ctx.problems.add(`'label' expects a string, got ${describe(v)}`, valueLoc(value, 'label', loc));
  }
  for (const k of ['extended', 'extended_allitems'] as const) {
    if (!(k in value)) continue;
    const v = value[k];
    if (typeof v === 'boolean') out[k] = v;
    else ctx.problems.add(`'${k}' expects a boolean, got ${describe(v)}`, valueLoc(value, k, loc));
  }
  if ('pause' in value) {
    const v = value.pause;
    if (typeof v === 'number' && v >= 0) out.pause = v;
    else
      ctx.problems.add(`'pause' expects a number of seconds >= 0, got ${describe(v)}`, valueLoc(value, 'pause', loc));
  }
  return out;
}
