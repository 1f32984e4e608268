// A play: its hosts in serial batches; pre_tasks, tasks, post_tasks with
// handlers flushed after each section; blocks with rescue/always; includes;
// meta; any_errors_fatal and max_fail_percentage.
import { basename, isAbsolute, resolve } from 'node:path';
import { PhxError } from '../errors.js';
import { evaluateCondition } from '../expr/index.js';
import { selectHosts } from '../inventory/index.js';
import { loadRoleAtRunTime, loadTaskFile } from '../playbook/load.js';
import type { RoleFiles } from '../playbook/roles.js';
import type { Block, IncludeRoleOptions, IncludeTasks, Meta, Play, Task, TaskNode } from '../playbook/types.js';
import { markUnsafe, renderValue } from '../template/index.js';
import { loadYamlFile } from '../yaml-source.js';
import type { RunContext } from './context.js';
import { showDeprecation } from './deprecations.js';
import type { HostState } from './host.js';
import { PlayRun } from './play-run.js';
import { inherit, type Scope } from './scope.js';
import { Section } from './section.js';
import { tagsSelect } from './tags.js';
import { loopItems, runTask, taskTitle } from './task.js';
import { taskVars } from './vars.js';

export async function runPlay(ctx: RunContext, play: Play): Promise<void> {
  const hosts = playHosts(ctx, play);
  ctx.reporter.emit({ type: 'play_start', play: play.name, hosts: hosts.map((h) => h.name), loc: play.loc });
  if (hosts.length === 0) {
    ctx.reporter.emit({ type: 'no_hosts', play: play.name, pattern: play.hosts });
    return;
  }
  const allHosts = hosts.map((h) => h.name);
  for (const batch of batches(hosts, play.serial)) {
    for (const h of batch) h.endedPlay = false;
    const run = new PlayRun(play, allHosts, batch, ctx.options);
    loadVarsFiles(ctx, run);
    const section = Section.play(batch);
    if (play.gather_facts) await gatherFacts(ctx, run, section);
    for (const tasks of [play.pre_tasks, play.tasks, play.post_tasks]) {
      await runNodes(ctx, run, tasks, section, run.scope);
      await flushHandlers(ctx, run, section, run.scope);
      if (run.aborted) break;
    }
    if (run.aborted || batch.every((h) => h.failed || h.unreachable)) break;
  }
}

/**
 * gather_facts: Ansible's implicit first task, "Gathering Facts" (the setup module with the play's
 * gather_subset), tagged always; --start-at-task does not skip it. In every play that gathers, as
 * Ansible's default `gathering = implicit` (executor/play_iterator.py): the recap counts it per play.
 */
async function gatherFacts(ctx: RunContext, run: PlayRun, section: Section): Promise<void> {
  const play = run.play;
  const args: Record<string, unknown> = {};
  if (play.gather_subset !== undefined) args.gather_subset = play.gather_subset;
  if (play.gather_timeout !== undefined) args.gather_timeout = play.gather_timeout;
  if (play.fact_path !== undefined) args.fact_path = play.fact_path;
  const task: Task = { kind: 'task', name: 'Gathering Facts', module: 'setup', args, tags: ['always'], loc: play.loc };
  if (!tagsSelect(task.tags!, ctx.options.tags)) return;
  await runTask(ctx, run, task, section, run.scope);
}

/** The play's hosts pattern, within --limit, without hosts that failed or were unreachable in earlier plays. */
function playHosts(ctx: RunContext, play: Play): HostState[] {
  let names = selectHosts(ctx.inventory, play.hosts, { baseDir: play.baseDir });
  if (ctx.options.limit) {
    const allowed = new Set(selectHosts(ctx.inventory, ctx.options.limit, { baseDir: play.baseDir }));
    names = names.filter((n) => allowed.has(n));
  }
  return names.map((n) => ctx.hostState(n, play.baseDir)).filter((h) => !h.failed && !h.unreachable);
}

/** serial: a number, a percent, or a list of those (the last one repeats). */
function batches(hosts: HostState[], serial: Play['serial']): HostState[][] {
  if (!serial || serial.length === 0) return [hosts];
  const sizes = serial.map((s) => {
    const n =
      typeof s === 'string' && s.trim().endsWith('%') ? Math.floor((hosts.length * parseFloat(s)) / 100) : Number(s);
    return Math.max(1, n || hosts.length);
  });
  const out: HostState[][] = [];
  for (let i = 0, k = 0; i < hosts.length; k++) {
    const size = sizes[Math.min(k, sizes.length - 1)];
    out.push(hosts.slice(i, i + size));
    i += size;
  }
  return out;
}

