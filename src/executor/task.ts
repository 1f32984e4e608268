// One task on the hosts of a batch: per host, vars → when → loop → module,
// with retries/until, changed_when/failed_when, register and notify.
import { argIssuesText } from './arg-issues.js';
import { terminalSafeLine } from '../output/escape.js';
import { performance } from 'node:perf_hooks';
import { Interrupted, PhxError, UndefinedVariableError, UnreachableError, formatLoc } from '../errors.js';
import { evaluateCondition } from '../expr/index.js';
import type { ModuleDefinition, ModuleResult } from '../module.js';
import { createModuleContext } from '../module-runner.js';
import { mergeGatheredFacts } from '../facts/merge.js';
import { runModule } from '../module-runner.js';
import type { Condition, LoopControl, Task } from '../playbook/types.js';
import { sequenceItems } from '../playbook/sequence.js';
import { firstFoundItems, type FirstFoundContext } from './first-found.js';
import { hasTemplate, markUnsafe, renderValue, toBool } from '../template/index.js';
import { UnsafeText, isUnsafeContainer, plain, restoreUnsafe, unwrapUnsafe } from '../unsafe.js';
import type { Connection } from '../connection/types.js';
import type { ConnectionDefaults, RunContext } from './context.js';
import type { HostState } from './host.js';
import type { PlayRun } from './play-run.js';
import { inherit, type Scope } from './scope.js';
import type { Section } from './section.js';
import { dropOmitted, taskVars } from './vars.js';
import { applyInventoryChange } from './inventory-changes.js';
import { mapLimit } from './util.js';
import { once } from '../once.js';
import type { ProbeRequest } from '../remote/probe.js';
import { windowProbes, type LaterTask, type Speculation } from './read-ahead-window.js';
import { tagsSelect } from './tags.js';
import { sleep } from '../sleep.js';
import type { HostStatus } from '../events.js';
import { containerSlot } from '../predictions.js';
import { isMapping } from '../template/values.js';
import { coerceArgs } from '../playbook/arg-coerce.js';
import {
  hasSecrets,
  holdsSecretText,
  markSecretContainers,
  markSecretData,
  noteSecretInside,
  SecretOnCommandLine,
  secretUsed,
  watchSecretUse,
} from '../vault/secrecy.js';

export const NO_LOG_MSG =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/** Why a task that read a vault secret shows no result (it is hidden as with no_log). */
export const VAULT_HIDDEN_MSG = 'the output has been hidden because the task uses a vault-encrypted value';

interface Outcome {
  status: HostStatus;
  result: Record<string, unknown>;
  ignored: boolean;
  /** the task read a vault secret: hidden as with no_log; what it registers or sets is secret */
  secret?: boolean;
}

/** A task as it runs on a batch: the same on every host. */
interface TaskRun {
  readonly ctx: RunContext;
  readonly run: PlayRun;
  readonly task: Task;
  readonly module: ModuleDefinition;
  /** the task's keywords over those of its includes, blocks and play */
  readonly scope: Scope;
  /** the name shown, rendered with the first host's vars */
  readonly title: string;
  /** the tasks after this one in its list, for read-ahead (read-ahead-window.ts); absent: none */
  readonly following?: () => readonly LaterTask[];
}

/** A task on one host, built once per task and host; a loop item gets a copy with the item's vars. */
interface TaskOnHost extends TaskRun {
  readonly host: HostState;
  readonly vars: Record<string, unknown>;
  /** --check, unless the task's check_mode (rendered for this host) says otherwise */
  readonly check: boolean;
  /** delegate_to, rendered: the host whose connection the module uses */
  readonly delegateTo?: string;
  /** no_log, rendered: nothing of the task reaches output (results, item labels, commands, debug lines) */
  readonly noLog: boolean;
}

/** Runs a task on the hosts of `section` that still run there, `forks` at a time. */
export async function runTask(
  ctx: RunContext,
  run: PlayRun,
  task: Task,
  section: Section,
  outer: Scope,
  handler = false,
  following?: () => readonly Task[],
): Promise<void> {
  throwIfInterrupted(ctx);
  const scope = inherit(outer, task);
  const module = ctx.registry.get(task.module);
  if (!module) throw new PhxError(`unknown module '${task.module}'`, task.loc);
  const running = section.running();
  if (running.length === 0) return;
  const later = following && once(() => laterTasks(ctx, outer, following()));
  const t: TaskRun = {
    ctx,
    run,
    task,
    module,
    scope,
    title: renderedTitle(ctx, run, task, running[0], scope),
    ...(later ? { following: later } : {}),
  };
  const runOnce = toBool(scope.run_once);
  const targets = runOnce || module.bypassHostLoop ? running.slice(0, 1) : running;
  ctx.reporter.emit({
    type: 'task_start',
    task: t.title,
    module: task.module,
    hosts: targets.map((h) => h.name),
    loc: task.loc,
    handler,
  });
  const outcomes = await mapLimit(targets, ctx.options.forks, (h) => watchSecretUse(() => runOnHost(t, h)));
  throwIfInterrupted(ctx);
  if (runOnce) {
    // run_once: the one result stands for every host of the batch
    for (const h of section.running()) if (h !== targets[0]) applyOutcome(h, task, outcomes[0], scope, false);
  }
}

