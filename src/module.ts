// The module contract. A module reads the host (facts), plans the changes as
// data (pure), and the engine applies them unless in check mode. See
// docs/ARCHITECTURE.md. Built-in modules live in modules/, one file each,
// `export default defineModule({...})`, listed in src/modules-index.ts.
import type { z } from 'zod';
import type { Connection, ExecResult } from './connection/types.js';
import type { PredictionWrite, Predictions } from './predictions.js';
import type { ProbeRequest } from './remote/probe.js';
import type { SharedScopes } from './shared-scope.js';
import { once } from './once.js';

export interface RunOptions {
  stdin?: string | Buffer;
  /** exit codes that are not failures; default [0]. Use 'any' to inspect rc yourself. */
  okExit?: number[] | 'any';
  /** run without become even if the task asks for it (reads that need no privilege) */
  noBecome?: boolean;
  /** environment the module sets for this command, over the task's `environment:` (Ansible's
   *  run_command_environ_update); it travels like the task's, on stdin after the LC_ALL=C prefix */
  env?: Record<string, string>;
  /**
   * runShell only: the script is the module's own, its command words literal, never
   * a user's text: the host's shell may run it without a subshell (ExecOptions.ownScript)
   */
  ownScript?: boolean;
  /** with ownScript: every name the script assigns, when the module knows them (see ExecOptions.ownLocals) */
  ownLocals?: readonly string[];
  /**
   * the command only reads (probe(), path expansion): it leaves answers read ahead good. Any other
   * command may change a host, and answers read before it are stale (src/remote/read-ahead.ts).
   */
  readsOnly?: boolean;
}

/** Everything a module may touch. One per (task, host). */
export interface ModuleContext {
  /** inventory hostname */
  readonly host: string;
  readonly conn: Connection;
  readonly check: boolean;
  readonly diff: boolean;
  /** the task's variables, already resolved (read-only) */
  readonly vars: Readonly<Record<string, unknown>>;
  /** directory that relative controller paths (copy src, template src) resolve from */
  readonly baseDir: string;
  /** a role's task: the role's directory, whose files/ and templates/ come before baseDir's */
  readonly roleDir?: string;
  /**
   * Check-mode memory of this host: what earlier tasks of this run would have
   * created. Written from plans' `predict` (only in check mode), read through
   * the typed slots of src/predictions.ts in modules' `overlay` step.
   */
  readonly predicted: Predictions;
  /** what the hosts of one run share (src/shared-scope.ts): cluster-wide modules take turns there */
  readonly scopes: SharedScopes;
  /** the user commands run as when not the connecting user (the task's become user) */
  readonly becomeUser?: string;
  /** Runs argv on the host (with the task's become, chdir, environment). Throws CommandFailed unless rc is allowed. */
  run(argv: readonly string[], opts?: RunOptions): Promise<ExecResult>;
  /** Runs an sh script on the host (shell module, pipelines). */
  runShell(script: string, opts?: RunOptions): Promise<ExecResult>;
  /** -vvv detail */
  log(message: string): void;
  readonly signal: AbortSignal;
  /**
   * What the following tasks of the window will probe on this host, for probe() to ask in the
   * same round trip (src/remote/read-ahead.ts); absent when this task does not read ahead.
   */
  readonly upcomingProbes?: () => Promise<ProbeRequest[]>;
}

export interface ModuleErrorOptions {
  /** the command outcome behind the failure: registered as rc/stdout/stderr */
  result?: ExecResult;
  /** one more line telling the user what to do about it */
  hint?: string;
}

/**
 * A failure the user should read (bad host state, a command that failed, output
 * that makes no sense). runModule turns it into a failed task result; anything
 * else a module throws is a bug in phx-play and is reported as one.
 */
export class ModuleError extends Error {
  readonly result?: ExecResult;
  readonly hint?: string;
  constructor(message: string, options: ModuleErrorOptions = {}) {
    super(message);
    this.name = 'ModuleError';
    this.result = options.result;
    this.hint = options.hint;
  }
}

/** A non-zero exit where the module expected success. */
export class CommandFailed extends ModuleError {
  declare readonly result: ExecResult;
  constructor(
    readonly argv: readonly string[] | string,
    result: ExecResult,
    hint?: string,
  ) {
    const cmd = typeof argv === 'string' ? argv : argv.join(' ');
    const why = result.stderr.trim() || result.stdout.trim() || `exit code ${result.rc}`;
    super(`${cmd.length > 120 ? cmd.slice(0, 117) + '...' : cmd}: ${why}`, { result, hint });
    this.name = 'CommandFailed';
  }
}

/** Something a module threw that is not a ModuleError: a bug in phx-play, reported as one. */
export class InternalModuleError extends Error {
  constructor(
    readonly module: string,
    readonly original: unknown,
  ) {
    const why = original instanceof Error ? original.message : String(original);
    super(`internal error in module ${module}: ${why} — please report`);
    this.name = 'InternalModuleError';
    // the stack worth reading (shown at -vvv) is where the bug was thrown
    if (original instanceof Error && original.stack) this.stack = `${this.message}\n${original.stack}`;
  }
}

/** One change the plan wants. Consecutive argv changes are sent in one round trip. */
export interface Change {
  /** what it does, for humans: "create dataset tank/ct" */
  description: string;
  /** a command that makes the change */
  argv?: string[];
  stdin?: string | Buffer;
  /** a change that is not one command (file upload, waiting, several dependent steps) */
  apply?: (ctx: ModuleContext) => Promise<void>;
  /** a step run whenever asked that Ansible does not report as a change (systemctl daemon-reload):
   *  applied, but alone it leaves the task ok */
  unreported?: boolean;
}

