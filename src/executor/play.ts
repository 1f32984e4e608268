// A play: its hosts in serial batches; pre_tasks, tasks, post_tasks with
// handlers flushed after each section; blocks with rescue/always; includes;
// meta; any_errors_fatal and max_fail_percentage.
import { basename, isAbsolute, resolve } from 'node:path';
import { PhxError } from '../errors.js';
import { evaluateCondition } from '../expr/index.js';
import { selectHosts } from '../inventory/index.js';
import { loadTaskFile } from '../playbook/load.js';
import type { Block, IncludeTasks, Meta, Play, Task, TaskNode } from '../playbook/types.js';
import { renderValue } from '../template/index.js';
import { loadYamlFile } from '../yaml-source.js';
import type { PlayRun, RunContext } from './context.js';
import type { HostState } from './host.js';
import { inherit, type Scope } from './scope.js';
import { tagsSelect } from './tags.js';
import { loopItems, runTask, taskTitle } from './task.js';
import { taskVars } from './vars.js';

export async function runPlay(ctx: RunContext, play: Play): Promise<void> {
  ctx.playBaseDir = play.baseDir;
  ctx.playConnection = { ansible_user: play.remote_user, ansible_connection: play.connection };
  let names = selectHosts(ctx.inventory, play.hosts, { baseDir: play.baseDir });
  if (ctx.options.limit) {
    const allowed = new Set(selectHosts(ctx.inventory, ctx.options.limit, { baseDir: play.baseDir }));
    names = names.filter((n) => allowed.has(n));
  }
  const hosts = names.map((n) => ctx.hostState(n)).filter((h) => !h.failed && !h.unreachable);
  ctx.reporter.emit({ type: 'play_start', play: play.name, hosts: hosts.map((h) => h.name), loc: play.loc });
  if (hosts.length === 0) {
    ctx.reporter.emit({ type: 'no_hosts', play: play.name, pattern: play.hosts });
    return;
  }
  for (const batch of batches(hosts, play.serial)) {
    for (const h of batch) h.endedPlay = false;
    const run: PlayRun = { play, batch, allHosts: hosts.map((h) => h.name), varsFiles: new Map(), aborted: false };
    loadVarsFiles(ctx, run);
    const scope: Scope = {
      become: play.become,
      become_user: play.become_user,
      environment: play.environment,
      tags: play.tags,
      check_mode: play.check_mode,
      diff: play.diff,
      ignore_errors: play.ignore_errors,
      no_log: play.no_log,
    };
    for (const section of [play.pre_tasks, play.tasks, play.post_tasks]) {
      await runNodes(ctx, run, section, batch, scope);
      await flushHandlers(ctx, run, batch, scope);
      if (run.aborted) break;
    }
    if (run.aborted || batch.every((h) => h.failed || h.unreachable)) break;
  }
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
    const merged: Record<string, unknown> = {};
    for (const entry of run.play.vars_files_data) {
      if ('vars' in entry) Object.assign(merged, entry.vars);
      else {
        const vars = taskVars(
          ctx,
          { ...run, varsFiles: new Map([[h.name, merged]]) },
          h,
          {},
          undefined,
          ctx.options.check,
        );
        const path = String(renderValue(entry.template, vars, { loc: run.play.loc }));
        const data = loadYamlFile(isAbsolute(path) ? path : resolve(run.play.baseDir, path));
        if (data && typeof data === 'object') Object.assign(merged, data);
      }
    }
    run.varsFiles.set(h.name, merged);
  }
}

export async function runNodes(
  ctx: RunContext,
  run: PlayRun,
  nodes: TaskNode[],
  hosts: HostState[],
  scope: Scope,
): Promise<void> {
  for (const node of nodes) {
    if (run.aborted || !hosts.some((h) => h.active)) return;
    switch (node.kind) {
      case 'task':
        await runTaskNode(ctx, run, node, hosts, scope);
        break;
      case 'block':
        await runBlock(ctx, run, node, hosts, scope);
        break;
      case 'include_tasks':
        await runInclude(ctx, run, node, hosts, scope);
        break;
      case 'meta':
        await runMeta(ctx, run, node, hosts, scope);
        break;
    }
  }
}

