// Task files: import_tasks (static: expanded now, keywords apply to every
// imported task) and include_tasks (dynamic: an IncludeTasks node, loopable,
// preloaded and validated now when its file name has no template).
import { dirname, join, resolve } from 'node:path';
import type { SourceLoc } from '../errors.js';
import { checkTemplate, looksTemplated } from './checks.js';
import type { LoadContext, TaskListSource } from './context.js';
import { inherited, readKeywords, readLoop, reportUnknownKeys } from './keyword-values.js';
import { APPLY_KEYS, IMPORT_TASKS_KEYS, INCLUDE_TASKS_KEYS, TASK_KEYS } from './keywords.js';
import { describe, isMapping, valueLoc } from './problems.js';
import { parseKv } from './kv.js';
import { notifyRefs, withNotify } from './notify.js';
// tasks.ts imports importTasks/includeTasks back: the grammar's own recursion (a task
// file is a task list, whose entries may import or include task files).
import { readTaskList } from './tasks.js';
import type { Block, IncludeTasks, InheritedKeywords, Task, TaskNode } from './types.js';

/**
 * The validated tasks of a file (cached per file), or undefined when it could
 * not be read; its problems go to ctx. load.ts's loadTaskFile is the entry point.
 */
export function readTaskFile(
  path: string,
  ref: SourceLoc | undefined,
  ctx: LoadContext,
  handlers: boolean,
): TaskNode[] | undefined {
  // read under a dynamic include, an old `include:` in it is dynamic: another reading
  const id = `${resolve(path)}\0${handlers}\0${ctx.dynamicDepth > 0}`;
  const cached = ctx.taskFiles.get(id);
  if (cached) return cached;
  const abs = resolve(path);
  const cycleAt = ctx.taskFileStack.indexOf(abs);
  if (cycleAt >= 0) {
    const chain = [...ctx.taskFileStack.slice(cycleAt), abs].map((p) => p.split('/').pop()).join(' → ');
    ctx.problems.add(`import cycle: ${chain}`, ref);
    return undefined;
  }
  const raw = ctx.readYaml(path, ref, 'task file');
  if (raw === undefined) return undefined;
  const fileLoc = { file: path, line: 1, col: 1 };
  if (raw !== null && !Array.isArray(raw)) {
    ctx.problems.add(`a task file is a list of tasks, got ${describe(raw)}`, fileLoc);
    return undefined;
  }
  ctx.taskFileStack.push(abs);
  const source: TaskListSource = { file: path, baseDir: dirname(path), handlers };
  const nodes = readTaskList(raw, fileLoc, 'tasks', ctx, source);
  ctx.taskFileStack.pop();
  ctx.taskFiles.set(id, nodes);
  return nodes;
}

/** The old `include:` read by old-include.ts: its file and its other arguments, which are variables. */
export interface OldIncludeArgs {
  file: string;
  at: SourceLoc;
  vars: Record<string, unknown>;
  options: Record<string, unknown>;
}

/** `import_tasks: x.yml` or `import_tasks: { file: x.yml }` → the file name and where it is written. */
function fileArgument(raw: Record<string, unknown>, key: string, loc: SourceLoc, ctx: LoadContext, allowed: string[]) {
  const value = raw[key];
  const at = valueLoc(raw, key, loc);
  if (typeof value === 'string' && value.trim() !== '') {
    // `include_tasks: file=x.yml` is the k=v form of `{ file: x.yml }`
    const kv = /^file=/.test(value.trim()) ? parseKv(value.trim()) : undefined;
    const file = kv?.free.length === 0 && kv.pairs.length === 1 ? kv.pairs[0].value : value.trim();
    return { file, at, options: {} as Record<string, unknown> };
  }
  if (isMapping(value)) {
    reportUnknownKeys(value, allowed, key, ctx, at);
    if (typeof value.file === 'string' && value.file.trim() !== '')
      return { file: value.file.trim(), at: valueLoc(value, 'file', at), options: value };
  }
  ctx.problems.add(`'${key}' expects a file name, got ${describe(value)}`, at);
  return undefined;
}

export function importTasks(
  raw: Record<string, unknown>,
  key: string,
  loc: SourceLoc,
  ctx: LoadContext,
  source: TaskListSource,
  old?: OldIncludeArgs,
): TaskNode[] {
  const allowed = old ? [...IMPORT_TASKS_KEYS, 'args'] : IMPORT_TASKS_KEYS;
  reportUnknownKeys(raw, [...allowed, key], old ? 'include' : 'import_tasks', ctx, loc, TASK_KEYS);
  const values = readKeywords(raw, IMPORT_TASKS_KEYS, ctx, loc);
  const arg = old ?? fileArgument(raw, key, loc, ctx, ['file']);
  if (!arg) return [];
  if (looksTemplated(arg.file)) {
    ctx.problems.add(`import_tasks is static: its file name cannot hold a template; use include_tasks`, arg.at);
    return [];
  }
  const tasks = readTaskFile(join(source.baseDir, arg.file), arg.at, ctx, source.handlers) ?? [];
  const keywords = inherited(values);
  if (old && Object.keys(old.vars).length > 0) keywords.vars = { ...keywords.vars, ...old.vars };
  // a name alone changes nothing for the tasks (Ansible ignores it too)
  if (Object.keys(keywords).length === 0) return tasks;
  // in handlers the tasks are listed themselves, each with the keywords (helpers.py extends the handler
  // list with the included blocks' tasks): a block there is never run as a handler
  if (source.handlers) return tasks.map((t) => (t.kind === 'task' ? withKeywords(t, keywords, ctx) : t));
  // keywords on the import apply to every imported task: exactly a block's inheritance
  const block: Block = { kind: 'block', ...keywords, block: tasks, rescue: [], always: [], loc };
  if (values.name !== undefined) block.name = values.name as string;
  return [block];
}

