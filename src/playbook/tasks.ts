// One task entry → a TaskNode: a module call, a block, an import/include of a
// task file, or meta. Finds the module among the keys (exactly one), and
// reports unknown keys with the nearest keyword or module name.
import type { SourceLoc } from '../errors.js';
import type { ModuleDefinition } from '../module.js';
import { locate } from '../yaml-source.js';
import type { LoadContext, TaskListSource } from './context.js';
// includes.ts imports readTaskList back: the grammar's own recursion (a task list holds
// imports/includes, which read task files, which are task lists); only called, never at load.
import { importTasks, includeTasks } from './includes.js';
import { oldInclude } from './old-include.js';
import { importRole, includeRole } from './roles.js';
import { inherited, readKeywords, readLoop, reportUnknownKeys } from './keyword-values.js';
import {
  BLOCK_KEYS,
  META_ACTIONS,
  META_KEYS,
  SPECIAL_ACTIONS,
  SUPPORTED_WITH,
  TASK_KEYS,
  UNSUPPORTED,
  type SpecialAction,
} from './keywords.js';
import { ACTION_KEYS, conflictingAction, readActionKey, type ActionCall } from './action-keyword.js';
import { moduleArgs } from './module-args.js';
import { notifyRefs, withNotify } from './notify.js';
import { describe, isMapping, keyLoc, valueLoc } from './problems.js';
import { didYouMean, editDistance, nearest } from './suggest.js';
import type { Block, Meta, Task, TaskNode } from './types.js';

export function readTaskList(
  value: unknown,
  loc: SourceLoc,
  what: string,
  ctx: LoadContext,
  source: TaskListSource,
): TaskNode[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    ctx.problems.add(`'${what}' expects a list of tasks, got ${describe(value)}`, loc);
    return [];
  }
  const nodes: TaskNode[] = [];
  value.forEach((entry, i) => nodes.push(...readTaskEntry(entry, locate(value, i) ?? loc, ctx, source)));
  return nodes;
}

type Action = { kind: 'module'; key: string; def: ModuleDefinition } | { kind: SpecialAction; key: string };