/** After Ctrl-C no task starts: the run unwinds to its recap (src/executor/run.ts). */
function throwIfInterrupted(ctx: RunContext): void {
  const signal = ctx.options.signal;
  if (signal?.aborted) throw signal.reason instanceof Interrupted ? signal.reason : new Interrupted();
}

export function taskTitle(task: Task): string {
  return task.name ?? task.module;
}

/** `name: "create {{ ctid }}"` is shown rendered, with the first host's vars, as Ansible does; as written if that fails. */
function renderedTitle(ctx: RunContext, run: PlayRun, task: Task, first: HostState, scope: Scope): string {
  // a role's task is shown as `role_name : task name`, as Ansible shows it
  const prefix = scope.role ? `${scope.role.name} : ` : '';
  return prefix + renderedName(ctx, run, task, first, scope);
}

function renderedName(ctx: RunContext, run: PlayRun, task: Task, first: HostState, scope: Scope): string {
  const raw = taskTitle(task);
  if (!hasTemplate(raw)) return raw;
  // a name that shows a vault secret is shown as written
  return watchSecretUse(() => {
    try {
      const title = String(renderValue(raw, taskVars(ctx, run, first, scope, ctx.options.check), { loc: task.loc }));
      return secretUsed() ? raw : title;
    } catch {
      return raw;
    }
  });
}

async function runOnHost(t: TaskRun, host: HostState): Promise<Outcome> {
  const started = performance.now();
  let outcome: Outcome;
  let delegateTo: string | undefined;
  // until the task's own no_log is rendered, any no_log at all hides
  let noLog = t.scope.no_log !== undefined && t.scope.no_log !== false;
  try {
    const onHost = taskOnHost(t, host);
    delegateTo = onHost.delegateTo;
    noLog = onHost.noLog;
    outcome = await outcomeOnHost(onHost);
  } catch (e) {
    outcome = errorOutcome(e, t.scope, host, t.ctx);
  }
  // a result holding a secret's text (a copied mapping of secrets, a host echoing one) is secret too
  if (secretUsed() || holdsSecretText(outcome.result)) outcome.secret = true;
  applyOutcome(host, t.task, outcome, t.scope, true);
  const result = noLog
    ? censor(outcome.result)
    : outcome.secret
      ? censor(outcome.result, shownWhenHidden.has(outcome.result), VAULT_HIDDEN_MSG)
      : outcome.result;
  emitWarnings(t.ctx, host.name, result);
  t.ctx.reporter.emit({
    type: 'host_result',
    task: t.title,
    host: host.name,
    status: outcome.status,
    ignored: outcome.ignored,
    result,
    durationMs: performance.now() - started,
    ...(delegateTo ? { delegatedTo: delegateTo } : {}),
  });
  return outcome;
}

/** What the task is on this host: its vars, its check mode and its delegate, rendered once. */
function taskOnHost(t: TaskRun, host: HostState): TaskOnHost {
  const where = { loc: t.task.loc, task: t.title };
  const runCheck = t.ctx.options.check;
  const runVars = taskVars(t.ctx, t.run, host, t.scope, runCheck);
  const check = t.scope.check_mode === undefined ? runCheck : toBool(renderValue(t.scope.check_mode, runVars, where));
  // ansible_check_mode tells the task its own mode
  const vars = check === runCheck ? runVars : taskVars(t.ctx, t.run, host, t.scope, check);
  const delegateTo = t.scope.delegate_to ? String(renderValue(t.scope.delegate_to, vars, where)) : undefined;
  return { ...t, host, vars, check, delegateTo, noLog: noLogFor(t.scope, vars, where) };
}

/** A no_log that cannot be rendered hides: a secret is never shown because of a broken template. */
function noLogFor(scope: Scope, vars: Record<string, unknown>, where: { loc: Task['loc']; task: string }): boolean {
  if (scope.no_log === undefined) return false;
  try {
    return toBool(renderValue(scope.no_log, vars, where));
  } catch {
    return true;
  }
}

/** The item label shown in place of a hidden one (Ansible shows `item=None`). */
const HIDDEN_ITEM = '(hidden: no_log)';
/** What -vv shows in place of a command of a no_log task. */
const HIDDEN_COMMAND = '(command hidden: no_log)';

async function outcomeOnHost(t: TaskOnHost): Promise<Outcome> {
  if (t.task.loop !== undefined) return runLoop(t);
  if (!conditionHolds(t.scope.when, t.vars, t)) return conditionFalse(whenText(t.scope.when));
  return attempt(t);
}

/** The outcome of a task or loop item whose `when` does not hold. */
function conditionFalse(falseCondition?: string): Outcome {
  return {
    status: 'skipped',
    result: {
      changed: false,
      skipped: true,
      skip_reason: 'Conditional result was False',
      ...(falseCondition !== undefined ? { false_condition: falseCondition } : {}),
    },
    ignored: false,
  };
}

