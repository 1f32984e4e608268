// Roles: a play's `roles:`, import_role (static) and include_role (dynamic,
// loopable). A role becomes a Block carrying its RoleInstance (variables,
// role_path): its dependencies' blocks first, then its tasks. Its handlers join
// the play's. Everything is read and validated at load time, as task files are;
// an include_role whose name holds a template is loaded when reached.
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { SourceLoc } from '../errors.js';
import { locate } from '../yaml-source.js';
import { checkTemplate, checkTemplatesDeep, looksTemplated } from './checks.js';
import type { LoadContext, TaskListSource } from './context.js';
import { readTaskFile } from './includes.js';
import { inherited, readKeywords, readLoop, reportUnknownKeys } from './keyword-values.js';
import {
  APPLY_KEYS,
  IMPORT_ROLE_KEYS,
  INCLUDE_ROLE_KEYS,
  ROLE_ENTRY_KEYWORDS,
  ROLE_OPTION_KEYS,
  TASK_KEYS,
} from './keywords.js';
import { notifyRefs, withNotify } from './notify.js';
import { describe, isMapping, keyLoc, valueLoc } from './problems.js';
import type {
  Block,
  IncludeRoleOptions,
  IncludeTasks,
  InheritedKeywords,
  RoleInstance,
  Task,
  TaskNode,
} from './types.js';

/** Which files of the role to read (tasks_from, vars_from, ...); `main` by default. */
export interface RoleFiles {
  tasks?: string;
  vars?: string;
  defaults?: string;
  handlers?: string;
}

export interface RoleRequest {
  name: string;
  /** where the role is named: errors point here */
  at: SourceLoc;
  params: Record<string, unknown>;
  files: RoleFiles;
  keywords: InheritedKeywords;
  public: boolean;
  /** the play's `roles:` (and their dependencies) run each role once unless allow_duplicates */
  once: boolean;
  /** directory of the role that depends on this one: searched too */
  parentDir?: string;
}

/** Ansible's default roles_path (lib/ansible/config/base.yml DEFAULT_ROLES_PATH). */
const DEFAULT_ROLES_PATH = ['~/.ansible/roles', '/usr/share/ansible/roles', '/etc/ansible/roles'];

const expandHome = (p: string) => (p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p);

/**
 * Where a role name is looked for, in Ansible's order (lib/ansible/playbook/role/definition.py
 * RoleDefinition._load_role_path): the playbook's roles/, the roles path, the depending role's
 * directory, the playbook's directory; a name holding a '/' may also be a path.
 */
