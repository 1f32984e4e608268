// Runs one module on one host: facts → plan → apply (unless check) → verify.
import { expandPathArgs } from './remote/expand-paths.js';
import { buildCommand, type CommandContext } from './connection/command.js';
import type { Become, Connection, ExecResult } from './connection/types.js';
import { PhxError, UnreachableError } from './errors.js';
import {
  CommandFailed,
  InternalModuleError,
  ModuleError,
  reportedChanges,
  type Change,
  type ModuleContext,
  type ModuleDefinition,
  type ModuleResult,
  type Plan,
  type RunOptions,
  type Verify,
} from './module.js';
import { applyPredictions, Predictions } from './predictions.js';
import type { ProbeRequest } from './remote/probe.js';
import { hostMayChange } from './remote/read-ahead.js';
import { shellJoin } from './quote.js';
import { SharedScopes } from './shared-scope.js';
import { holdsSecretText, SecretOnCommandLine, secretUsed } from './vault/secrecy.js';

export interface ContextOptions {
  host: string;
  conn: Connection;
  check?: boolean;
  diff?: boolean;
  vars?: Record<string, unknown>;
  baseDir?: string;
  /** the directory of the role the task belongs to: its files/ and templates/ are searched first */
  roleDir?: string;
  predicted?: Predictions;
  /** shared by the hosts of one run (the executor's); a context of its own by default */
  scopes?: SharedScopes;
  become?: Become;
  chdir?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** called with each command line sent (-vv) */
  onCommand?: (command: string) => void;
  /** called with -vvv detail */
  onLog?: (message: string) => void;
  /** the following tasks' probe requests (ModuleContext.upcomingProbes) */
  upcomingProbes?: () => Promise<ProbeRequest[]>;
}

export function createModuleContext(o: ContextOptions): ModuleContext {
  const signal = o.signal ?? new AbortController().signal;
  // commands in a container (pct exec) already run as its root: become root is no sudo there
  const rootInContainer = o.conn.kind === 'pct' && (o.become?.user || 'root') === 'root';
  const send = async (
    cmd: readonly string[] | { shell: string },
    shown: readonly string[] | string,
    opts: RunOptions = {},
  ): Promise<ExecResult> => {
    const cc: CommandContext = {
      chdir: o.chdir,
      env: opts.env ? { ...o.env, ...opts.env } : o.env,
      stdin: opts.stdin,
      become: opts.noBecome || rootInContainer ? undefined : o.become,
      timeoutMs: o.timeoutMs,
    };
    let r: ExecResult;
    // a command that may change the host makes earlier answers stale, sent and ended (read-ahead.ts)
    const mayChange = !opts.readsOnly;
    if (mayChange) hostMayChange();
    try {
      const built = buildCommand(cmd, cc);
      refuseSecretOnCommandLine(built.command);
      o.onCommand?.(built.command);
      r = await o.conn.exec(built.command, {
        stdin: built.stdin,
        become: built.become,
        timeoutMs: o.timeoutMs,
        signal,
        // a chdir puts a `cd` before the script: that needs the subshell
        ownScript: opts.ownScript === true && !Array.isArray(cmd) && !cc.chdir,
        ownLocals: opts.ownLocals,
      });
    } catch (e) {
      throw sendFailure(e, signal);
    } finally {
      if (mayChange) hostMayChange();
    }
    const ok = opts.okExit === 'any' || (opts.okExit ?? [0]).includes(r.rc);
    if (!ok) throw new CommandFailed(shown, r);
    return r;
  };
  return {
    host: o.host,
    conn: o.conn,
    check: o.check ?? false,
    diff: o.diff ?? false,
    vars: o.vars ?? {},
    baseDir: o.baseDir ?? process.cwd(),
    ...(o.roleDir ? { roleDir: o.roleDir } : {}),
    predicted: o.predicted ?? new Predictions(),
    scopes: o.scopes ?? new SharedScopes(),
    becomeUser: o.become ? o.become.user || 'root' : undefined,
    run: (argv, opts) => send(argv, argv, opts),
    runShell: (script, opts) => send({ shell: script }, script, opts),
    log: (m) => o.onLog?.(m),
    signal,
    ...(o.upcomingProbes ? { upcomingProbes: o.upcomingProbes } : {}),
  };
}

/**
 * What the connection threw while running a command: a refused channel or a bad
 * environment name is the task's failure, not a bug in the module. Unreachable
 * hosts and refused become keep their own channel, and so does the executor's
 * abort at the task timeout (it reports the timeout itself).
 */
/**
 * A command line is a process's argv, which `ps` shows to every user of the host: a task
 * that read a vault secret may not put it there (environment:, stdin and files carry it instead).
 */
function refuseSecretOnCommandLine(command: string): void {
  if (secretUsed() && holdsSecretText(command)) throw new SecretOnCommandLine();
}

function sendFailure(e: unknown, signal: AbortSignal): unknown {
  if (signal.aborted || e instanceof ModuleError || e instanceof PhxError || e instanceof UnreachableError) return e;
  return new ModuleError(e instanceof Error ? e.message : String(e));
}