/** Modules' `warnings` (Ansible's convention) are shown whatever the verbosity. */
function emitWarnings(ctx: RunContext, host: string, result: Record<string, unknown>): void {
  const warnings = result.warnings;
  if (!Array.isArray(warnings)) return;
  for (const w of warnings)
    // one line each: a warning may quote an argument (command's executable), which must not forge output lines
    if (typeof w === 'string') ctx.reporter.emit({ type: 'warning', message: `[${host}] ${terminalSafeLine(w)}` });
}

/** Records an outcome on the host: counters, register, facts, notify, failure. */
function applyOutcome(host: HostState, task: Task, o: Outcome, scope: Scope, count: boolean): void {
  if (count) countOutcome(host, o);
  // a registered result is data: output containing `{{` is never rendered as a template
  if (task.register) host.facts[task.register] = markUnsafe(o.result);
  if (task.register && o.secret) markSecretContainers(host.facts[task.register]);
  // a loop's facts are its items' (Ansible's strategy applies each result item's ansible_facts)
  const factSets = Array.isArray(o.result.results)
    ? (o.result.results as unknown[]).map((r) =>
        r && typeof r === 'object' ? (r as Record<string, unknown>).ansible_facts : undefined,
      )
    : [o.result.ansible_facts];
  for (const facts of factSets) {
    if (!facts || typeof facts !== 'object' || o.status === 'failed' || o.status === 'skipped') continue;
    if (o.secret) markSecretData(facts); // set_fact of a value derived from a secret sets a secret
    if (task.module === 'include_vars') Object.assign(host.includedVars, facts);
    else if (task.module === 'set_fact') Object.assign(host.facts, facts);
    // setup's and other modules' facts (getent) are the host's facts: variables, and under ansible_facts
    else mergeGatheredFacts(host.gathered, facts as Record<string, unknown>);
  }
  if (o.status === 'changed') for (const n of [...(task.notify ?? []), ...(scope.notify ?? [])]) host.notified.add(n);
  if (o.status === 'failed' && !o.ignored) {
    host.failures++;
    const result = markUnsafe(o.result);
    if (o.secret) markSecretContainers(result);
    host.lastFailure = { task: { name: taskTitle(task), action: task.module }, result };
  }
  if (o.status === 'unreachable' && !o.ignored) host.unreachable = true;
}

// As StrategyBase._process_pending_results: an ignored failure or unreachable counts as ok and ignored,
// and a failed result that says changed counts as changed too
function countOutcome(host: HostState, o: Outcome): void {
  const c = host.counters;
  if (o.status === 'skipped') c.skipped++;
  else if ((o.status === 'unreachable' || o.status === 'failed') && o.ignored) {
    c.ignored++;
    c.ok++;
    if (o.status === 'failed' && o.result.changed === true) c.changed++;
  } else if (o.status === 'unreachable') c.unreachable++;
  else if (o.status === 'failed') c.failed++;
  else if (o.status === 'changed') {
    c.changed++;
    c.ok++;
  } else c.ok++;
}

/** Runs the task once per loop item, each reported on its own; the task's outcome sums them up. */
async function runLoop(t: TaskOnHost): Promise<Outcome> {
  let items: unknown[];
  try {
    items = loopItems(t.task, t.vars, t.title, { ...lookupDirs(t), action: t.task.module });
  } catch (e) {
    // TaskExecutor.run keeps an undefined variable in the loop (_loop_eval_error) until the task's
    // `when` is known: a false one skips the task; a true one, or one that fails, raises the loop's error
    if (!(e instanceof UndefinedVariableError) || t.scope.when === undefined) throw e;
    let holds: boolean;
    try {
      holds = conditionHolds(t.scope.when, t.vars, t);
    } catch {
      throw e;
    }
    if (holds) throw e;
    return conditionFalse(); // Ansible's skipped result here names no false_condition
  }
  const lc = t.task.loop_control ?? {};
  const loopVar = lc.loop_var ?? 'item';
  const results: Record<string, unknown>[] = [];
  const statuses: HostStatus[] = [];
  let vars = t.vars;
  for (let i = 0; i < items.length; i++) {
    const item: TaskOnHost = { ...t, vars: loopItemVars(vars, items, i, loopVar, lc) };
    let o: Outcome;
    const started = performance.now();
    try {
      o = conditionHolds(t.scope.when, item.vars, t) ? await attempt(item) : conditionFalse();
    } catch (e) {
      o = errorOutcome(e, t.scope, t.host, t.ctx);
      if (o.status === 'unreachable') return o;
    }
    const label =
      lc.label !== undefined ? renderValue(lc.label, item.vars, { loc: t.task.loc, task: t.title }) : items[i];
    const r = {
      ...o.result,
      [loopVar]: items[i],
      ansible_loop_var: loopVar,
      ...(lc.index_var ? { [lc.index_var]: i } : {}),
    };
    results.push(r);
    statuses.push(o.status);
    vars = withItemFacts(vars, o, t.task.module);
    reportItem(t, o, r, typeof plain(label) === 'string' ? String(label) : JSON.stringify(label), started);
    if (lc.pause && i < items.length - 1) await sleep(lc.pause * 1000);
  }
  return loopOutcome(t, results, statuses);
}

/**
 * The vars later items of a loop see: an item's facts (set_fact `acc: "{{ acc | default([]) + [item] }}"`)
 * over the task's, as Ansible's TaskExecutor._execute updates the loop's variables with each result's.
 */
