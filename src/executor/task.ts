// One task on the hosts of a batch: per host, vars → when → loop → module,
// with retries/until, changed_when/failed_when, register and notify.
import { performance } from 'node:perf_hooks';
import { Interrupted, PhxError, UnreachableError, formatLoc } from '../errors.js';
import { evaluateCondition } from '../expr/index.js';
import type { ModuleDefinition, ModuleResult } from '../module.js';
import { createModuleContext } from '../module-runner.js';
import { runModule } from '../module-runner.js';
import type { Task } from '../playbook/types.js';
import { markUnsafe, renderValue } from '../template/index.js';
import type { Connection } from '../connection/types.js';
import type { PlayRun, RunContext } from './context.js';
import type { HostState } from './host.js';
import { inherit, type Scope } from './scope.js';
import { dropOmitted, taskVars } from './vars.js';
import { mapLimit, sleep } from './util.js';
import type { HostStatus } from '../events.js';

export const NO_LOG_MSG =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

interface Outcome {
  status: HostStatus;
  result: Record<string, unknown>;
  ignored: boolean;
}

/** Runs a task on every active host of `hosts`, `forks` at a time. */
export async function runTask(
  ctx: RunContext,
  run: PlayRun,
  task: Task,
  hosts: HostState[],
  outer: Scope,
  handler = false,
): Promise<void> {
  throwIfInterrupted(ctx);
  const scope = inherit(outer, task);
  const def = ctx.registry.get(task.module);
  if (!def) throw new PhxError(`unknown module '${task.module}'`, task.loc);
  let targets = hosts.filter((h) => h.active);
  if (targets.length === 0) return;
  const title = renderedTitle(ctx, run, task, targets[0], scope);
  const runOnce = truthy(scope.run_once);
  if (runOnce) targets = targets.slice(0, 1);
  ctx.reporter.emit({
    type: 'task_start',
    task: title,
    module: task.module,
    hosts: targets.map((h) => h.name),
    loc: task.loc,
    handler,
  });
  const outcomes = await mapLimit(targets, ctx.options.forks, (h) => runOnHost(ctx, run, task, def, h, scope, title));
  throwIfInterrupted(ctx);
  if (runOnce) {
    // run_once: the one result stands for every host of the batch
    const [first] = outcomes;
    for (const h of hosts.filter((x) => x.active && x !== targets[0])) applyOutcome(h, task, first, scope, false);
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
  const raw = taskTitle(task);
  if (!raw.includes('{{')) return raw;
  try {
    return String(renderValue(raw, taskVars(ctx, run, first, scope, undefined, ctx.options.check), { loc: task.loc }));
  } catch {
    return raw;
  }
}

async function runOnHost(
  ctx: RunContext,
  run: PlayRun,
  task: Task,
  def: ModuleDefinition,
  host: HostState,
  scope: Scope,
  title: string,
): Promise<Outcome> {
  const started = performance.now();
  let outcome: Outcome;
  let delegatedTo: string | undefined;
  try {
    const check0 = ctx.options.check;
    const baseVars = taskVars(ctx, run, host, scope, undefined, check0);
    const check =
      scope.check_mode === undefined
        ? check0
        : truthy(renderValue(scope.check_mode, baseVars, { loc: task.loc, task: title }));
    const vars = check === check0 ? baseVars : taskVars(ctx, run, host, scope, undefined, check);
    delegatedTo = scope.delegate_to
      ? String(renderValue(scope.delegate_to, vars, { loc: task.loc, task: title }))
      : undefined;
    if (task.loop !== undefined) {
      outcome = await runLoop(ctx, task, def, host, scope, vars, check, title, delegatedTo);
    } else if (!conditionHolds(scope.when, vars, task)) {
      outcome = {
        status: 'skipped',
        result: {
          changed: false,
          skipped: true,
          skip_reason: 'Conditional result was False',
          false_condition: whenText(scope.when),
        },
        ignored: false,
      };
    } else {
      outcome = await attempt(ctx, task, def, host, scope, vars, check, title, delegatedTo);
    }
  } catch (e) {
    outcome = errorOutcome(e, scope, host, ctx);
  }
  applyOutcome(host, task, outcome, scope, true);
  const result = truthy(scope.no_log) ? censor(outcome.result) : outcome.result;
  emitWarnings(ctx, host.name, result);
  ctx.reporter.emit({
    type: 'host_result',
    task: title,
    host: host.name,
    status: outcome.status,
    ignored: outcome.ignored,
    result,
    durationMs: performance.now() - started,
    ...(delegatedTo ? { delegatedTo } : {}),
  });
  return outcome;
}

/** Modules' `warnings` (Ansible's convention) are shown whatever the verbosity. */
function emitWarnings(ctx: RunContext, host: string, result: Record<string, unknown>): void {
  const warnings = result.warnings;
  if (!Array.isArray(warnings)) return;
  for (const w of warnings)
    if (typeof w === 'string') ctx.reporter.emit({ type: 'warning', message: `[${host}] ${w}` });
}

/** Records an outcome on the host: counters, register, facts, notify, failure. */
function applyOutcome(host: HostState, task: Task, o: Outcome, scope: Scope, count: boolean): void {
  const c = host.counters;
  if (count) {
    if (o.status === 'skipped') c.skipped++;
    else if (o.status === 'unreachable') {
      if (o.ignored) c.ignored++;
      else c.unreachable++;
    } else if (o.status === 'failed') {
      if (o.ignored) c.ignored++;
      else c.failed++;
    } else if (o.status === 'changed') {
      c.changed++;
      c.ok++;
    } else c.ok++;
  }
  // a registered result is data: output containing `{{` is never rendered as a template
  if (task.register) host.facts[task.register] = markUnsafe(o.result);
  const facts = o.result.ansible_facts;
  if (facts && typeof facts === 'object' && o.status !== 'failed' && o.status !== 'skipped')
    Object.assign(host.facts, facts);
  if (o.status === 'changed') for (const n of [...(task.notify ?? []), ...(scope.notify ?? [])]) host.notified.add(n);
  if (o.status === 'failed' && !o.ignored) host.failed = true;
  if (o.status === 'unreachable' && !o.ignored) host.unreachable = true;
}

async function runLoop(
  ctx: RunContext,
  task: Task,
  def: ModuleDefinition,
  host: HostState,
  scope: Scope,
  vars: Record<string, unknown>,
  check: boolean,
  title: string,
  delegatedTo?: string,
): Promise<Outcome> {
  const items = loopItems(task, vars, title);
  const lc = task.loop_control ?? {};
  const loopVar = lc.loop_var ?? 'item';
  const results: Record<string, unknown>[] = [];
  let anyChanged = false;
  let anyFailed = false;
  let allSkipped = true;
  for (let i = 0; i < items.length; i++) {
    const itemVars: Record<string, unknown> = Object.create(null);
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
    };
    let o: Outcome;
    const started = performance.now();
    try {
      o = conditionHolds(scope.when, itemVars, task)
        ? await attempt(ctx, task, def, host, scope, itemVars, check, title, delegatedTo)
        : {
            status: 'skipped',
            result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' },
            ignored: false,
          };
    } catch (e) {
      o = errorOutcome(e, scope, host, ctx);
      if (o.status === 'unreachable') return o;
    }
    const label = lc.label !== undefined ? renderValue(lc.label, itemVars, { loc: task.loc, task: title }) : items[i];
    const r = {
      ...o.result,
      [loopVar]: items[i],
      ansible_loop_var: loopVar,
      ...(lc.index_var ? { [lc.index_var]: i } : {}),
    };
    results.push(r);
    anyChanged ||= o.status === 'changed';
    anyFailed ||= o.status === 'failed';
    if (o.status !== 'skipped') allSkipped = false;
    ctx.reporter.emit({
      type: 'host_result',
      task: title,
      host: host.name,
      status: o.status,
      ignored: o.ignored,
      result: truthy(scope.no_log) ? censor(r) : r,
      item: typeof label === 'string' ? label : JSON.stringify(label),
      durationMs: performance.now() - started,
      ...(delegatedTo ? { delegatedTo } : {}),
    });
    if (lc.pause && i < items.length - 1) await sleep(lc.pause * 1000);
  }
  const result: Record<string, unknown> = {
    changed: anyChanged,
    results,
    msg: anyFailed ? 'One or more items failed' : 'All items completed',
  };
  if (items.length > 0 && allSkipped)
    return { status: 'skipped', result: { ...result, skipped: true, msg: 'All items skipped' }, ignored: false };
  if (anyFailed) return { status: 'failed', result: { ...result, failed: true }, ignored: truthy(scope.ignore_errors) };
  return { status: anyChanged ? 'changed' : 'ok', result, ignored: false };
}