/** Applies plan.changes in order; runs of argv changes go as one `a && b && c` line. */
export async function applyChanges(ctx: ModuleContext, changes: readonly Change[]): Promise<void> {
  let batch: Change[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const stdinChanges = batch.filter((c) => c.stdin !== undefined);
    if (batch.length === 1 || stdinChanges.length > 0) {
      // stdin belongs to one command: send those one by one
      for (const c of batch) await ctx.run(c.argv!, { stdin: c.stdin });
    } else {
      await ctx.runShell(batch.map((c) => shellJoin(c.argv!)).join(' && '));
    }
    batch = [];
  };
  for (const c of changes) {
    if (c.argv) {
      batch.push(c);
      continue;
    }
    await flush();
    if (c.apply) await c.apply(ctx);
  }
  await flush();
}

function resultOf(
  plan: Plan,
  changed: boolean,
  extra: Record<string, unknown> | void,
  ctx: ModuleContext,
): ModuleResult {
  const r: ModuleResult = { changed, ...(plan.result ?? {}), ...(extra ?? {}) };
  if (plan.msg !== undefined && r.msg === undefined) r.msg = plan.msg;
  // "changed: [pve01] create dataset tank/ct": the plan says what it changes
  if (changed && r.msg === undefined)
    r.msg = reportedChanges(plan.changes)
      .map((c) => c.description)
      .join('; ');
  if (ctx.diff && plan.diff) r.diff = plan.diff;
  return r;
}

/**
 * The one error channel: a ModuleError (CommandFailed included) becomes a failed
 * result on top of `base`, with the command's rc/stdout/stderr and the hint.
 * An unreachable host, a located PhxError or the abort of a timed-out task goes
 * on to the executor as before; anything else is a bug in the module and is
 * rethrown as one.
 */
function failedResult(module: string, e: unknown, base: ModuleResult, signal: AbortSignal): ModuleResult {
  if (e instanceof ModuleError) {
    const failed: ModuleResult = { ...base, failed: true, msg: e.hint ? `${e.message}\nhint: ${e.hint}` : e.message };
    if (e.result) Object.assign(failed, { rc: e.result.rc, stdout: e.result.stdout, stderr: e.result.stderr });
    return failed;
  }
  if (signal.aborted || e instanceof PhxError || e instanceof UnreachableError) throw e;
  throw new InternalModuleError(module, e);
}

/** The engine's whole treatment of a module. ModuleErrors become failed results (see failedResult). */
export async function runModule<A, F>(
  def: ModuleDefinition<A, F>,
  given: A,
  ctx: ModuleContext,
): Promise<ModuleResult> {
  let args: A;
  try {
    args = await expandPathArgs(def.pathArgs, given, ctx);
  } catch (e) {
    return failedResult(def.name, e, { changed: false }, ctx.signal);
  }
  if (!def.sharedScope) return runSteps(def, args, ctx, ctx.predicted);
  let key: string | undefined;
  try {
    key = await def.sharedScope(ctx);
  } catch (e) {
    return failedResult(def.name, e, { changed: false }, ctx.signal);
  }
  if (key === undefined) return runSteps(def, args, ctx, ctx.predicted);
  const shared = ctx.scopes.predictionsOf(key);
  return ctx.scopes.exclusive(key, ctx.signal, () => runSteps(def, args, ctx, shared));
}

/** facts → overlay (check) → plan → apply or predict → verify; `seen`: the predictions the overlay reads. */
async function runSteps<A, F>(
  def: ModuleDefinition<A, F>,
  args: A,
  ctx: ModuleContext,
  seen: Predictions,
): Promise<ModuleResult> {
  let facts: F;
  let plan: Plan;
  try {
    facts = await def.facts(ctx, args);
    // a scoped module sees what this host's earlier tasks would make and what the scope's other hosts would
    if (ctx.check && def.overlay)
      facts = def.overlay(facts, args, seen === ctx.predicted ? seen : Predictions.layered(ctx.predicted, seen));
    plan = def.plan(facts, args, ctx);
  } catch (e) {
    return failedResult(def.name, e, { changed: false }, ctx.signal);
  }
  if (plan.fail) return { ...resultOf(plan, false, undefined, ctx), failed: true, msg: plan.fail };
  const changed = reportedChanges(plan.changes).length > 0;
  if (ctx.check) {
    applyPredictions(ctx.predicted, plan.predict ?? []);
    if (seen !== ctx.predicted) applyPredictions(seen, plan.predict ?? []);
    return resultOf(plan, changed, undefined, ctx);
  }
  let extra: Record<string, unknown> | void = undefined;
  try {
    if (def.apply) extra = await def.apply(ctx, plan, args, facts);
    else if (plan.changes.length > 0) await applyChanges(ctx, plan.changes);
    if (def.verify && changed) {
      const v: Verify<A> = def.verify === true ? {} : def.verify;
      const steady = v.steady?.(args) ?? args;
      const again = def.plan(await def.facts(ctx, steady), steady, ctx);
      const left =
        again.fail ??
        reportedChanges(again.changes)
          .map((c) => c.description)
          .join('; ');
      if (left) {
        return {
          ...resultOf(plan, changed, extra, ctx),
          failed: true,
          msg: v.notConverged?.(args, again) ?? `host did not converge after apply: ${left}`,
        };
      }
      const settle = v.settle?.(args, again) ?? [];
      if (settle.length > 0) {
        ctx.log(`converged; still needed: ${settle.map((c) => c.description).join('; ')}`);
        await applyChanges(ctx, settle);
      }
    }
  } catch (e) {
    return failedResult(def.name, e, resultOf(plan, changed, extra, ctx), ctx.signal);
  }
  return resultOf(plan, changed, extra, ctx);
}