function withItemFacts(vars: Record<string, unknown>, o: Outcome, module: string): Record<string, unknown> {
  const facts = o.result.ansible_facts;
  if (!facts || typeof facts !== 'object' || o.status === 'failed' || o.status === 'skipped' || module === 'setup')
    return vars;
  const next = Object.create(null) as Record<string, unknown>;
  Object.defineProperties(next, {
    ...Object.getOwnPropertyDescriptors(vars),
    ...Object.getOwnPropertyDescriptors(facts),
  });
  return next;
}

function reportItem(t: TaskOnHost, o: Outcome, result: Record<string, unknown>, label: string, started: number): void {
  const hidden = t.noLog || secretUsed() || holdsSecretText(result);
  const why = t.noLog ? NO_LOG_MSG : VAULT_HIDDEN_MSG;
  t.ctx.reporter.emit({
    type: 'host_result',
    task: t.title,
    host: t.host.name,
    status: o.status,
    ignored: o.ignored,
    result: hidden ? censor(result, shownWhenHidden.has(o.result), why) : result,
    item: hidden ? HIDDEN_ITEM : label,
    durationMs: performance.now() - started,
    ...(t.delegateTo ? { delegatedTo: t.delegateTo } : {}),
  });
}

/** The host's vars for item i: the loop variable, index_var and ansible_loop over them. */
function loopItemVars(
  vars: Record<string, unknown>,
  items: unknown[],
  i: number,
  loopVar: string,
  lc: LoopControl,
): Record<string, unknown> {
  // copied by descriptors: hostvars stays a lazy getter
  const itemVars: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  Object.defineProperties(itemVars, Object.getOwnPropertyDescriptors(vars));
  itemVars[loopVar] = items[i];
  if (lc.index_var) itemVars[lc.index_var] = i;
  itemVars.ansible_loop = {
    index: i + 1,
    index0: i,
    first: i === 0,
    last: i === items.length - 1,
    length: items.length,
    revindex: items.length - i,
    revindex0: items.length - i - 1,
    ...(lc.extended
      ? {
          ...(lc.extended_allitems === false ? {} : { allitems: items }),
          ...(i > 0 ? { previtem: items[i - 1] } : {}),
          ...(i < items.length - 1 ? { nextitem: items[i + 1] } : {}),
        }
      : {}),
  };
  return itemVars;
}

function loopOutcome(t: TaskOnHost, results: Record<string, unknown>[], statuses: HostStatus[]): Outcome {
  const anyChanged = statuses.includes('changed');
  const anyFailed = statuses.includes('failed');
  const result: Record<string, unknown> = {
    changed: anyChanged,
    results,
    msg: anyFailed ? 'One or more items failed' : 'All items completed',
  };
  // TaskExecutor.run: a loop over no items is skipped, not ok
  if (statuses.length === 0)
    return {
      status: 'skipped',
      result: { changed: false, skipped: true, skipped_reason: 'No items in the list', results },
      ignored: false,
    };
  if (statuses.every((s) => s === 'skipped'))
    return { status: 'skipped', result: { ...result, skipped: true, msg: 'All items skipped' }, ignored: false };
  if (anyFailed)
    return { status: 'failed', result: { ...result, failed: true }, ignored: toBool(t.scope.ignore_errors) };
  return { status: anyChanged ? 'changed' : 'ok', result, ignored: false };
}

/** One module run with retries/until, changed_when and failed_when applied. */
async function attempt(t: TaskOnHost): Promise<Outcome> {
  const { task, vars } = t;
  const where = { loc: task.loc, task: t.title, ...lookupDirs(t) };
  const retries = task.until !== undefined ? Number(renderValue(task.retries ?? 3, vars, where)) : 0;
  const delay = Number(renderValue(task.delay ?? 5, vars, where));
  const judged = task.changed_when !== undefined || task.failed_when !== undefined || task.until !== undefined;
  for (let attemptNo = 1; ; attemptNo++) {
    const result = await invoke(t);
    // the vars changed_when, failed_when and until see: the result as the module returned it
    // (made only for a task that has one of them)
    const scoped = judged ? conditionVars(vars, task.register, result) : vars;
    judgeResult(t, result, scoped);
    if (task.until !== undefined) {
      result.attempts = attemptNo;
      const done = evaluateCondition(task.until, scoped, { ...where, warn: warner(t.ctx) });
      if (!done) {
        if (attemptNo <= retries && !t.ctx.options.signal?.aborted) {
          t.ctx.reporter.emit({
            type: 'debug',
            host: t.host.name,
            message: `FAILED - RETRYING: ${t.title} (${retries - attemptNo + 1} retries left)`,
          });
          await sleep(delay * 1000);
          continue;
        }
        result.failed = true;
        result.msg ??= `retries exhausted: the until condition never held (${attemptNo} attempts)`;
      }
    }
    const failed = Boolean(result.failed);
    return {
      status: failed ? 'failed' : result.skipped ? 'skipped' : result.changed ? 'changed' : 'ok',
      result,
      ignored: failed && toBool(renderValue(t.scope.ignore_errors ?? false, vars, where)),
    };
  }
}