/** One module run with retries/until, changed_when and failed_when applied. */
async function attempt(
  ctx: RunContext,
  task: Task,
  def: ModuleDefinition,
  host: HostState,
  scope: Scope,
  vars: Record<string, unknown>,
  check: boolean,
  title: string,
  delegatedTo?: string,
): Promise<Outcome> {
  const where = { loc: task.loc, task: title };
  const retries = task.until !== undefined ? Number(renderValue(task.retries ?? 3, vars, where)) : 0;
  const delay = Number(renderValue(task.delay ?? 5, vars, where));
  for (let attemptNo = 1; ; attemptNo++) {
    const result = await invoke(ctx, task, def, host, scope, vars, check, title, delegatedTo);
    const scoped = task.register ? { ...vars, [task.register]: result } : { ...vars, ...result };
    const judge = (cond: Task['changed_when'], predicted: boolean): boolean => {
      try {
        return evaluateCondition(cond!, scoped, where);
      } catch (e) {
        // --check: a condition on output that only a real run has (a command's stdout) keeps the module's prediction
        if (check && e instanceof PhxError) return predicted;
        throw e;
      }
    };
    if (task.changed_when !== undefined) result.changed = judge(task.changed_when, Boolean(result.changed));
    if (task.failed_when !== undefined) {
      result.failed_when_result = judge(task.failed_when, Boolean(result.failed));
      result.failed = result.failed_when_result as boolean;
    }
    if (task.until !== undefined) {
      result.attempts = attemptNo;
      const done = evaluateCondition(task.until, scoped, where);
      if (!done) {
        if (attemptNo <= retries && !ctx.options.signal?.aborted) {
          ctx.reporter.emit({
            type: 'debug',
            host: host.name,
            message: `FAILED - RETRYING: ${title} (${retries - attemptNo + 1} retries left)`,
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
      ignored: failed && truthy(renderValue(scope.ignore_errors ?? false, vars, where)),
    };
  }
}

async function invoke(
  ctx: RunContext,
  task: Task,
  def: ModuleDefinition,
  host: HostState,
  scope: Scope,
  vars: Record<string, unknown>,
  check: boolean,
  title: string,
  delegatedTo?: string,
): Promise<Record<string, unknown>> {
  const where = { loc: task.loc, task: title, baseDir: ctx.playBaseDir };
  const rendered = dropOmitted(renderValue(task.args, vars, where));
  const parsed = def.args.safeParse(rendered);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`)
      .join('; ');
    // not a module result: changed_when/failed_when/until must not run on it
    throw new PhxError(`invalid arguments for ${def.name}: ${problems}`, task.loc);
  }
  const timeoutS = scope.timeout !== undefined ? Number(renderValue(scope.timeout, vars, where)) : undefined;
  const abort = new AbortController();
  const timer = timeoutS ? setTimeout(() => abort.abort(), timeoutS * 1000) : undefined;
  // Ctrl-C ends the task's commands on the host as the timeout does
  const runSignal = ctx.options.signal;
  const onInterrupt = () => abort.abort(runSignal?.reason);
  if (runSignal?.aborted) onInterrupt();
  else runSignal?.addEventListener('abort', onInterrupt, { once: true });
  try {
    const conn: Connection = def.runsOn === 'controller' ? controllerOnly : await ctx.connect(delegatedTo ?? host.name);
    const mctx = createModuleContext({
      host: host.name,
      conn,
      check,
      diff: scope.diff === undefined ? ctx.options.diff : truthy(renderValue(scope.diff, vars, where)),
      vars,
      baseDir: ctx.playBaseDir,
      predicted: host.predicted,
      become: becomeFor(ctx, scope, vars, where),
      env: environmentFor(scope, vars, where),
      timeoutMs: timeoutS ? timeoutS * 1000 : undefined,
      signal: abort.signal,
      onCommand:
        ctx.options.verbosity >= 2
          ? (c) => ctx.reporter.emit({ type: 'command', host: host.name, command: c })
          : undefined,
      onLog:
        ctx.options.verbosity >= 3
          ? (m) => ctx.reporter.emit({ type: 'debug', host: host.name, message: m })
          : undefined,
    });
    const work = runModule(def, parsed.data, mctx);
    const r: ModuleResult = await Promise.race([work, stoppedBy(abort.signal, timeoutS)]);
    return withLines({ ...r, changed: Boolean(r.changed), failed: Boolean(r.failed) });
  } finally {
    if (timer) clearTimeout(timer);
    runSignal?.removeEventListener('abort', onInterrupt);
  }
}

/** The items of a `loop` (or with_items / with_dict) for one host. */
export function loopItems(
  node: Pick<Task, 'loop' | 'loop_with' | 'loc'>,
  vars: Record<string, unknown>,
  title?: string,
): unknown[] {
  const value = renderValue(node.loop, vars, { loc: node.loc, task: title });
  if (node.loop_with === 'dict') {
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new PhxError(`with_dict expects a mapping, got ${describe(value)}`, node.loc);
    return Object.entries(value).map(([key, v]) => ({ key, value: v }));
  }
  if (!Array.isArray(value)) throw new PhxError(`loop must be a list, got ${describe(value)}`, node.loc);
  return node.loop_with === 'items' ? value.flatMap((v) => (Array.isArray(v) ? v : [v])) : value;
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
  if (!truthy(renderValue(raw, vars, where))) return undefined;
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
  const env = renderValue(scope.environment, vars, where);
  if (!env || typeof env !== 'object' || Array.isArray(env))
    throw new PhxError(`environment must be a mapping, got ${describe(env)}`, where.loc);
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

function conditionHolds(when: Scope['when'], vars: Record<string, unknown>, task: Task): boolean {
  return when === undefined || evaluateCondition(when, vars, { loc: task.loc });
}

function whenText(when: Scope['when']): string {
  return Array.isArray(when) ? when.map(String).join(' and ') : String(when);
}

function errorOutcome(e: unknown, scope: Scope, host: HostState, ctx: RunContext): Outcome {
  if (e instanceof UnreachableError) {
    return {
      status: 'unreachable',
      result: { changed: false, unreachable: true, msg: e.message },
      ignored: truthy(scope.ignore_unreachable),
    };
  }
  const msg =
    e instanceof PhxError
      ? e.loc
        ? `${formatLoc(e.loc)}: ${e.message}`
        : e.message
      : `${(e as Error).message ?? String(e)}`;
  const result: Record<string, unknown> = { changed: false, failed: true, msg };
  if (!(e instanceof PhxError) && ctx.options.verbosity >= 3) result.exception = (e as Error).stack;
  return { status: 'failed', result, ignored: truthy(scope.ignore_errors) };
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

export function truthy(v: unknown): boolean {
  if (typeof v === 'string') return ['yes', 'true', 'on', '1', 'y'].includes(v.trim().toLowerCase());
  return Boolean(v);
}

function censor(r: Record<string, unknown>): Record<string, unknown> {
  return {
    censored: NO_LOG_MSG,
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

const controllerOnly: Connection = {
  kind: 'local',
  async connect() {},
  async exec() {
    throw new Error('this module runs on the controller and has no connection');
  },
  async putFile() {
    throw new Error('this module runs on the controller and has no connection');
  },
  async getFile() {
    throw new Error('this module runs on the controller and has no connection');
  },
  async close() {},
};
