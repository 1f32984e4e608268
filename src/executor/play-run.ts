// One play as it runs on one serial batch of its hosts: what its sections and tasks share,
// apart from what the whole run shares (context.ts).
import type { Play, Task } from '../playbook/types.js';
import type { ConnectionDefaults, ExecutorOptions } from './context.js';
import type { HostState } from './host.js';
import type { Scope } from './scope.js';

export class PlayRun {
  /** vars_files data per host (templated paths resolve per host) */
  readonly varsFiles = new Map<string, Record<string, unknown>>();
  /** defaults and vars of the public roles that ran (roles:, import_role, include_role public: true) */
  readonly publicRoleDefaults: Record<string, unknown> = {};
  readonly publicRoleVars: Record<string, unknown> = {};
  /** handlers of roles an include_role loaded at run time (a templated name), after the play's */
  readonly roleHandlers: Task[] = [];
  /** end_play or any_errors_fatal / max_fail_percentage stopped the play */
  aborted = false;
  /** hosts that failed under any_errors_fatal inside a block with rescue or always, which run first */
  readonly fatalPending = new Set<HostState>();
  /** the task files of the include_tasks running now, outermost first (bounded: MAX_INCLUDE_DEPTH) */
  includeChain?: string[];
  /** the play's keywords, inherited by its blocks, includes and tasks */
  readonly scope: Scope;
  /** for the connections this play opens first */
  readonly connection: ConnectionDefaults;
  /** the play's force_handlers or --force-handlers: handlers run on failed hosts too */
  readonly forceHandlers: boolean;

  constructor(
    readonly play: Play,
    /** the names of every host of the play, all batches */
    readonly allHosts: string[],
    readonly batch: HostState[],
    options: ExecutorOptions,
  ) {
    this.scope = {
      become: play.become,
      become_user: play.become_user,
      environment: play.environment,
      tags: play.tags,
      check_mode: play.check_mode,
      diff: play.diff,
      ignore_errors: play.ignore_errors,
      no_log: play.no_log,
      remote_user: play.remote_user,
    };
    this.connection = { ansible_user: play.remote_user, ansible_connection: play.connection };
    this.forceHandlers = options.forceHandlers || Boolean(play.force_handlers);
  }

  /** directory of the play's playbook: controller paths (copy src, include_tasks, vars_files) resolve from it */
  get baseDir(): string {
    return this.play.baseDir;
  }

  /** end_play, any_errors_fatal, max_fail_percentage: every host of the batch leaves the play */
  abort(): void {
    this.aborted = true;
    for (const h of this.batch) h.endedPlay = true;
  }
}