/** The task's vars with its result: under its `register` name, or its keys as variables. */
function conditionVars(
  vars: Record<string, unknown>,
  register: string | undefined,
  result: Record<string, unknown>,
): Record<string, unknown> {
  const output = markUnsafe(result); // host output is data in these conditions too
  return register ? { ...vars, [register]: output } : { ...vars, ...output };
}

/**
 * --check on a host that is a container (ansible_connection: pct) which an earlier task of this
 * check run would create or start on its hypervisor: there is nothing to look into yet, so its
 * tasks are skipped with the reason instead of the host being unreachable. Undefined otherwise.
 */
function containerNotYetThere(t: TaskOnHost): string | undefined {
  if (!t.check || t.delegateTo !== undefined) return undefined;
  const v = t.host.inventoryVars;
  if (v.ansible_connection !== 'pct' || typeof v.ansible_host !== 'string') return undefined;
  const hypervisor = t.ctx.hosts.get(v.ansible_host);
  const vmid = typeof v.pct_vmid === 'number' || typeof v.pct_vmid === 'string' ? v.pct_vmid : undefined;
  if (!hypervisor || vmid === undefined) return undefined;
  const ct = containerSlot.get(hypervisor.predicted, vmid);
  if (!ct || ct.status !== 'running') return undefined;
  return `CT ${vmid} would be created or started on ${v.ansible_host} by an earlier task of this --check run: nothing in it to check yet`;
}

/** changed_when and failed_when, over the result and the vars (`scoped`), decide the result's changed and failed. */
function judgeResult(t: TaskOnHost, result: Record<string, unknown>, scoped: Record<string, unknown>): void {
  const judge = (cond: Condition, predicted: boolean): boolean => {
    try {
      return evaluateCondition(cond, scoped, { loc: t.task.loc, task: t.title, ...lookupDirs(t), warn: warner(t.ctx) });
    } catch (e) {
      // --check: a condition on output that only a real run has (a command's stdout) keeps the module's prediction
      if (t.check && e instanceof PhxError) return predicted;
      throw e;
    }
  };
  try {
    if (t.task.changed_when !== undefined) result.changed = judge(t.task.changed_when, Boolean(result.changed));
    if (t.task.failed_when !== undefined) {
      const failed = judge(t.task.failed_when, Boolean(result.failed));
      result.failed_when_result = failed;
      result.failed = failed;
    }
  } catch (e) {
    // as Ansible: a condition that cannot be evaluated fails the task, and the result it judged
    // (stdout, rc, ...) is what register keeps, with the error as its msg
    if (!(e instanceof PhxError)) throw e;
    result.failed = true;
    result.msg = e.loc ? `${formatLoc(e.loc)}: ${e.message}` : e.message;
  }
}

async function invoke(t: TaskOnHost): Promise<Record<string, unknown>> {
  const where = { loc: t.task.loc, task: t.title, ...lookupDirs(t) };
  const args = moduleArgs(t, where);
  const timeoutS = t.scope.timeout !== undefined ? Number(renderValue(t.scope.timeout, t.vars, where)) : undefined;
  const abort = new AbortController();
  const timer = timeoutS ? setTimeout(() => abort.abort(), timeoutS * 1000) : undefined;
  // Ctrl-C ends the task's commands on the host as the timeout does
  const runSignal = t.ctx.options.signal;
  const onInterrupt = () => abort.abort(runSignal?.reason);
  if (runSignal?.aborted) onInterrupt();
  else runSignal?.addEventListener('abort', onInterrupt, { once: true });
  try {
    let conn: Connection;
    try {
      conn =
        t.module.runsOn === 'controller'
          ? controllerOnly
          : await t.ctx.connect(t.delegateTo ?? t.host.name, connectionDefaults(t, where));
    } catch (e) {
      const notYet = e instanceof UnreachableError ? containerNotYetThere(t) : undefined;
      if (notYet) return { changed: false, skipped: true, msg: notYet };
      throw e;
    }
    const upcoming = timeoutS ? undefined : readAheadFrom(t, conn, where, args, abort.signal);
    const work = runModule(t.module, args, moduleContext(t, conn, where, timeoutS, abort.signal, upcoming));
    const r: ModuleResult = await Promise.race([work, stoppedBy(abort.signal, timeoutS)]);
    if (!r.failed && (t.module.name === 'add_host' || t.module.name === 'group_by')) {
      // add_host, group_by: the inventory changes now, and `changed` says whether it did
      const inventoryChanged = applyInventoryChange(t.ctx, t.host.name, t.run.baseDir, r);
      if (inventoryChanged !== undefined) r.changed = inventoryChanged;
    }
    return withLines({ ...r, changed: Boolean(r.changed), failed: Boolean(r.failed) });
  } finally {
    if (timer) clearTimeout(timer);
    runSignal?.removeEventListener('abort', onInterrupt);
  }
}

/** The task's later tasks as the window sees them: each with its scope and module, up to an unknown module. */
function laterTasks(ctx: RunContext, outer: Scope, tasks: readonly Task[]): LaterTask[] {
  const later: LaterTask[] = [];
  for (const task of tasks) {
    const module = ctx.registry.get(task.module);
    if (!module) break;
    later.push({ task, scope: inherit(outer, task), module });
  }
  return later;
}

