// Which of the tasks after this one a host can be asked about now (src/remote/read-ahead.ts).
//
// A window is the run of tasks after the current one, in the same task list, that either probe
// from their arguments alone and change nothing on a converged host (modules with readAhead
// 'facts') or run at once on the controller without touching a host ('passes': set_fact, debug,
// assert). It ends at anything else: a task that waits (until, a loop's pause, pause, wait_for),
// a module that may change what later tasks read without being asked to (a command without
// creates/removes), a block, an include. Inside it, a task whose probe cannot be known now (a
// loop, a `when` that does not hold with the vars of now, a delegate, no_log, arguments that need
// a later result, another become user) is not read ahead, and the window goes on past it: if it changes anything, the answers read
// for the tasks after it go stale and they ask again.
import type { ModuleContext, ModuleDefinition } from '../module.js';
import type { Task } from '../playbook/types.js';
import { expandPathArgs } from '../remote/expand-paths.js';
import type { ProbeRequest } from '../remote/probe.js';
import { ProbeRecorded, recordingContext } from '../remote/read-ahead.js';
import type { Scope } from './scope.js';

/** A task after the current one, with its scope and module. */
export interface LaterTask {
  readonly task: Task;
  readonly scope: Scope;
  readonly module: ModuleDefinition;
}

/** A later task on this host as it would run now (task.ts renders it). */
export interface Speculation {
  args: unknown;
  ctx: ModuleContext;
  /** no_log: its paths must not show in the current task's command line */
  noLog: boolean;
  delegated: boolean;
  /** who its commands run as, and with what environment: a probe read otherwise is another question */
  envelope: string;
  /** whether its `when` holds with the vars of now (true without one); undefined: cannot be told yet */
  whenHolds: boolean | undefined;
}

/** Not more than this many requests in one round trip. */
const MAX_REQUESTS = 32;

/**
 * The probe requests of the window after the current task, in order. `speculate` throws when the
 * task cannot be rendered now; `selected` says whether the run's tags let the task run at all.
 */
export async function windowProbes(
  currentEnvelope: string,
  later: readonly LaterTask[],
  selected: (t: LaterTask) => boolean,
  speculate: (t: LaterTask) => Speculation,
): Promise<ProbeRequest[]> {
  const requests: ProbeRequest[] = [];
  for (const t of later) {
    if (requests.length >= MAX_REQUESTS) break;
    if (!selected(t)) continue; // it will not run
    const mode = t.module.readAhead;
    if (mode === undefined || t.task.until !== undefined || t.task.loop_control?.pause) break;
    if (mode === 'passes') continue;
    // a loop's items, or arguments that cannot be rendered yet: the arguments as written decide
    // whether the window may go on (a literal `state: touch`, a `creates` at all)
    const rendered = t.task.loop === undefined ? speculation(t, speculate) : undefined;
    const allowed = allowedFor(t.module, rendered?.args ?? t.task.args);
    if (allowed === 'end') break;
    if (allowed === 'pass' || !rendered) continue;
    const s = rendered;
    const unknowable =
      s.whenHolds !== true || // a condition that holds now is read for (a read it then did not need costs nothing else)
      t.scope.run_once !== undefined ||
      t.module.sharedScope !== undefined ||
      s.delegated ||
      s.noLog ||
      s.envelope !== currentEnvelope;
    if (unknowable) continue;
    const req = await recordedProbe(t.module, s);
    if (req && req.tree === undefined) requests.push(req);
  }
  return requests;
}

/** The task on this host as it would run now; undefined when it cannot be rendered yet. */
function speculation(t: LaterTask, speculate: (t: LaterTask) => Speculation): Speculation | undefined {
  try {
    return speculate(t);
  } catch {
    return undefined;
  }
}

/** What a 'facts' module says of these arguments; arguments it cannot read end the window. */
function allowedFor(module: ModuleDefinition, args: unknown): 'read' | 'pass' | 'end' {
  try {
    return module.readAheadFor?.(args) ?? 'read';
  } catch {
    return 'end';
  }
}

/** The request the task's facts() makes first; undefined when it does anything else first. */
async function recordedProbe(module: ModuleDefinition, s: Speculation): Promise<ProbeRequest | undefined> {
  const rec = recordingContext(s.ctx);
  try {
    const args = await expandPathArgs(module.pathArgs, s.args, rec);
    await module.facts(rec, args);
  } catch (e) {
    if (e instanceof ProbeRecorded) return e.req;
  }
  return undefined;
}