export function roleSearchPaths(playbookDir: string, parentDir?: string): string[] {
  const env = process.env.PHX_ROLES_PATH ?? process.env.ANSIBLE_ROLES_PATH;
  const configured = env ? env.split(':').filter((p) => p !== '') : DEFAULT_ROLES_PATH;
  return [
    join(playbookDir, 'roles'),
    ...configured.map((p) => resolve(playbookDir, expandHome(p))),
    ...(parentDir ? [parentDir] : []),
    playbookDir,
  ];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The role's directory, or the places searched. */
export function findRole(
  name: string,
  playbookDir: string,
  parentDir?: string,
): { path: string } | { searched: string[] } {
  const searched = roleSearchPaths(playbookDir, parentDir);
  for (const dir of searched) {
    const p = resolve(dir, name);
    if (isDir(p)) return { path: p };
  }
  if (name.includes('/')) {
    const p = isAbsolute(name) ? name : resolve(playbookDir, name);
    if (isDir(p)) return { path: p };
  }
  return { searched };
}

/** `tasks/main.yml`, `main.yaml` or `main`; `tasks_from: setup` → setup.yml, setup.yaml, setup. */
function roleFile(rolePath: string, sub: string, base: string): string | undefined {
  const dir = join(rolePath, sub);
  const names = /\.(ya?ml|json)$/.test(base) ? [base] : [`${base}.yml`, `${base}.yaml`, base, `${base}.json`];
  return names.map((n) => join(dir, n)).find((p) => existsSync(p) && !isDir(p));
}

function readVarsFile(
  rolePath: string,
  sub: string,
  base: string | undefined,
  at: SourceLoc,
  ctx: LoadContext,
): Record<string, unknown> {
  const file = roleFile(rolePath, sub, base ?? 'main');
  if (!file) {
    if (base !== undefined) ctx.problems.add(`role ${sub} file '${base}' not found in ${join(rolePath, sub)}`, at);
    return {};
  }
  const data = ctx.readYaml(file, at, `role ${sub} file`);
  const fileLoc = { file, line: 1, col: 1 };
  if (data === undefined || data === null) return {};
  if (!isMapping(data)) {
    ctx.problems.add(`a role's ${sub} file must be a mapping of variables, got ${describe(data)}`, fileLoc);
    return {};
  }
  // no name check here: Ansible checks the names of `vars:` (Base._load_vars) but loads a role's
  // defaults and vars files as they are (Role._load_role_yaml); a name like `a-b` is reachable as
  // vars['a-b'], and `{{ a-b }}` fails where it is used, as there
  checkTemplatesDeep(data, fileLoc, ctx.problems);
  return data;
}

interface RoleMeta {
  dependencies: Array<{ entry: unknown; loc: SourceLoc }>;
  allowDuplicates: boolean;
}

function readMeta(rolePath: string, at: SourceLoc, ctx: LoadContext): RoleMeta {
  const meta: RoleMeta = { dependencies: [], allowDuplicates: false };
  const file = roleFile(rolePath, 'meta', 'main');
  if (!file) return meta;
  const data = ctx.readYaml(file, at, 'role meta file');
  const fileLoc = { file, line: 1, col: 1 };
  if (data === undefined || data === null) return meta;
  if (!isMapping(data)) {
    ctx.problems.add(`a role's meta/main.yml must be a mapping, got ${describe(data)}`, fileLoc);
    return meta;
  }
  if ('allow_duplicates' in data) {
    if (typeof data.allow_duplicates === 'boolean') meta.allowDuplicates = data.allow_duplicates;
    else
      ctx.problems.add(
        `'allow_duplicates' expects a boolean, got ${describe(data.allow_duplicates)}`,
        valueLoc(data, 'allow_duplicates', fileLoc),
      );
  }
  const deps = data.dependencies;
  if (deps === undefined || deps === null) return meta;
  const depsLoc = valueLoc(data, 'dependencies', fileLoc);
  if (!Array.isArray(deps)) {
    ctx.problems.add(`'dependencies' expects a list of roles, got ${describe(deps)}`, depsLoc);
    return meta;
  }
  meta.dependencies = (deps as unknown[]).map((entry, i) => ({ entry, loc: locate(deps, i) ?? depsLoc }));
  return meta;
}

/**
 * One entry of `roles:` or of a role's `dependencies`: a name, or a mapping with `role:` (or
 * `name:`), keywords, and parameters (every other key; `vars:` adds to them).
 */
export function readRoleEntry(
  entry: unknown,
  loc: SourceLoc,
  ctx: LoadContext,
  parentDir?: string,
): RoleRequest | undefined {
  const base = { params: {}, files: {}, keywords: {}, public: true, once: true, parentDir };
  if (typeof entry === 'string' && entry.trim() !== '') {
    if (looksTemplated(entry)) {
      ctx.problems.add(`a role name in 'roles:' cannot hold a template; use include_role`, loc);
      return undefined;
    }
    return { ...base, name: entry.trim(), at: loc };
  }
  if (!isMapping(entry)) {
    ctx.problems.add(`a role entry is a role name or a mapping with 'role:', got ${describe(entry)}`, loc);
    return undefined;
  }
  const key = 'role' in entry ? 'role' : 'name' in entry ? 'name' : undefined;
  const name = key ? entry[key] : undefined;
  const at = key ? valueLoc(entry, key, loc) : loc;
  if (typeof name !== 'string' || name.trim() === '') {
    ctx.problems.add(`a role entry needs 'role:' naming the role, got ${describe(name)}`, at);
    return undefined;
  }
  if (looksTemplated(name)) {
    ctx.problems.add(`a role name in 'roles:' cannot hold a template; use include_role`, at);
    return undefined;
  }
  const values = readKeywords(entry, ROLE_ENTRY_KEYWORDS, ctx, loc);
  const { vars, ...keywords } = inherited(values);
  const params: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) {
    // `name` beside `role` is the entry's name, as in Ansible (a field, not a parameter)
    if (k === 'role' || k === 'name' || (ROLE_ENTRY_KEYWORDS as readonly string[]).includes(k)) continue;
    if (/^(loop|loop_control|with_\w+)$/.test(k)) {
      ctx.problems.add(`'${k}' cannot be used on a role entry; to loop, use include_role`, keyLoc(entry, k, loc));
      continue;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      ctx.problems.add(`role parameter '${k}' is not a valid variable name`, keyLoc(entry, k, loc));
      continue;
    }
    checkTemplatesDeep(v, valueLoc(entry, k, loc), ctx.problems);
    params[k] = v;
  }
  return { ...base, name: name.trim(), at, params: { ...params, ...(vars ?? {}) }, keywords };
}