/**
 * What this task's probe also asks for the tasks after it (read-ahead-window.ts), or undefined:
 * a task in a loop, delegated, hidden, with a timeout, or in a run that holds vault secrets
 * (what is rendered early must never be where a secret is not looked for) does not read ahead.
 */
function readAheadFrom(
  t: TaskOnHost,
  conn: Connection,
  where: { loc: Task['loc']; task: string },
  args: unknown,
  signal: AbortSignal,
): (() => Promise<ProbeRequest[]>) | undefined {
  const following = t.following;
  if (!following || t.task.loop !== undefined || t.delegateTo !== undefined || t.noLog || hasSecrets())
    return undefined;
  if (t.module.readAhead !== 'facts' || t.module.readAheadFor?.(args) === 'end') return undefined;
  // rendered only when the task really reads ahead (most tasks of a window take an answer instead)
  return () =>
    windowProbes(
      envelopeOf(t, where),
      following(),
      (l) => tagsSelect(l.scope.tags ?? [], t.ctx.options.tags),
      (l) => speculate(t, conn, l, signal),
    );
}

/** A later task on the same host as it would run now; throws when it cannot be rendered yet. */
function speculate(t: TaskOnHost, conn: Connection, later: LaterTask, signal: AbortSignal): Speculation {
  const run: TaskRun = {
    ...t,
    task: later.task,
    module: later.module,
    scope: later.scope,
    title: taskTitle(later.task),
  };
  const u = taskOnHost(run, t.host);
  const where = { loc: u.task.loc, task: u.title, ...lookupDirs(u) };
  return {
    args: moduleArgs(u, where),
    ctx: moduleContext(u, conn, where, undefined, signal),
    noLog: u.noLog,
    delegated: u.delegateTo !== undefined,
    envelope: envelopeOf(u, where),
    whenHolds: whenHoldsNow(u),
  };
}

/** A later task's `when` with the vars of now: undefined when it cannot be told (a later result); no warning shown early. */
function whenHoldsNow(u: TaskOnHost): boolean | undefined {
  if (u.scope.when === undefined) return true;
  try {
    return evaluateCondition(u.scope.when, u.vars, { loc: u.task.loc, ...lookupDirs(u), warn: () => {} });
  } catch {
    return undefined;
  }
}

/** Who the task's commands run as and with which environment. */
function envelopeOf(t: TaskOnHost, where: { loc: Task['loc']; task: string }): string {
  return JSON.stringify([
    becomeFor(t.ctx, t.scope, t.vars, where)?.user ?? null,
    environmentFor(t.scope, t.vars, where) ?? null,
  ]);
}

/** Where lookup('file', …) searches for this task: the role's directory, then the playbook's (helpers.ts). */
function lookupDirs(t: TaskRun): { baseDir: string; roleDir?: string } {
  const roleDir = t.scope.role?.path;
  return { baseDir: t.run.baseDir, ...(roleDir ? { roleDir } : {}) };
}

/** The play's connection type and the remote_user of the task, its blocks or its play (rendered for this host). */
function connectionDefaults(t: TaskOnHost, where: { loc: Task['loc']; task: string }): ConnectionDefaults {
  const render = (v: unknown) => String(plain(renderValue(v, t.vars, where)));
  const keyword = t.scope.remote_user;
  const out: ConnectionDefaults =
    keyword === undefined ? t.run.connection : { ...t.run.connection, ansible_user: render(keyword) };
  // the variable wins over the keyword (set_task_and_variable_override); a delegated task's vars are
  // not the delegate's, so there the delegate's own variables decide
  const variable = t.delegateTo === undefined ? (t.vars.ansible_user ?? t.vars.ansible_ssh_user) : undefined;
  return variable === undefined || variable === null || variable === '' ? out : { ...out, user: render(variable) };
}

/** The task's arguments rendered and checked against the module's schema. */
function moduleArgs(
  t: TaskOnHost,
  where: { loc: Task['loc']; task: string; baseDir: string; roleDir?: string },
): unknown {
  const rendered = dropOmitted(renderValue(t.task.args, t.vars, where));
  noteSecretInside(rendered); // a secret got in without a variable read (a cached lazy var): the task is secret too
  // arguments are data for the module: plain strings; controller modules (set_fact) keep what was unsafe
  const parsed = t.module.args.safeParse(coerceArgs(t.module.args, unwrapUnsafe(rendered)));
  if (!parsed.success) {
    const problems = argIssuesText(parsed.error.issues);
    // not a module result: changed_when/failed_when/until must not run on it
    throw new PhxError(`invalid arguments for ${t.module.name}: ${problems}`, t.task.loc);
  }
  return t.module.runsOn === 'controller' ? restoreUnsafe(parsed.data, rendered) : parsed.data;
}

