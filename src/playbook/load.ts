// Entry point: a playbook file → the validated Playbook the executor runs.
// Everything is checked before anything runs; all problems come back together
// as one ValidationErrors of located PhxErrors.
import { dirname, join, resolve } from 'node:path';
import type { SourceLoc } from '../errors.js';
import type { ModuleRegistry } from '../registry.js';
import { locate } from '../yaml-source.js';
import { looksTemplated } from './checks.js';
import { LoadContext } from './context.js';
import { checkHandlers } from './handlers.js';
import { readTaskFile } from './includes.js';
import { checkVarNames, normaliseTags, readKeywords, reportUnknownKeys } from './keyword-values.js';
import { IMPORT_PLAYBOOK_KEYS, KEYWORDS } from './keywords.js';
import { PLAYBOOK_INCLUDE_DEPRECATION } from './old-include.js';
import { readPlay } from './play.js';
import { describe, isMapping, valueLoc } from './problems.js';
import { loadRole, type RoleFiles } from './roles.js';
import type { Block, Condition, Play, Playbook, Task, TaskNode } from './types.js';

export interface LoadPlaybookOptions {
  registry: ModuleRegistry;
  /**
   * Accepted for the CLI's convenience; not used for loading: templated
   * vars_files and include_tasks names are resolved per host at run time.
   */
  extraVars?: Record<string, unknown>;
}

// a play-level `include:` is import_playbook, deprecated (ansible-core 2.14's playbook/__init__.py)
const IMPORT_PLAYBOOK = ['import_playbook', 'ansible.builtin.import_playbook', 'include', 'ansible.builtin.include'];

export function loadPlaybook(path: string, opts: LoadPlaybookOptions): Playbook {
  const ctx = new LoadContext(opts.registry);
  const plays = readPlaybookFile(path, undefined, [], ctx);
  for (const play of plays) checkHandlers(play, ctx);
  ctx.problems.throwIfAny();
  const playbook: Playbook = { file: path, plays };
  if (ctx.deprecations.size > 0) playbook.deprecations = [...ctx.deprecations];
  return playbook;
}

/**
 * Loads and validates a task file at run time (include_tasks with a templated
 * name). Relative `path` resolves from the caller's cwd: join it with the
 * IncludeTasks node's baseDir first.
 */
export function loadTaskFile(
  path: string,
  opts: {
    registry: ModuleRegistry;
    handlers?: boolean;
    loc?: SourceLoc;
    playbookDir?: string;
    /** told Ansible's deprecation warnings about what the file uses (an old `include:`) */
    deprecated?: (message: string) => void;
  },
): TaskNode[] {
  const ctx = new LoadContext(opts.registry, opts.playbookDir);
  ctx.dynamicDepth = 1; // loaded by a dynamic include
  const tasks = readTaskFile(path, opts.loc, ctx, opts.handlers ?? false);
  ctx.problems.throwIfAny();
  for (const m of ctx.deprecations) opts.deprecated?.(m);
  return tasks ?? [];
}

/**
 * Loads and validates a role at run time (include_role with a templated name or file): its block
 * (dependencies, then tasks) and its handlers. Problems are thrown, located at `loc`.
 */
export function loadRoleAtRunTime(
  name: string,
  opts: {
    registry: ModuleRegistry;
    playbookDir: string;
    files: RoleFiles;
    public: boolean;
    loc: SourceLoc;
    deprecated?: (message: string) => void;
  },
): { block: Block | undefined; handlers: Task[] } {
  const ctx = new LoadContext(opts.registry, opts.playbookDir);
  ctx.dynamicDepth = 1; // loaded by a dynamic include_role
  const block = loadRole(
    { name, at: opts.loc, params: {}, files: opts.files, keywords: {}, public: opts.public, once: false },
    ctx,
  );
  ctx.problems.throwIfAny();
  for (const m of ctx.deprecations) opts.deprecated?.(m);
  return { block, handlers: ctx.roleHandlers };
}

function readPlaybookFile(path: string, ref: SourceLoc | undefined, stack: string[], ctx: LoadContext): Play[] {
  const raw = ctx.readYaml(path, ref, 'playbook');
  if (raw === undefined) return [];
  if (raw === null) return [];
  if (!Array.isArray(raw)) {
    ctx.problems.add(
      `a playbook is a list of plays, got ${describe(raw)}`,
      locate(raw) ?? { file: path, line: 1, col: 1 },
    );
    return [];
  }
  const inner = [...stack, resolve(path)];
  const plays: Play[] = [];
  raw.forEach((entry, i) => {
    const loc = locate(raw, i) ?? { file: path, line: 1, col: 1 };
    if (!isMapping(entry)) {
      ctx.problems.add(`a play must be a mapping, got ${describe(entry)}`, loc);
      return;
    }
    const importKey = IMPORT_PLAYBOOK.find((k) => k in entry);
    if (importKey?.endsWith('include')) ctx.deprecations.add(PLAYBOOK_INCLUDE_DEPRECATION);
    if (importKey) plays.push(...importPlaybook(entry, importKey, loc, path, inner, ctx));
    else {
      const play = readPlay(entry, loc, path, ctx);
      if (play) plays.push(play);
    }
  });
  return plays;
}

function importPlaybook(
  raw: Record<string, unknown>,
  key: string,
  loc: SourceLoc,
  file: string,
  stack: string[],
  ctx: LoadContext,
): Play[] {
  reportUnknownKeys(
    raw,
    [...IMPORT_PLAYBOOK_KEYS, key],
    key.endsWith('include') ? 'include' : 'import_playbook',
    ctx,
    loc,
  );
  const values = readKeywords(raw, ['name', 'tags', 'when'], ctx, loc);
  const name = raw[key];
  const at = valueLoc(raw, key, loc);
  if (typeof name !== 'string' || name.trim() === '') {
    ctx.problems.add(`'${key}' expects a file name, got ${describe(name)}`, at);
    return [];
  }
  if (looksTemplated(name)) {
    ctx.problems.add(`${key} is static: its file name cannot hold a template`, at);
    return [];
  }
  const path = join(dirname(file), name.trim());
  const abs = resolve(path);
  if (stack.includes(abs)) {
    const chain = [...stack.slice(stack.indexOf(abs)), abs].map((p) => p.split('/').pop()).join(' → ');
    ctx.problems.add(`import_playbook cycle: ${chain}`, at);
    return [];
  }
  let vars: Record<string, unknown> | undefined;
  if ('vars' in raw && raw.vars !== null) {
    if (isMapping(raw.vars)) {
      vars = raw.vars;
      checkVarNames(vars, valueLoc(raw, 'vars', loc), ctx);
    } else
      ctx.problems.add(
        `'vars' expects ${KEYWORDS.vars.expects}, got ${describe(raw.vars)}`,
        valueLoc(raw, 'vars', loc),
      );
  }
  const plays = readPlaybookFile(path, at, stack, ctx);
  // the import's vars win over the imported plays' own (as in Ansible); tags and when add up
  return plays.map((p) => {
    const play: Play = { ...p };
    if (vars) play.vars = { ...(p.vars ?? {}), ...vars };
    if (values.tags) play.tags = [...(p.tags ?? []), ...normaliseTags(values.tags)];
    if (values.when !== undefined) play.when = combine(p.when, values.when as Condition);
    return play;
  });
}

function combine(a: Condition | undefined, b: Condition): Condition {
  if (a === undefined) return b;
  return [...(Array.isArray(a) ? a : [a]), ...(Array.isArray(b) ? b : [b])];
}