/**
 * The role's Block (dependencies first, then its tasks), or undefined when it is not found, is
 * broken (problems in ctx), or already ran in this play (once, without allow_duplicates).
 */
export function loadRole(req: RoleRequest, ctx: LoadContext): Block | undefined {
  const found = findRole(req.name, ctx.playbookDir, req.parentDir);
  if ('searched' in found) {
    ctx.problems.add(`role '${req.name}' not found; searched: ${found.searched.join(', ')}`, req.at);
    return undefined;
  }
  const path = found.path;
  if (ctx.roleStack.includes(path)) {
    const chain = [...ctx.roleStack.slice(ctx.roleStack.indexOf(path)), path].map((p) => p.split('/').pop());
    ctx.problems.add(`role dependency cycle: ${chain.join(' → ')}`, req.at);
    return undefined;
  }
  const meta = readMeta(path, req.at, ctx);
  if (req.once) {
    const key = `${path}\0${JSON.stringify(req.params)}\0${req.files.tasks ?? ''}`;
    if (ctx.rolesRun.has(key) && !meta.allowDuplicates) return undefined;
    ctx.rolesRun.add(key);
  }
  const role: RoleInstance = {
    name: path.split('/').pop()!,
    path,
    defaults: readVarsFile(path, 'defaults', req.files.defaults, req.at, ctx),
    vars: readVarsFile(path, 'vars', req.files.vars, req.at, ctx),
    params: req.params,
    public: req.public,
  };
  ctx.roleStack.push(path);
  const deps: TaskNode[] = [];
  for (const dep of meta.dependencies) {
    const depReq = readRoleEntry(dep.entry, dep.loc, ctx, dirname(path));
    // a dependency of a role included once per play is once per play too
    const block = depReq && loadRole({ ...depReq, once: req.once || depReq.once, public: req.public }, ctx);
    if (block) deps.push(block);
  }
  const tasks = roleTaskFile(path, 'tasks', req.files.tasks, req.at, ctx, false) ?? [];
  const handlers = roleTaskFile(path, 'handlers', req.files.handlers, req.at, ctx, true) ?? [];
  ctx.roleStack.pop();
  addHandlers(handlers, role, ctx);
  return { kind: 'block', ...req.keywords, role, block: [...deps, ...tasks], rescue: [], always: [], loc: req.at };
}

function roleTaskFile(
  path: string,
  sub: 'tasks' | 'handlers',
  base: string | undefined,
  at: SourceLoc,
  ctx: LoadContext,
  handlers: boolean,
): TaskNode[] | undefined {
  const file = roleFile(path, sub, base ?? 'main');
  if (!file) {
    if (base !== undefined) ctx.problems.add(`role ${sub} file '${base}' not found in ${join(path, sub)}`, at);
    return undefined;
  }
  return readTaskFile(file, at, ctx, handlers);
}