function moduleContext(
  t: TaskOnHost,
  conn: Connection,
  where: { loc: Task['loc']; task: string },
  timeoutS: number | undefined,
  signal: AbortSignal,
  upcomingProbes?: () => Promise<ProbeRequest[]>,
) {
  const { ctx, host, scope, vars } = t;
  return createModuleContext({
    upcomingProbes,
    host: host.name,
    conn,
    check: t.check,
    diff: scope.diff === undefined ? ctx.options.diff : toBool(renderValue(scope.diff, vars, where)),
    vars,
    baseDir: t.run.baseDir,
    roleDir: scope.role?.path,
    predicted: host.predicted,
    scopes: ctx.scopes,
    become: becomeFor(ctx, scope, vars, where),
    env: environmentFor(scope, vars, where),
    timeoutMs: timeoutS ? timeoutS * 1000 : undefined,
    signal,
    onCommand:
      ctx.options.verbosity >= 2
        ? (c) =>
            ctx.reporter.emit({
              type: 'command',
              host: host.name,
              command: t.noLog || secretUsed() ? HIDDEN_COMMAND : c,
            })
        : undefined,
    onLog:
      ctx.options.verbosity >= 3 && !t.noLog
        ? (m) => {
            if (!secretUsed()) ctx.reporter.emit({ type: 'debug', host: host.name, message: m });
          }
        : undefined,
  });
}

/** The items of a `loop` (or with_items / with_dict) for one host. */
export function loopItems(
  node: Pick<Task, 'loop' | 'loop_with' | 'loc'>,
  vars: Record<string, unknown>,
  title: string | undefined,
  search: FirstFoundContext,
): unknown[] {
  if (node.loop_with === 'first_found') return firstFoundItems(node, vars, title, search);
  // lookups in the loop (lookup('file'), query('first_found')) search the task's directories
  const dirs = {
    ...(search.baseDir ? { baseDir: search.baseDir } : {}),
    ...(search.roleDir ? { roleDir: search.roleDir } : {}),
  };
  const value = renderValue(node.loop, vars, { loc: node.loc, task: title, ...dirs });
  if (node.loop_with === 'dict') {
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new PhxError(`with_dict expects a mapping, got ${describe(value)}`, node.loc);
    const unsafe = isUnsafeContainer(value); // keys chosen by a host are unsafe text
    const entries: [string, unknown][] = Object.entries(value);
    return entries.map(([key, v]) => ({ key: unsafe ? new UnsafeText(key) : key, value: v }));
  }
  if (node.loop_with === 'sequence') return sequenceLoop(value, node);
  if (node.loop_with === 'flattened') return flattenedItems(Array.isArray(value) ? (value as unknown[]) : [value]);
  // with_items over a mapping: its keys, as LookupBase._flatten iterates the terms (lookup/items.py)
  if (node.loop_with === 'items' && isMapping(value)) {
    const unsafe = isUnsafeContainer(value);
    return Object.keys(value).map((key) => (unsafe ? new UnsafeText(key) : key));
  }
  if (!Array.isArray(value)) throw new PhxError(`loop must be a list, got ${describe(value)}`, node.loc);
  const list: unknown[] = value;
  if (node.loop_with === 'together' || node.loop_with === 'nested') return combined(node.loop_with, list, node);
  return node.loop_with === 'items' ? list.flatMap((v: unknown) => (Array.isArray(v) ? (v as unknown[]) : [v])) : list;
}

/**
 * with_flattened (community.general plugins/lookup/flattened.py `_do_flatten`): lists flattened all
 * the way down; a term that is the string 'None' or 'null' ends its list (the lookup's `break`); a
 * string is one item, without the blanks around it (listify_lookup_plugin_terms strips it).
 */
export function flattenedItems(terms: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let term of terms) {
    while (Array.isArray(term) && term.length === 1) term = term[0];
    const text = plain(term);
    if (text === 'None' || text === 'null') break;
    if (Array.isArray(term)) out.push(...flattenedItems(term));
    else if (typeof text === 'string' && text.trim() !== text)
      out.push(term instanceof UnsafeText ? new UnsafeText(text.trim()) : text.trim());
    else out.push(term);
  }
  return out;
}

/** with_sequence whose terms held templates: read as the loader reads literal ones (src/playbook/sequence.ts). */
function sequenceLoop(value: unknown, node: Pick<Task, 'loc'>): string[] {
  const terms = (Array.isArray(value) ? (value as unknown[]) : [value]).map((t) => String(plain(t)));
  try {
    return terms.flatMap(sequenceItems);
  } catch (e) {
    throw new PhxError((e as Error).message, node.loc);
  }
}

/** A loop over more items than this is a mistake (with_nested multiplies). */
const MAX_COMBINED_ITEMS = 100_000;

/**
 * with_together: the lists side by side, padded with null (lookup/together.py); with_nested: every
 * combination, first list outermost (lookup/nested.py). Each item is a list.
 */
function combined(how: 'together' | 'nested', lists: unknown[], node: Pick<Task, 'loc'>): unknown[][] {
  const parts = lists.map((l) => (Array.isArray(l) ? (l as unknown[]) : [l]));
  if (parts.length === 0) return [];
  if (how === 'together') {
    const n = Math.max(...parts.map((p) => p.length));
    return Array.from({ length: n }, (_, i) => parts.map((p) => (i < p.length ? p[i] : null)));
  }
  const total = parts.reduce((acc, p) => acc * p.length, 1);
  if (total > MAX_COMBINED_ITEMS)
    throw new PhxError(`with_nested makes ${total} items (at most ${MAX_COMBINED_ITEMS})`, node.loc);
  return parts.reduce<unknown[][]>((acc, p) => acc.flatMap((prefix) => p.map((v) => [...prefix, v])), [[]]);
}

