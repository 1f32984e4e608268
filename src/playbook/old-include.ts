// The old `include:` of a task list, as ansible-core 2.14 (Debian 12's, what Proxmox VE 8
// admins get from apt) still runs it, deprecated (removed in 2.16). helpers.py's
// load_list_of_tasks decides per use: static (an import_tasks) when the file name holds no
// template, every parent is static and the task has no loop; else dynamic (an include_tasks).
// Its other arguments are variables of the included tasks (task_include.py TaskInclude.get_vars).
import type { SourceLoc } from '../errors.js';
import { looksTemplated } from './checks.js';
import type { LoadContext, TaskListSource } from './context.js';
import { importTasks, includeTasks, type OldIncludeArgs } from './includes.js';
import { parseKv } from './kv.js';
import { LOOP_KEYWORDS } from './keywords.js';
import { describe, isMapping, valueLoc } from './problems.js';
import type { TaskNode } from './types.js';

/** Display.deprecated's text for a task-level include (helpers.py; doc link of 2.14). */
export const TASK_INCLUDE_DEPRECATION =
  '"include" is deprecated, use include_tasks/import_tasks instead. See ' +
  'https://docs.ansible.com/ansible-core/2.14/user_guide/playbooks_reuse_includes.html for details. ' +
  'This feature will be removed in version 2.16.';

/** Display.deprecated's text for a play-level include (playbook/__init__.py Playbook._load_playbook_data). */
export const PLAYBOOK_INCLUDE_DEPRECATION =
  "'include' for playbook includes. You should use 'import_playbook' instead. " +
  'This feature will be removed in version 2.16.';

export function oldInclude(
  raw: Record<string, unknown>,
  key: string,
  loc: SourceLoc,
  ctx: LoadContext,
  source: TaskListSource,
): TaskNode[] {
  ctx.deprecations.add(TASK_INCLUDE_DEPRECATION);
  const args = includeArgs(raw, key, loc, ctx);
  if (!args) return [];
  const looped = LOOP_KEYWORDS.some((k) => k in raw);
  const isStatic = !looksTemplated(args.file) && ctx.dynamicDepth === 0 && !looped;
  if (!isStatic && source.handlers) {
    // a dynamic include is itself a handler in Ansible; phx-play runs only tasks as handlers
    ctx.problems.add(
      `a dynamic '${key}' (a templated file name, a loop, or inside include_tasks/include_role) cannot be a handler here; name the file literally`,
      args.at,
    );
    return [];
  }
  return isStatic ? importTasks(raw, key, loc, ctx, source, args) : includeTasks(raw, key, loc, ctx, source, args);
}

/**
 * The file and the variables: `include: x.yml a=1 b=2` (parse_kv: the free words are the
 * file, the k=v pairs its arguments) or `include: { file: x.yml, a: 1 }`, plus `args:`.
 */
function includeArgs(
  raw: Record<string, unknown>,
  key: string,
  loc: SourceLoc,
  ctx: LoadContext,
): OldIncludeArgs | undefined {
  const value = raw[key];
  const at = valueLoc(raw, key, loc);
  const given: Record<string, unknown> = {};
  if (typeof value === 'string') {
    const kv = parseKv(value.trim());
    const file = kv.free.map((t) => t.raw).join(' ');
    if (file !== '') given._raw_params = file;
    for (const p of kv.pairs) given[p.key] = p.value;
  } else if (isMapping(value)) Object.assign(given, value);
  else if (value !== null && value !== undefined) {
    ctx.problems.add(`'${key}' expects a file name, got ${describe(value)}`, at);
    return undefined;
  }
  if ('args' in raw) {
    if (isMapping(raw.args)) Object.assign(given, raw.args);
    else ctx.problems.add(`'args' expects a mapping, got ${describe(raw.args)}`, valueLoc(raw, 'args', loc));
  }
  // TaskInclude.check_options: the file is _raw_params or `file`; `apply` is include_tasks' only
  const file = given._raw_params ?? given.file;
  if (typeof file !== 'string' || file.trim() === '') {
    ctx.problems.add(`No file specified for ${key}`, at);
    return undefined;
  }
  if ('apply' in given) {
    ctx.problems.add(`Invalid options for ${key}: apply`, at);
    return undefined;
  }
  // TaskInclude.get_vars: the arguments are variables, but for tags and when
  const vars = Object.fromEntries(
    Object.entries(given).filter(([k]) => !['_raw_params', 'file', 'tags', 'when'].includes(k)),
  );
  return { file: file.trim(), at, vars, options: {} };
}