async function runTaskNode(ctx: RunContext, run: PlayRun, task: Task, hosts: HostState[], scope: Scope): Promise<void> {
  const tags = [...new Set([...(scope.tags ?? []), ...(task.tags ?? [])])];
  if (!tagsSelect(tags, ctx.options.tags)) return;
  if (!ctx.started) {
    if (taskTitle(task) !== ctx.options.startAtTask) return;
    ctx.started = true;
  }
  const before = new Set(hosts.filter((h) => h.failed || h.unreachable));
  await runTask(ctx, run, task, hosts, scope);
  checkFailureThresholds(ctx, run, task, hosts, before, scope);
}

/** any_errors_fatal ends the play for all on any new failure; max_fail_percentage on too many. */
function checkFailureThresholds(
  ctx: RunContext,
  run: PlayRun,
  task: Task,
  hosts: HostState[],
  before: Set<HostState>,
  scope: Scope,
): void {
  const newlyFailed = hosts.filter((h) => (h.failed || h.unreachable) && !before.has(h));
  if (newlyFailed.length === 0) return;
  const fatal = task.any_errors_fatal ?? scope.any_errors_fatal ?? run.play.any_errors_fatal;
  if (fatal) {
    ctx.reporter.emit({
      type: 'warning',
      message: `any_errors_fatal: ${newlyFailed.map((h) => h.name).join(', ')} failed; ending the play for all hosts`,
    });
    abort(run);
    return;
  }
  const max = run.play.max_fail_percentage;
  if (max !== undefined) {
    const failedCount = run.batch.filter((h) => h.failed || h.unreachable).length;
    const pct = (failedCount / run.batch.length) * 100;
    if (pct > max) {
      ctx.reporter.emit({
        type: 'warning',
        message: `max_fail_percentage ${max}% exceeded (${pct.toFixed(0)}% of the batch failed); ending the play`,
      });
      abort(run);
    }
  }
}

function abort(run: PlayRun): void {
  run.aborted = true;
  for (const h of run.batch) h.endedPlay = true;
}

async function runBlock(ctx: RunContext, run: PlayRun, block: Block, hosts: HostState[], outer: Scope): Promise<void> {
  const scope = inherit(outer, { ...block, when: block.when });
  const entered = hosts.filter((h) => h.active);
  await runNodes(ctx, run, block.block, entered, scope);
  const failedHere = entered.filter((h) => h.failed && !h.unreachable);
  if (block.rescue.length > 0 && failedHere.length > 0 && !run.aborted) {
    for (const h of failedHere) {
      h.failed = false;
      h.counters.failed--; // a rescued failure is counted as rescued, not failed
    }
    await runNodes(ctx, run, block.rescue, failedHere, scope);
    for (const h of failedHere) if (!h.failed) h.counters.rescued++;
  }
  if (block.always.length > 0) {
    // always runs even on hosts that failed in the block; they stay failed after it
    const stillFailed = entered.filter((h) => h.failed && !h.unreachable);
    for (const h of stillFailed) h.failed = false;
    await runNodes(
      ctx,
      run,
      block.always,
      entered.filter((h) => !h.unreachable && !h.endedPlay),
      scope,
    );
    for (const h of stillFailed) h.failed = true;
  }
}

/** include_tasks within include_tasks: a file that includes itself with no end stops here, not out of memory. */
export const MAX_INCLUDE_DEPTH = 64;