/** The changes that make a task `changed` (all but the unreported steps). */
export function reportedChanges(changes: readonly Change[]): Change[] {
  return changes.filter((c) => !c.unreported);
}

export interface Diff {
  before: string;
  after: string;
  before_header?: string;
  after_header?: string;
}

export interface Plan {
  changes: Change[];
  /** extra fields of the registered result, the same in check mode as in a real run */
  result?: Record<string, unknown>;
  /** human message for the result */
  msg?: string;
  diff?: Diff | Diff[];
  /** the module refuses (drift, impossible request): the task fails with this message, nothing applied */
  fail?: string;
  /** check mode: what later tasks should see as if the changes were made (`slot.entry(key, value)`, into ctx.predicted) */
  predict?: PredictionWrite[];
}

/** What a module returns to the engine; the engine adds timing, stdout_lines and so on. */
export interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: string;
  diff?: Diff | Diff[];
  [key: string]: unknown;
}

export interface ModuleDefinition<A = unknown, F = unknown> {
  name: string;
  /** other names that select it, e.g. 'ansible.builtin.command' */
  aliases?: string[];
  /** argument schema; the JSON Schema for editors is generated from it (built on first use: ModuleSpec) */
  readonly args: z.ZodType<A>;
  /**
   * The argument that a bare string maps to (`command: ls -l` → { cmd: 'ls -l' }).
   * Ansible's free-form modules (command, shell) use it.
   */
  freeForm?: string;
  /** one-line description for `phx-play schema` and docs */
  description: string;
  /**
   * 'controller' modules (debug, set_fact, assert, fail) never touch the host:
   * facts/plan/apply run locally and the connection is not even opened.
   */
  runsOn?: 'host' | 'controller';
  /**
   * Ansible's BYPASS_HOST_LOOP (add_host): the task runs once, on the first host of the batch,
   * and its result is that host's only (unlike run_once, it is not given to the others).
   */
  bypassHostLoop?: boolean;
  /**
   * Arguments that name a path on the host: `~`, `~user` and `$VAR` in them are
   * expanded there before facts() (Ansible's type='path'; src/remote/expand-paths.ts).
   */
  pathArgs?: readonly string[];
  /**
   * Read-ahead (src/executor/read-ahead-window.ts). 'facts': facts() is one probe() made from the
   * arguments alone, and a converged host is left as it is: an earlier task may ask it early.
   * 'passes': runs at once on the controller and touches no host; a window goes on past it.
   * Absent: the task ends a window (it may wait, or change what later tasks would read).
   */
  readAhead?: 'facts' | 'passes';
  /**
   * With readAhead 'facts', what these arguments allow: 'read' ahead; 'pass' (not read ahead, the
   * window goes on: copy of a controller file, which reading early would read twice); 'end' the
   * window (command without creates/removes: it runs whatever the host is like).
   */
  readAheadFor?(args: A): 'read' | 'pass' | 'end';
  /** Read the host. No changes here, ever. */
  facts(ctx: ModuleContext, args: A): Promise<F>;
  /**
   * Check mode only, between facts and plan: lays what earlier tasks of the run
   * would have made (their predictions) over the facts, so that plan() never
   * looks at predictions. Pure; returns new facts.
   */
  overlay?(facts: F, args: A, predicted: Predictions): F;
  /** Pure: decide what must change. Unit-tested on recorded facts. */
  plan(facts: F, args: A, ctx: PlanContext): Plan;
  /**
   * Optional custom apply; default: run plan.changes in order (consecutive argv
   * changes in one round trip) and return plan.result. Its return value is merged
   * into the result.
   */
  apply?(ctx: ModuleContext, plan: Plan, args: A, facts: F): Promise<Record<string, unknown> | void>;
  /**
   * After applying, re-read facts and fail unless plan() is then empty (the host
   * converged). `true`, or a Verify that says what "converged" means.
   */
  verify?: boolean | Verify<A>;
  /**
   * For modules that change state shared by several hosts (a PVE cluster's /etc/pve):
   * the key of the scope this host is in, or undefined when its state is its own. Hosts
   * with the same key run the module one after another (facts → plan → apply → verify),
   * so one makes each change and the others find it made; in check mode they share
   * predictions, so the others predict no change either.
   */
  sharedScope?(ctx: ModuleContext): Promise<string | undefined>;
}

/** What "converged" means for a module whose target state is not simply "plan again, nothing to do". */
export interface Verify<A> {
  /** the arguments the host must now satisfy (pct: a `restarted` CT is now `started`); default: the task's */
  steady?(args: A): A;
  /** the failure message when the re-plan still refuses or wants changes; default: `host did not converge after apply: …` */
  notConverged?(args: A, again: Plan): string;
  /** changes a converged host still needs, applied once (pct: the restart for changes PVE left pending) */
  settle?(args: A, again: Plan): Change[];
}

/** What plan() may know besides facts and args: nothing that touches the host. */
export interface PlanContext {
  readonly host: string;
  readonly check: boolean;
  readonly vars: Readonly<Record<string, unknown>>;
}

/** What a module file gives defineModule: the definition, with its argument schema as a builder. */
export interface ModuleSpec<A, F> extends Omit<ModuleDefinition<A, F>, 'args'> {
  /**
   * Builds the argument schema. Called once, on first use of `args`: building a zod schema is
   * most of what importing a module costs, so a run pays only for the modules its playbooks name.
   */
  args: () => z.ZodType<A>;
}

export function defineModule<A, F>(spec: ModuleSpec<A, F>): ModuleDefinition<A, F> {
  const { args: build, ...def } = spec;
  return Object.defineProperty(def, 'args', { get: once(build), enumerable: true }) as ModuleDefinition<A, F>;
}