function loadVarsFiles(ctx: RunContext, run: PlayRun): void {
  for (const h of run.batch) {
    // filled in place: a templated path sees the vars files loaded before it
    const merged: Record<string, unknown> = {};
    run.varsFiles.set(h.name, merged);
    for (const entry of run.play.vars_files_data) {
      if ('vars' in entry) Object.assign(merged, entry.vars);
      else {
        const vars = taskVars(ctx, run, h, {}, ctx.options.check);
        const path = String(renderValue(entry.template, vars, { loc: run.play.loc }));
        const data = loadYamlFile(isAbsolute(path) ? path : resolve(run.baseDir, path));
        if (data && typeof data === 'object') Object.assign(merged, data);
      }
    }
  }
}

export async function runNodes(
  ctx: RunContext,
  run: PlayRun,
  nodes: TaskNode[],
  section: Section,
  scope: Scope,
): Promise<void> {
  for (const [i, node] of nodes.entries()) {
    if (run.aborted || section.running().length === 0) return;
    switch (node.kind) {
      case 'task':
        await runTaskNode(ctx, run, node, section, scope, () => tasksAfter(nodes, i));
        break;
      case 'block':
        await runBlock(ctx, run, node, section, scope);
        break;
      case 'include_tasks':
        await runInclude(ctx, run, node, section, scope);
        break;
      case 'meta':
        await runMeta(ctx, run, node, section, scope);
        break;
    }
  }
}

/** The tasks right after node i of the same list, up to the first node that is not a task (read-ahead). */
function tasksAfter(nodes: TaskNode[], i: number): Task[] {
  const after: Task[] = [];
  for (const n of nodes.slice(i + 1)) {
    if (n.kind !== 'task') break;
    after.push(n);
  }
  return after;
}

async function runTaskNode(
  ctx: RunContext,
  run: PlayRun,
  task: Task,
  section: Section,
  scope: Scope,
  following: () => Task[],
): Promise<void> {
  const tags = [...new Set([...(scope.tags ?? []), ...(task.tags ?? [])])];
  if (!tagsSelect(tags, ctx.options.tags)) return;
  if (!ctx.started) {
    if (taskTitle(task) !== ctx.options.startAtTask) return;
    ctx.started = true;
  }
  const newlyFailed = await failuresDuring(section.hosts, () =>
    runTask(ctx, run, task, section, scope, false, ctx.started ? following : undefined),
  );
  failurePolicies(ctx, run, task, section, scope, newlyFailed);
}

/** any_errors_fatal and max_fail_percentage after a task (or a handler) failed on some hosts. */
function failurePolicies(
  ctx: RunContext,
  run: PlayRun,
  task: Task,
  section: Section,
  scope: Scope,
  newlyFailed: HostState[],
): void {
  if (newlyFailed.length === 0) return;
  const fatal = task.any_errors_fatal ?? scope.any_errors_fatal ?? run.play.any_errors_fatal;
  // in a block with rescue or always, those run first (runBlock ends the play after them)
  if (fatal && scope.guarded) for (const h of newlyFailed) run.fatalPending.add(h);
  else if (fatal) endPlayFatal(ctx, run, newlyFailed);
  else checkMaxFailPercentage(ctx, run, section);
}

/** The hosts that failed (again, for those that had failed before) or became unreachable while `work` ran. */
async function failuresDuring(hosts: readonly HostState[], work: () => Promise<void>): Promise<HostState[]> {
  const before = hosts.map((h) => ({ h, failures: h.failures, unreachable: h.unreachable }));
  await work();
  return before
    .filter(({ h, failures, unreachable }) => h.failures > failures || (h.unreachable && !unreachable))
    .map(({ h }) => h);
}

/** max_fail_percentage: too many failed hosts in the batch end the play. */
function checkMaxFailPercentage(ctx: RunContext, run: PlayRun, section: Section): void {
  const max = run.play.max_fail_percentage;
  if (max === undefined) return;
  const failedCount = run.batch.filter((h) => h.unreachable || section.seesFailed(h)).length;
  const pct = (failedCount / run.batch.length) * 100;
  if (pct > max) {
    ctx.reporter.emit({
      type: 'warning',
      message: `max_fail_percentage ${max}% exceeded (${pct.toFixed(0)}% of the batch failed); ending the play`,
    });
    run.abort();
  }
}