async function runInclude(
  ctx: RunContext,
  run: PlayRun,
  inc: IncludeTasks,
  hosts: HostState[],
  outer: Scope,
): Promise<void> {
  const scope = inherit(outer, { ...inc, when: undefined });
  // Each host may include a different file, or several times with a loop:
  // hosts that include the same file at the same loop position run together.
  const plans = new Map<HostState, Array<{ file: string; vars: Record<string, unknown> }>>();
  for (const h of hosts.filter((x) => x.active)) {
    const vars = taskVars(ctx, run, h, scope, undefined, ctx.options.check);
    const items = inc.loop === undefined ? [undefined] : loopItems(inc, vars);
    const loopVar = inc.loop_control?.loop_var ?? 'item';
    const entries: Array<{ file: string; vars: Record<string, unknown> }> = [];
    for (const item of items) {
      const itemVars = inc.loop === undefined ? {} : { [loopVar]: item };
      const all = { ...vars, ...itemVars };
      if (inc.when !== undefined && !evaluateCondition(inc.when, all, { loc: inc.loc })) continue;
      entries.push({ file: String(renderValue(inc.file, all, { loc: inc.loc })), vars: itemVars });
    }
    plans.set(h, entries);
  }
  const rounds = Math.max(0, ...[...plans.values()].map((e) => e.length));
  for (let i = 0; i < rounds; i++) {
    const byFile = new Map<string, HostState[]>();
    for (const [h, entries] of plans)
      if (entries[i] && h.active) byFile.set(entries[i].file, [...(byFile.get(entries[i].file) ?? []), h]);
    for (const [file, group] of byFile) {
      const path = isAbsolute(file) ? file : resolve(inc.baseDir, file);
      const chain = [...(run.includeChain ?? []), path];
      if (chain.length > MAX_INCLUDE_DEPTH)
        throw new PhxError(
          `include_tasks nested more than ${MAX_INCLUDE_DEPTH} deep (a task file including itself with no end?): ` +
            `${[...new Set(chain.map((p) => basename(p)))].join(' → ')}`,
          inc.loc,
        );
      const preloaded = inc.preloaded && inc.file === file;
      const nodes = preloaded ? inc.preloaded! : loadTaskFile(path, { registry: ctx.registry, loc: inc.loc });
      const groupScope = !preloaded && inc.apply ? inherit(scope, inc.apply) : scope;
      // include params are per host: run the group with each host's item in its facts layer
      const saved = group.map((h) => h.includeParams);
      group.forEach((h) => (h.includeParams = { ...(h.includeParams ?? {}), ...plans.get(h)![i].vars }));
      const outerChain = run.includeChain;
      run.includeChain = chain;
      try {
        await runNodes(ctx, run, nodes, group, groupScope);
      } finally {
        run.includeChain = outerChain;
        group.forEach((h, k) => (h.includeParams = saved[k]));
      }
    }
  }
}

async function runMeta(ctx: RunContext, run: PlayRun, meta: Meta, hosts: HostState[], scope: Scope): Promise<void> {
  const active = hosts.filter((h) => h.active);
  const applies = (h: HostState) =>
    meta.when === undefined ||
    evaluateCondition(meta.when, taskVars(ctx, run, h, scope, undefined, ctx.options.check), { loc: meta.loc });
  switch (meta.action) {
    case 'flush_handlers':
      await flushHandlers(ctx, run, hosts, scope);
      break;
    case 'end_host':
      for (const h of active) if (applies(h)) h.endedPlay = true;
      break;
    case 'end_play':
      if (active.some(applies)) abort(run);
      break;
    case 'clear_host_errors':
      for (const h of run.batch) if (h.failed) h.failed = false;
      break;
    case 'noop':
      break;
  }
}

/** Runs notified handlers once per host, in definition order. */
export async function flushHandlers(ctx: RunContext, run: PlayRun, hosts: HostState[], scope: Scope): Promise<void> {
  const force = ctx.options.forceHandlers || run.play.force_handlers;
  for (const node of run.play.handlers) {
    if (node.kind !== 'task') continue;
    const topics = [taskTitle(node), ...(node.listen ?? [])];
    const targets = hosts.filter((h) => topics.some((t) => h.notified.has(t)) && !h.unreachable && (force || h.active));
    if (targets.length === 0) continue;
    for (const h of targets) for (const t of topics) h.notified.delete(t);
    const wasFailed = targets.filter((h) => h.failed);
    wasFailed.forEach((h) => (h.failed = false));
    await runTask(ctx, run, node, targets, scope, true);
    wasFailed.forEach((h) => (h.failed = true));
  }
}