/** The task's result once its signal aborts: the `timeout` ran out, or the run was interrupted. */
function stoppedBy(signal: AbortSignal, timeoutS: number | undefined): Promise<ModuleResult> {
  return new Promise((resolve) => {
    const stopped = () =>
      resolve({
        changed: false,
        failed: true,
        msg:
          signal.reason instanceof Interrupted
            ? `The task was ${signal.reason.message}`
            : `The task timed out after ${timeoutS} seconds (timeout)`,
      });
    if (signal.aborted) stopped();
    else signal.addEventListener('abort', stopped, { once: true });
  });
}

function becomeFor(
  ctx: RunContext,
  scope: Scope,
  vars: Record<string, unknown>,
  where: { loc: Task['loc']; task: string },
) {
  const raw = scope.become ?? vars.ansible_become ?? ctx.options.become.enabled;
  if (!toBool(renderValue(raw, vars, where))) return undefined;
  const user = String(
    renderValue(scope.become_user ?? vars.ansible_become_user ?? ctx.options.become.user ?? 'root', vars, where),
  );
  const pw = vars.ansible_become_password ?? vars.ansible_become_pass ?? ctx.options.become.password;
  return { user, ...(pw !== undefined ? { password: String(renderValue(pw, vars, where)) } : {}) };
}

function environmentFor(
  scope: Scope,
  vars: Record<string, unknown>,
  where: { loc: Task['loc']; task: string },
): Record<string, string> | undefined {
  if (scope.environment === undefined) return undefined;
  const env = unwrapUnsafe(renderValue(scope.environment, vars, where));
  if (!env || typeof env !== 'object' || Array.isArray(env))
    throw new PhxError(`environment must be a mapping, got ${describe(env)}`, where.loc);
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function conditionHolds(when: Scope['when'], vars: Record<string, unknown>, t: TaskOnHost): boolean {
  return (
    when === undefined || evaluateCondition(when, vars, { loc: t.task.loc, ...lookupDirs(t), warn: warner(t.ctx) })
  );
}

const warned = new WeakMap<RunContext, Set<string>>();

/** Ansible's warnings about a playbook (`{{ }}` in a condition) are shown once per run, like its Display. */
function warner(ctx: RunContext): (message: string) => void {
  return (message) => {
    const seen = warned.get(ctx) ?? new Set<string>();
    warned.set(ctx, seen);
    if (seen.has(message)) return;
    seen.add(message);
    ctx.reporter.emit({ type: 'warning', message });
  };
}

function whenText(when: Scope['when']): string {
  return Array.isArray(when) ? when.map(String).join(' and ') : String(when);
}

function errorOutcome(e: unknown, scope: Scope, host: HostState, ctx: RunContext): Outcome {
  if (e instanceof UnreachableError) {
    return {
      status: 'unreachable',
      result: { changed: false, unreachable: true, msg: e.message },
      ignored: toBool(scope.ignore_unreachable),
    };
  }
  const msg =
    e instanceof PhxError
      ? e.loc
        ? `${formatLoc(e.loc)}: ${e.message}`
        : e.message
      : `${(e as Error).message ?? String(e)}`;
  const result: Record<string, unknown> = { changed: false, failed: true, msg };
  if (e instanceof SecretOnCommandLine) shownWhenHidden.add(result);
  if (!(e instanceof PhxError) && ctx.options.verbosity >= 3) result.exception = (e as Error).stack;
  return { status: 'failed', result, ignored: toBool(scope.ignore_errors) };
}

function withLines(r: Record<string, unknown>): Record<string, unknown> {
  if (typeof r.stdout === 'string') r.stdout_lines = splitLines(r.stdout);
  if (typeof r.stderr === 'string') r.stderr_lines = splitLines(r.stderr);
  return r;
}

function splitLines(s: string): string[] {
  if (s === '') return [];
  return s.replace(/\n$/, '').split('\n');
}

/** Results whose message names no secret and says why the task failed (a secret refused on a command line). */
const shownWhenHidden = new WeakSet<object>();

function censor(
  r: Record<string, unknown>,
  keepMsg = shownWhenHidden.has(r),
  why = NO_LOG_MSG,
): Record<string, unknown> {
  return {
    censored: why,
    ...(keepMsg ? { msg: r.msg } : {}),
    changed: r.changed,
    ...(r.failed ? { failed: true } : {}),
    ...(r.skipped ? { skipped: true } : {}),
  };
}

function describe(v: unknown): string {
  return v === null
    ? 'null'
    : Array.isArray(v)
      ? 'a list'
      : typeof v === 'object'
        ? 'a mapping'
        : `${typeof v} ${JSON.stringify(v)}`;
}

function noConnection(): Promise<never> {
  return Promise.reject(new Error('this module runs on the controller and has no connection'));
}

const controllerOnly: Connection = {
  kind: 'local',
  async connect() {},
  exec: noConnection,
  putFile: noConnection,
  getFile: noConnection,
  async close() {},
};
