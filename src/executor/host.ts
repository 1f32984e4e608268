// One host's life through a run: its facts (set_fact, register), its fate in
// the current play, the handlers notified for it, its recap counters.
import type { Connection } from '../connection/types.js';
import { emptyCounters, type RecapCounters } from '../events.js';
import { Predictions } from '../predictions.js';

export class HostState {
  /** set_fact and registered results: survive across plays, like Ansible's */
  readonly facts: Record<string, unknown> = {};
  /** include_vars: survive across plays; above task vars, below set_fact and register (Ansible's _vars_cache) */
  readonly includedVars: Record<string, unknown> = {};
  /** gathered facts (setup, gather_facts): below play vars in precedence, as Ansible's host facts */
  readonly gathered: Record<string, unknown> = {};
  readonly counters: RecapCounters = emptyCounters();
  /** check-mode predictions of what earlier tasks would have created */
  readonly predicted = new Predictions();
  readonly notified = new Set<string>();
  /** tasks that failed here, not ignored, not rescued: a section of the play tells a failure of its own by the count */
  failures = 0;
  /** the last task that failed here and its result: a rescue sees them as ansible_failed_task/result */
  lastFailure?: { task: Record<string, unknown>; result: Record<string, unknown> };
  unreachable = false;
  /** meta: end_host, or the play was aborted: out of this play only */
  endedPlay = false;
  conn?: Connection;
  /** include_tasks loop item and params while an include runs on this host */
  includeParams?: Record<string, unknown>;

  constructor(
    readonly name: string,
    /** inventory-level variables (inventory files, group_vars, host_vars) */
    readonly inventoryVars: Record<string, unknown>,
  ) {}

  /** a task failed (not ignored, not rescued): the host leaves the play and later plays */
  get failed(): boolean {
    return this.failures > 0;
  }

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.endedPlay;
  }
}
