// The old-style module keys, as Ansible's ModArgsParser reads them (parsing/mod_args.py):
// `action: copy src=a dest=b`, `action: { module: copy, src: a, dest: b }`, and `local_action:`
// (the same, delegated to localhost). They become the module call written as its own key.
import type { SourceLoc } from '../errors.js';
import type { ModuleDefinition } from '../module.js';
import { sharePositions } from '../yaml-source.js';
import type { LoadContext } from './context.js';
import { splitArgs } from './kv.js';
import { SPECIAL_ACTIONS } from './keywords.js';
import { describe, isMapping, keyLoc, textLoc, valueLoc } from './problems.js';
import { didYouMean } from './suggest.js';

export const ACTION_KEYS = ['action', 'local_action'] as const;

export interface ActionCall {
  /** the key the module was written under (action or local_action) */
  key: string;
  def: ModuleDefinition;
  /** the module's name as written in the value */
  written: string;
  /** the arguments: a k=v / free-form string, a mapping, or nothing */
  raw: unknown;
  valueLoc: SourceLoc;
  /** local_action: the task runs on the controller */
  delegateTo?: string;
}

/** The module call of a task written with action/local_action, or undefined after reporting why not. */
export function readActionKey(
  raw: Record<string, unknown>,
  key: (typeof ACTION_KEYS)[number],
  loc: SourceLoc,
  ctx: LoadContext,
): ActionCall | undefined {
  const value = raw[key];
  const at = valueLoc(raw, key, loc);
  const delegate = key === 'local_action' ? { delegateTo: 'localhost' } : {};
  if (typeof value === 'string' && value.trim() !== '') {
    // _split_module_string: the first word is the module, the rest its arguments
    const [first, ...rest] = splitArgs(value);
    const def = moduleNamed(first.raw, key, at, ctx);
    if (!def) return undefined;
    const args = rest.length > 0 ? value.slice(rest[0].offset) : undefined;
    const argsAt = rest.length > 0 ? textLoc(at, rest[0].offset) : at;
    return { key, def, written: first.raw, raw: args, valueLoc: argsAt, ...delegate };
  }
  if (isMapping(value) && typeof value.module === 'string' && value.module.trim() !== '') {
    const name = value.module.trim();
    if (/\s/.test(name)) {
      ctx.problems.add(`'module' names the module only; write its arguments beside it`, valueLoc(value, 'module', at));
      return undefined;
    }
    const def = moduleNamed(name, key, valueLoc(value, 'module', at), ctx);
    if (!def) return undefined;
    const { module: _module, ...args } = value;
    sharePositions(args, value); // each argument keeps its own line for messages
    return { key, def, written: name, raw: Object.keys(args).length > 0 ? args : undefined, valueLoc: at, ...delegate };
  }
  ctx.problems.add(
    `'${key}' expects a module with its arguments ('copy src=a dest=b' or a mapping with 'module:'), got ${describe(value)}`,
    at,
  );
  return undefined;
}

/** Another module key beside action/local_action: Ansible's "conflicting action statements". */
export function conflictingAction(
  raw: Record<string, unknown>,
  key: string,
  other: string,
  loc: SourceLoc,
  ctx: LoadContext,
): void {
  ctx.problems.add(`conflicting action statements: '${key}' and '${other}'`, keyLoc(raw, other, loc));
}

function moduleNamed(name: string, key: string, at: SourceLoc, ctx: LoadContext): ModuleDefinition | undefined {
  const def = ctx.registry.get(name);
  if (def) return def;
  if (SPECIAL_ACTIONS[name])
    ctx.problems.add(`'${name}' cannot be run through '${key}'; write '${name}:' as the key`, at);
  else ctx.problems.add(`unknown module '${name}' in '${key}'${didYouMean(name, ctx.moduleNames())}`, at);
  return undefined;
}