async function runBlock(ctx: RunContext, run: PlayRun, block: Block, outer: Section, outerScope: Scope): Promise<void> {
  const scope = inherit(outerScope, { ...block, when: block.when });
  if (block.role?.public) {
    // a public role's variables stay visible to the rest of the play once it ran
    Object.assign(run.publicRoleDefaults, block.role.defaults);
    Object.assign(run.publicRoleVars, block.role.vars);
  }
  const guarded = block.rescue.length > 0 || block.always.length > 0;
  const body = outer.block();
  await runNodes(ctx, run, block.block, body, guarded ? { ...scope, guarded } : scope);
  if (block.rescue.length > 0 && !run.aborted) {
    const rescue = body.rescue();
    // as Ansible's strategy does on entering a rescue: counted rescued even if the rescue fails too
    for (const h of rescue.hosts) {
      h.counters.rescued++;
      h.facts.ansible_failed_task = h.lastFailure?.task;
      h.facts.ansible_failed_result = h.lastFailure?.result;
    }
    // a failure in the rescue waits for always too, under any_errors_fatal
    await runNodes(ctx, run, block.rescue, rescue, block.always.length > 0 ? { ...scope, guarded } : scope);
  }
  // always runs even on hosts that failed in the block; they stay failed after it
  if (block.always.length > 0) await runNodes(ctx, run, block.always, body.always(), scope);
  // any_errors_fatal waited for the rescue and always: a host that failed still ends the play
  if (guarded && !outerScope.guarded && !run.aborted) {
    const failed = body.hosts.filter((h) => run.fatalPending.has(h) && (body.failedHere(h) || h.unreachable));
    run.fatalPending.clear();
    if (failed.length > 0) endPlayFatal(ctx, run, failed);
  }
}

function endPlayFatal(ctx: RunContext, run: PlayRun, failed: HostState[]): void {
  ctx.reporter.emit({
    type: 'warning',
    message: `any_errors_fatal: ${failed.map((h) => h.name).join(', ')} failed; ending the play for all hosts`,
  });
  run.abort();
}

interface IncludeEntry {
  /** the task file, or include_role's role name */
  file: string;
  /** include_role: tasks_from, vars_from, ... rendered for this host */
  roleFiles?: RoleFiles;
  /** the loop variable, for this entry's host */
  vars: Record<string, unknown>;
}

/** include_tasks within include_tasks: a file that includes itself with no end stops here, not out of memory. */
export const MAX_INCLUDE_DEPTH = 64;

async function runInclude(
  ctx: RunContext,
  run: PlayRun,
  inc: IncludeTasks,
  section: Section,
  outer: Scope,
): Promise<void> {
  const scope = inherit(outer, { ...inc, when: undefined, role: undefined });
  // Each host may include a different file, or several times with a loop:
  // hosts that include the same file at the same loop position run together.
  const plans = new Map<HostState, IncludeEntry[]>();
  for (const h of section.running()) {
    const { entries, result } = includeEntries(ctx, run, inc, h, scope);
    plans.set(h, entries);
    // registered before the included tasks run, as the strategy registers the include's result first
    if (inc.register) h.facts[inc.register] = markUnsafe(result);
    // the recap counts an include as Ansible's strategy does (plugins/strategy/__init__.py): a
    // TaskInclude's own result is not counted; _load_included_file counts ok once per file included
    // (per loop item), and include_role, whose blocks are not loaded that way, counts none; where
    // nothing is included the result is skipped
    if (entries.length === 0) h.counters.skipped++;
    else if (!inc.role) h.counters.ok += entries.length;
  }
  const rounds = Math.max(0, ...[...plans.values()].map((e) => e.length));
  for (let i = 0; i < rounds; i++) {
    const byFile = new Map<string, HostState[]>();
    for (const [h, entries] of plans) {
      if (!entries[i] || !section.runs(h)) continue;
      const key = JSON.stringify([entries[i].file, entries[i].roleFiles ?? {}]);
      byFile.set(key, [...(byFile.get(key) ?? []), h]);
    }
    for (const group of byFile.values()) {
      const { file, roleFiles } = plans.get(group[0])![i];
      const path = inc.role ? `role ${file}` : isAbsolute(file) ? file : resolve(inc.baseDir, file);
      const chain = [...(run.includeChain ?? []), path];
      if (chain.length > MAX_INCLUDE_DEPTH)
        throw new PhxError(
          `include_tasks nested more than ${MAX_INCLUDE_DEPTH} deep (a task file including itself with no end?): ` +
            `${[...new Set(chain.map((p) => basename(p)))].join(' → ')}`,
          inc.loc,
        );
      const preloaded = inc.preloaded && inc.file === file && !templatedRoleFiles(inc);
      const nodes = preloaded
        ? inc.preloaded!
        : inc.role
          ? roleAtRunTime(ctx, run, inc, file, roleFiles ?? {})
          : loadTaskFile(path, {
              registry: ctx.registry,
              loc: inc.loc,
              playbookDir: run.baseDir,
              deprecated: (m) => showDeprecation(ctx, m),
            });
      const groupScope = !preloaded && inc.apply ? inherit(scope, inc.apply) : scope;
      const params = new Map(group.map((h) => [h, plans.get(h)![i].vars]));
      const outerChain = run.includeChain;
      run.includeChain = chain;
      try {
        await withIncludeParams(params, () => runNodes(ctx, run, nodes, section.only(group), groupScope));
      } finally {
        run.includeChain = outerChain;
      }
    }
  }
}