/** One entry of a task list; an import without keywords expands to several nodes. */
export function readTaskEntry(raw: unknown, loc: SourceLoc, ctx: LoadContext, source: TaskListSource): TaskNode[] {
  if (!isMapping(raw)) {
    ctx.problems.add(`a task must be a mapping, got ${describe(raw)}`, loc);
    return [];
  }
  if ('block' in raw) return [readBlock(raw, loc, ctx, source)];
  for (const k of ['rescue', 'always']) {
    if (k in raw) {
      ctx.problems.add(`'${k}' needs a 'block' beside it`, keyLoc(raw, k, loc));
      return [];
    }
  }

  const written = ACTION_KEYS.filter((k) => k in raw);
  if (written.length > 0) return readActionTask(raw, written, loc, ctx, source);

  const actions: Action[] = [];
  let unknownModule = false;
  for (const key of Object.keys(raw)) {
    if ((TASK_KEYS as readonly string[]).includes(key)) continue;
    const at = keyLoc(raw, key, loc);
    const special = SPECIAL_ACTIONS[key];
    const def = special ? undefined : ctx.registry.get(key);
    if (special) actions.push({ kind: special, key });
    else if (def) actions.push({ kind: 'module', key, def });
    else if (UNSUPPORTED[key]) {
      ctx.problems.add(UNSUPPORTED[key], at);
      unknownModule = true;
    } else if (key.startsWith('with_')) {
      ctx.problems.add(`'${key}' is not supported; use 'loop' (or ${SUPPORTED_WITH.join(', ')})`, at);
    } else {
      const keyword = nearest(key, TASK_KEYS);
      const module = nearest(key, [...ctx.moduleNames(), ...Object.keys(SPECIAL_ACTIONS)]);
      // the closer of the two wins; on a tie, a task that already has its module more likely misspelt a keyword
      const hasModule = Object.keys(raw).some((k) => SPECIAL_ACTIONS[k] || ctx.registry.get(k));
      const preferKeyword =
        keyword !== undefined &&
        (module === undefined ||
          editDistance(key, keyword) < editDistance(key, module) ||
          (editDistance(key, keyword) === editDistance(key, module) && hasModule));
      if (preferKeyword) {
        ctx.problems.add(`unknown key '${key}' in task; did you mean '${keyword}'?`, at);
      } else if (module) {
        ctx.problems.add(`unknown module '${key}'; did you mean '${module}'?`, at);
        unknownModule = true;
      } else {
        ctx.problems.add(
          `unknown module '${key}'`,
          at,
          `phx-play has built-in modules only: ${ctx.registry.names().join(', ')}`,
        );
        unknownModule = true;
      }
    }
  }

  if (actions.length === 0) {
    readKeywords(raw, TASK_KEYS, ctx, loc); // its keywords' problems are worth reporting too
    if (!unknownModule) {
      const names = [
        ...ctx.registry.names(),
        'block',
        'import_tasks',
        'include_tasks',
        'import_role',
        'include_role',
        'meta',
      ];
      ctx.problems.add(`task has no module: expected one of ${names.join(', ')}`, loc);
    }
    return [];
  }
  if (actions.length > 1) {
    const quoted = actions.map((a) => `'${a.key}'`);
    const count = actions.length === 2 ? 'two' : String(actions.length);
    const list = `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
    ctx.problems.add(`task has ${count} modules: ${list}`, keyLoc(raw, actions[1].key, loc));
  }
  const action = actions[0];
  switch (action.kind) {
    case 'module':
      return [readModuleTask(raw, action.key, action.def, loc, ctx, source)];
    case 'meta':
      return readMeta(raw, action.key, loc, ctx);
    case 'import_tasks':
      return importTasks(raw, action.key, loc, ctx, source);
    case 'include_tasks':
      return includeTasks(raw, action.key, loc, ctx, source);
    case 'import_role':
      return importRole(raw, action.key, loc, ctx);
    case 'include_role':
      return includeRole(raw, action.key, loc, ctx, source);
    case 'include':
      return oldInclude(raw, action.key, loc, ctx, source);
    case 'import_playbook':
      ctx.problems.add(
        `'import_playbook' is only allowed at the top level of a playbook, not among tasks`,
        keyLoc(raw, action.key, loc),
      );
      return [];
  }
}

/** A task written with `action:` or `local_action:` (parsing/mod_args.py ModArgsParser.parse). */
function readActionTask(
  raw: Record<string, unknown>,
  written: Array<(typeof ACTION_KEYS)[number]>,
  loc: SourceLoc,
  ctx: LoadContext,
  source: TaskListSource,
): TaskNode[] {
  if (written.length > 1)
    ctx.problems.add(`'action' and 'local_action' are mutually exclusive`, keyLoc(raw, 'local_action', loc));
  const key = written[0];
  const allowed: string[] = [...TASK_KEYS, ...ACTION_KEYS];
  const others = Object.keys(raw).filter((k) => !allowed.includes(k));
  for (const k of others) if (ctx.registry.get(k) || SPECIAL_ACTIONS[k]) conflictingAction(raw, key, k, loc, ctx);
  reportUnknownKeys(
    raw,
    allowed,
    'task',
    ctx,
    loc,
    others.filter((k) => !ctx.registry.get(k) && !SPECIAL_ACTIONS[k]),
  );
  const call = readActionKey(raw, key, loc, ctx);
  if (!call) {
    readKeywords(raw, TASK_KEYS, ctx, loc); // its keywords' problems are worth reporting too
    return [];
  }
  return [readModuleTask(raw, key, call.def, loc, ctx, source, call)];
}

function readModuleTask(
  raw: Record<string, unknown>,
  key: string,
  def: ModuleDefinition,
  loc: SourceLoc,
  ctx: LoadContext,
  source: TaskListSource,
  action?: ActionCall,
): Task {
  const values = readKeywords(raw, TASK_KEYS, ctx, loc);
  // local_action runs on the controller whatever delegate_to says, as ModArgsParser decides
  if (action?.delegateTo) values.delegate_to = action.delegateTo;
  const call = action
    ? { def, written: action.written, raw: action.raw, keyLoc: keyLoc(raw, key, loc), valueLoc: action.valueLoc }
    : { def, written: key, raw: raw[key], keyLoc: keyLoc(raw, key, loc), valueLoc: valueLoc(raw, key, loc) };
  const args = moduleArgs(call, raw.args, valueLoc(raw, 'args', loc), ctx.problems);
  if ('listen' in raw && !source.handlers)
    ctx.problems.add(`'listen' is only valid in handlers`, keyLoc(raw, 'listen', loc));
  const task: Task = {
    kind: 'task',
    ...inherited(values),
    ...readLoop(raw, values, ctx, loc),
    module: def.name,
    args,
    loc,
  };
  for (const k of [
    'name',
    'register',
    'changed_when',
    'failed_when',
    'notify',
    'retries',
    'delay',
    'until',
    'listen',
  ] as const) {
    if (values[k] !== undefined) (task as unknown as Record<string, unknown>)[k] = values[k];
  }
  if (task.notify) ctx.notifyRefs.set(task, notifyRefs(raw, task.notify, loc));
  return task;
}

function readMeta(raw: Record<string, unknown>, key: string, loc: SourceLoc, ctx: LoadContext): Meta[] {
  reportUnknownKeys(raw, [...META_KEYS, key], 'meta task', ctx, loc, TASK_KEYS);
  const values = readKeywords(raw, META_KEYS, ctx, loc);
  const action = raw[key];
  if (typeof action !== 'string' || !(META_ACTIONS as readonly string[]).includes(action)) {
    const hint = typeof action === 'string' ? didYouMean(action, META_ACTIONS) : '';
    ctx.problems.add(
      `unknown meta action ${describe(action)}: expected one of ${META_ACTIONS.join(', ')}${hint}`,
      valueLoc(raw, key, loc),
    );
    return [];
  }
  return [
    {
      kind: 'meta',
      ...inherited(values),
      ...(values.name !== undefined ? { name: values.name as string } : {}),
      action: action as Meta['action'],
      loc,
    },
  ];
}

function readBlock(raw: Record<string, unknown>, loc: SourceLoc, ctx: LoadContext, source: TaskListSource): Block {
  reportUnknownKeys(raw, BLOCK_KEYS, 'block', ctx, loc);
  const values = readKeywords(raw, BLOCK_KEYS, ctx, loc);
  const section = (k: 'block' | 'rescue' | 'always') => readTaskList(raw[k], valueLoc(raw, k, loc), k, ctx, source);
  let block = section('block');
  let rescue = section('rescue');
  let always = section('always');
  const notify = values.notify as string[] | undefined;
  if (notify) {
    // a block's notify belongs to every task in it
    const refs = notifyRefs(raw, notify, loc);
    block = withNotify(block, refs, ctx);
    rescue = withNotify(rescue, refs, ctx);
    always = withNotify(always, refs, ctx);
  }
  return {
    kind: 'block',
    ...inherited(values),
    ...(values.name !== undefined ? { name: values.name as string } : {}),
    block,
    rescue,
    always,
    loc,
  };
}