export function includeTasks(
  raw: Record<string, unknown>,
  key: string,
  loc: SourceLoc,
  ctx: LoadContext,
  source: TaskListSource,
  old?: OldIncludeArgs,
): TaskNode[] {
  const allowed = old ? [...INCLUDE_TASKS_KEYS, 'args'] : INCLUDE_TASKS_KEYS;
  reportUnknownKeys(raw, [...allowed, key], old ? 'include' : 'include_tasks', ctx, loc, TASK_KEYS);
  const values = readKeywords(raw, INCLUDE_TASKS_KEYS, ctx, loc);
  const arg = old ?? fileArgument(raw, key, loc, ctx, ['file', 'apply']);
  if (!arg) return [];
  checkTemplate(arg.file, arg.at, ctx.problems);
  const node: IncludeTasks = {
    kind: 'include_tasks',
    ...inherited(values),
    ...readLoop(raw, values, ctx, loc),
    file: arg.file,
    baseDir: source.baseDir,
    loc,
  };
  if (values.name !== undefined) node.name = values.name as string;
  if (values.register !== undefined) node.register = values.register as string;
  if (old && Object.keys(old.vars).length > 0) node.vars = { ...node.vars, ...old.vars };
  const apply = 'apply' in arg.options ? readApply(arg.options, arg.at, ctx) : undefined;
  if (looksTemplated(arg.file)) {
    if (apply) node.apply = apply.keywords;
    return [node];
  }
  const path = join(source.baseDir, arg.file);
  // a file that includes itself (a conditional retry loop) is legal: it is loaded when reached
  if (ctx.taskFileStack.includes(resolve(path))) return [node];
  ctx.dynamicDepth++;
  const tasks = readTaskFile(path, arg.at, ctx, source.handlers);
  ctx.dynamicDepth--;
  if (tasks) {
    // `apply` wraps the included tasks in a block carrying its keywords
    node.preloaded = apply ? [applyBlock(tasks, apply, loc, ctx)] : tasks;
  }
  return [node];
}

interface Apply {
  keywords: InheritedKeywords & { notify?: string[] };
  raw: Record<string, unknown>;
  loc: SourceLoc;
}

function readApply(options: Record<string, unknown>, at: SourceLoc, ctx: LoadContext): Apply | undefined {
  const value = options.apply;
  const loc = valueLoc(options, 'apply', at);
  if (!isMapping(value)) {
    ctx.problems.add(`'apply' expects a mapping of keywords, got ${describe(value)}`, loc);
    return undefined;
  }
  reportUnknownKeys(value, APPLY_KEYS, 'apply', ctx, loc);
  const values = readKeywords(value, APPLY_KEYS, ctx, loc);
  const keywords: Apply['keywords'] = inherited(values);
  if (values.notify) keywords.notify = values.notify as string[];
  return { keywords, raw: value, loc };
}

function applyBlock(tasks: TaskNode[], apply: Apply, loc: SourceLoc, ctx: LoadContext): Block {
  const { notify, ...keywords } = apply.keywords;
  const inner = notify ? withNotify(tasks, notifyRefs(apply.raw, notify, apply.loc), ctx) : tasks;
  return { kind: 'block', ...keywords, block: inner, rescue: [], always: [], loc };
}

/** A copy of the task under the keywords of what imports it, merged as a block's are (when: all, tags: union). */
function withKeywords(task: Task, keywords: InheritedKeywords, ctx: LoadContext): Task {
  const merged: Task = { ...task };
  for (const [k, v] of Object.entries(keywords))
    if ((merged as unknown as Record<string, unknown>)[k] === undefined)
      (merged as unknown as Record<string, unknown>)[k] = v;
  const when = [keywords.when, task.when].flatMap((c) => (c === undefined ? [] : Array.isArray(c) ? c : [c]));
  if (when.length > 0) merged.when = when;
  if (keywords.tags) merged.tags = [...new Set([...keywords.tags, ...(task.tags ?? [])])];
  if (keywords.vars) merged.vars = { ...keywords.vars, ...task.vars };
  const refs = ctx.notifyRefs.get(task);
  if (refs) ctx.notifyRefs.set(merged, refs);
  return merged;
}