/** The role's handlers join the play's, each knowing its role (for its variables and `role : name`). */
function addHandlers(handlers: TaskNode[], role: RoleInstance, ctx: LoadContext): void {
  // a role used twice (other parameters, allow_duplicates) has its handlers once, as in Ansible
  if (ctx.roleHandlerKeys.has(role.path)) return;
  ctx.roleHandlerKeys.add(role.path);
  for (const h of handlers) {
    if (h.kind !== 'task') {
      ctx.problems.add(`a role's handlers must be tasks (blocks and includes are not supported there)`, h.loc);
      continue;
    }
    const copy: Task = { ...h, role };
    const refs = ctx.notifyRefs.get(h);
    if (refs) ctx.notifyRefs.set(copy, refs);
    ctx.roleHandlers.push(copy);
  }
}

/** The play's `roles:` → their blocks, in order, dependencies first, each role once. */
export function readPlayRoles(value: unknown, loc: SourceLoc, ctx: LoadContext): Block[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    ctx.problems.add(`'roles' expects a list of roles, got ${describe(value)}`, loc);
    return [];
  }
  const blocks: Block[] = [];
  value.forEach((entry, i) => {
    const req = readRoleEntry(entry, locate(value, i) ?? loc, ctx);
    const block = req && loadRole(req, ctx);
    if (block) blocks.push(block);
  });
  return blocks;
}

interface RoleTaskArgs {
  name: string;
  at: SourceLoc;
  options: Record<string, unknown>;
  optionsLoc: SourceLoc;
}

function roleArgs(raw: Record<string, unknown>, key: string, loc: SourceLoc, ctx: LoadContext, allowed: string[]) {
  const value = raw[key];
  const at = valueLoc(raw, key, loc);
  if (typeof value === 'string' && value.trim() !== '')
    return { name: value.trim(), at, options: {}, optionsLoc: at } satisfies RoleTaskArgs;
  if (isMapping(value)) {
    reportUnknownKeys(value, allowed, key, ctx, at);
    if (typeof value.name === 'string' && value.name.trim() !== '')
      return { name: value.name.trim(), at: valueLoc(value, 'name', at), options: value, optionsLoc: at };
  }
  ctx.problems.add(`'${key}' expects a mapping with 'name:' naming the role, got ${describe(value)}`, at);
  return undefined;
}

/** tasks_from, vars_from, ... (strings) and the boolean options, checked. */
function roleOptions(args: RoleTaskArgs, ctx: LoadContext): { files: RoleFiles; bools: Record<string, boolean> } {
  const files: RoleFiles = {};
  const bools: Record<string, boolean> = {};
  for (const [opt, k] of [
    ['tasks_from', 'tasks'],
    ['vars_from', 'vars'],
    ['defaults_from', 'defaults'],
    ['handlers_from', 'handlers'],
  ] as const) {
    const v = args.options[opt];
    if (v === undefined || v === null) continue;
    const at = valueLoc(args.options, opt, args.optionsLoc);
    if (typeof v !== 'string' || v.trim() === '')
      ctx.problems.add(`'${opt}' expects a file name, got ${describe(v)}`, at);
    else {
      checkTemplate(v, at, ctx.problems);
      files[k] = v.trim();
    }
  }
  for (const opt of ['public', 'allow_duplicates', 'rolespec_validate']) {
    const v = args.options[opt];
    if (v === undefined || v === null) continue;
    if (typeof v === 'boolean') bools[opt] = v;
    else
      ctx.problems.add(`'${opt}' expects a boolean, got ${describe(v)}`, valueLoc(args.options, opt, args.optionsLoc));
  }
  return { files, bools };
}

const fileNames = (files: RoleFiles): string[] =>
  [files.tasks, files.vars, files.defaults, files.handlers].filter((f): f is string => f !== undefined);

const OPTION_KEYS_IMPORT = ROLE_OPTION_KEYS.filter((k) => k !== 'apply' && k !== 'public');