/**
 * The files one host includes, one per loop item whose `when` holds, and the include's result
 * (what `register` keeps): TaskExecutor._execute_internal returns `{include, include_args}` for
 * include_tasks, `{include_args}` for include_role; a false `when` gives the skipped result.
 */
function includeEntries(
  ctx: RunContext,
  run: PlayRun,
  inc: IncludeTasks,
  h: HostState,
  scope: Scope,
): { entries: IncludeEntry[]; result: Record<string, unknown> } {
  const vars = taskVars(ctx, run, h, scope, ctx.options.check);
  const search = {
    baseDir: run.baseDir,
    ...(scope.role ? { roleDir: scope.role.path } : {}),
    action: inc.role ? 'include_role' : 'include_tasks',
  };
  const items = inc.loop === undefined ? [undefined] : loopItems(inc, vars, undefined, search);
  const loopVar = inc.loop_control?.loop_var ?? 'item';
  const entries: IncludeEntry[] = [];
  const results: Record<string, unknown>[] = [];
  for (const item of items) {
    const itemVars = inc.loop === undefined ? {} : { [loopVar]: item };
    const all = { ...vars, ...itemVars };
    const looped = inc.loop === undefined ? {} : { [loopVar]: item, ansible_loop_var: loopVar };
    if (inc.when !== undefined && !evaluateCondition(inc.when, all, { loc: inc.loc })) {
      results.push({ ...SKIPPED_INCLUDE, ...looped });
      continue;
    }
    const file = String(renderValue(inc.file, all, { loc: inc.loc }));
    const roleFiles = inc.role ? renderRoleFiles(inc.role, all, inc) : undefined;
    entries.push({ file, vars: itemVars, ...(roleFiles ? { roleFiles } : {}) });
    results.push({ ...includeResult(inc, file, roleFiles), ...looped });
  }
  return { entries, result: inc.loop === undefined ? results[0] : loopedIncludeResult(results) };
}

const SKIPPED_INCLUDE = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };

function includeResult(inc: IncludeTasks, file: string, roleFiles: RoleFiles | undefined): Record<string, unknown> {
  if (!inc.role) return { include: file, include_args: {}, changed: false };
  const from = Object.fromEntries(Object.entries(roleFiles ?? {}).map(([k, v]) => [`${k}_from`, v]));
  return { include_args: { name: file, ...from }, changed: false };
}

/** TaskExecutor.run's summary of a loop: the items' results, skipped when all were. */
function loopedIncludeResult(results: Record<string, unknown>[]): Record<string, unknown> {
  if (results.length === 0) return { changed: false, skipped: true, skipped_reason: 'No items in the list', results };
  const skipped = results.every((r) => r.skipped === true);
  return { changed: false, skipped, msg: skipped ? 'All items skipped' : 'All items completed', results };
}

function templatedRoleFiles(inc: IncludeTasks): boolean {
  const o = inc.role;
  return o !== undefined && [o.tasks_from, o.vars_from, o.defaults_from, o.handlers_from].some((f) => f?.includes('{'));
}

function renderRoleFiles(o: IncludeRoleOptions, vars: Record<string, unknown>, inc: IncludeTasks): RoleFiles {
  const out: RoleFiles = {};
  const render = (v: string | undefined) =>
    v === undefined ? undefined : String(renderValue(v, vars, { loc: inc.loc }));
  const pairs = [
    ['tasks', o.tasks_from],
    ['vars', o.vars_from],
    ['defaults', o.defaults_from],
    ['handlers', o.handlers_from],
  ] as const;
  for (const [k, v] of pairs) if (v !== undefined) out[k] = render(v);
  return out;
}

/** include_role with a templated name or file: the role is loaded and validated now; its handlers join the play's. */
function roleAtRunTime(ctx: RunContext, run: PlayRun, inc: IncludeTasks, name: string, files: RoleFiles): TaskNode[] {
  const { block, handlers } = loadRoleAtRunTime(name, {
    registry: ctx.registry,
    playbookDir: run.baseDir,
    files,
    public: inc.role?.public ?? false,
    loc: inc.loc,
    deprecated: (m) => showDeprecation(ctx, m),
  });
  const known = new Set(
    [...run.play.handlers, ...run.roleHandlers].map((h) => (h.kind === 'task' ? h.role?.path : undefined)),
  );
  for (const h of handlers) if (!known.has(h.role?.path)) run.roleHandlers.push(h);
  if (!block) return [];
  return inc.apply ? [{ kind: 'block', ...inc.apply, block: [block], rescue: [], always: [], loc: inc.loc }] : [block];
}

/** include params are per host: the group runs with each host's item in its facts layer */
async function withIncludeParams(
  params: Map<HostState, Record<string, unknown>>,
  work: () => Promise<void>,
): Promise<void> {
  const saved = new Map([...params.keys()].map((h) => [h, h.includeParams]));
  for (const [h, vars] of params) h.includeParams = { ...(h.includeParams ?? {}), ...vars };
  try {
    await work();
  } finally {
    for (const [h, was] of saved) h.includeParams = was;
  }
}

async function runMeta(ctx: RunContext, run: PlayRun, meta: Meta, section: Section, scope: Scope): Promise<void> {
  const running = section.running();
  const applies = (h: HostState) =>
    meta.when === undefined ||
    evaluateCondition(meta.when, taskVars(ctx, run, h, scope, ctx.options.check), { loc: meta.loc });
  switch (meta.action) {
    case 'flush_handlers':
      await flushHandlers(ctx, run, section, scope);
      break;
    case 'end_host':
      for (const h of running) if (applies(h)) h.endedPlay = true;
      break;
    case 'end_play':
      if (running.some(applies)) run.abort();
      break;
    case 'clear_host_errors':
      // as PlayIterator.clear_host_errors: the failed state goes, so later plays take the host again,
      // but a host whose failure ended its run of this play stays out of it (its state is COMPLETE)
      if (!running.some(applies)) break;
      for (const h of run.batch) {
        if (h.failed && !running.includes(h)) h.endedPlay = true;
        h.failures = 0;
      }
      break;
    case 'noop':
      break;
  }
}

/** A chain of handlers notifying each other that never ends stops here. */
export const MAX_HANDLER_ROUNDS = 64;

/**
 * Runs notified handlers in definition order on the hosts of the section that flushes them. As in
 * Ansible, a notify reaches every handler named so or listening to the topic; a handler's own
 * notification while it runs is dropped with its own (it does not rerun); a handler notified by a
 * later one runs in another round of the same flush.
 */
export async function flushHandlers(ctx: RunContext, run: PlayRun, caller: Section, scope: Scope): Promise<void> {
  const handlers = [...run.play.handlers, ...run.roleHandlers].filter((n): n is Task => n.kind === 'task');
  // a role's handler also answers to `role_name : handler name`
  const topicsOf = (node: Task) => {
    const title = taskTitle(node);
    return [title, ...(node.role ? [`${node.role.name} : ${title}`] : []), ...(node.listen ?? [])];
  };
  const pending = new Map<HostState, Set<Task>>(caller.hosts.map((h) => [h, new Set()]));
  // the topics each host was notified of become the handlers they reach, then are spent
  const resolve = () => {
    for (const [h, set] of pending) {
      for (const node of handlers) if (topicsOf(node).some((t) => h.notified.has(t))) set.add(node);
      h.notified.clear();
    }
  };
  resolve();
  for (let round = 0; [...pending.values()].some((s) => s.size > 0); round++) {
    if (round >= MAX_HANDLER_ROUNDS)
      throw new PhxError(`handlers notify each other more than ${MAX_HANDLER_ROUNDS} times in one flush`, run.play.loc);
    for (const node of handlers) {
      const handler = caller.handler((h) => pending.get(h)?.has(node) ?? false, run.forceHandlers);
      if (handler.hosts.length > 0) {
        const handlerScope = node.role ? inherit(scope, { role: node.role }) : scope;
        const failed = await failuresDuring(handler.hosts, () => runTask(ctx, run, node, handler, handlerScope, true));
        failurePolicies(ctx, run, node, caller, scope, failed);
      }
      resolve();
      // a host the handler could not run on (failed, not forced) is not notified of it any more
      for (const set of pending.values()) set.delete(node);
      if (run.aborted) return;
    }
  }
}