export function importRole(raw: Record<string, unknown>, key: string, loc: SourceLoc, ctx: LoadContext): TaskNode[] {
  reportUnknownKeys(raw, [...IMPORT_ROLE_KEYS, key], 'import_role', ctx, loc, TASK_KEYS);
  const values = readKeywords(raw, IMPORT_ROLE_KEYS, ctx, loc);
  const args = roleArgs(raw, key, loc, ctx, OPTION_KEYS_IMPORT);
  if (!args) return [];
  const { files } = roleOptions(args, ctx);
  if ([args.name, ...fileNames(files)].some(looksTemplated)) {
    ctx.problems.add(`import_role is static: its name and files cannot hold a template; use include_role`, args.at);
    return [];
  }
  const { vars, ...keywords } = inherited(values);
  const block = loadRole(
    { name: args.name, at: args.at, params: vars ?? {}, files, keywords, public: true, once: false },
    ctx,
  );
  if (block && values.name !== undefined) block.name = values.name as string;
  return block ? [block] : [];
}

export function includeRole(
  raw: Record<string, unknown>,
  key: string,
  loc: SourceLoc,
  ctx: LoadContext,
  source: TaskListSource,
): TaskNode[] {
  reportUnknownKeys(raw, [...INCLUDE_ROLE_KEYS, key], 'include_role', ctx, loc, TASK_KEYS);
  const values = readKeywords(raw, INCLUDE_ROLE_KEYS, ctx, loc);
  const args = roleArgs(raw, key, loc, ctx, [...ROLE_OPTION_KEYS]);
  if (!args) return [];
  checkTemplate(args.name, args.at, ctx.problems);
  const { files, bools } = roleOptions(args, ctx);
  const options: IncludeRoleOptions = {
    ...(files.tasks ? { tasks_from: files.tasks } : {}),
    ...(files.vars ? { vars_from: files.vars } : {}),
    ...(files.defaults ? { defaults_from: files.defaults } : {}),
    ...(files.handlers ? { handlers_from: files.handlers } : {}),
    public: bools.public ?? false,
    allow_duplicates: bools.allow_duplicates ?? true,
  };
  const node: IncludeTasks = {
    kind: 'include_tasks',
    ...inherited(values),
    ...readLoop(raw, values, ctx, loc),
    file: args.name,
    baseDir: source.baseDir,
    role: options,
    loc,
  };
  if (values.name !== undefined) node.name = values.name as string;
  if (values.register !== undefined) node.register = values.register as string;
  let apply:
    { keywords: InheritedKeywords & { notify?: string[] }; raw: Record<string, unknown>; loc: SourceLoc } | undefined;
  if ('apply' in args.options) {
    const at = valueLoc(args.options, 'apply', args.optionsLoc);
    const value = args.options.apply;
    if (!isMapping(value)) ctx.problems.add(`'apply' expects a mapping of keywords, got ${describe(value)}`, at);
    else {
      reportUnknownKeys(value, APPLY_KEYS, 'apply', ctx, at);
      const applied = readKeywords(value, APPLY_KEYS, ctx, at);
      apply = { keywords: inherited(applied), raw: value, loc: at };
      if (applied.notify) apply.keywords.notify = applied.notify as string[];
    }
  }
  if ([args.name, ...fileNames(files)].some(looksTemplated)) {
    if (apply) node.apply = apply.keywords;
    return [node];
  }
  // the task's vars are the role's parameters at run time (scope vars); nothing more to carry
  ctx.dynamicDepth++;
  const block = loadRole(
    { name: args.name, at: args.at, params: {}, files, keywords: {}, public: options.public, once: false },
    ctx,
  );
  ctx.dynamicDepth--;
  if (!block) return [node];
  if (apply) {
    const { notify, ...keywords } = apply.keywords;
    const inner = notify ? withNotify([block], notifyRefs(apply.raw, notify, apply.loc), ctx) : [block];
    node.preloaded = [{ kind: 'block', ...keywords, block: inner, rescue: [], always: [], loc }];
  } else node.preloaded = [block];
  return [node];
}
