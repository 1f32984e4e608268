// What every part of the executor shares during one run.
import type { Connection } from '../connection/types.js';
import type { Reporter } from '../events.js';
import type { Inventory } from '../inventory/index.js';
import type { ModuleRegistry } from '../registry.js';
import type { Play } from '../playbook/types.js';
import type { HostState } from './host.js';
import type { TagFilter } from './tags.js';

export interface ExecutorOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  verbosity: number;
  tags: TagFilter;
  startAtTask?: string;
  forceHandlers: boolean;
  extraVars: Record<string, unknown>;
  /** -b / --become-user / -K */
  become: { enabled: boolean; user?: string; password?: string };
  limit?: string;
  /** aborted on Ctrl-C / SIGTERM (reason: an Interrupted): running tasks are ended, no task starts */
  signal?: AbortSignal;
}

export interface RunContext {
  readonly options: ExecutorOptions;
  readonly reporter: Reporter;
  readonly registry: ModuleRegistry;
  readonly inventory: Inventory;
  /** every host state of the run, by name (hostvars reads them) */
  readonly hosts: Map<string, HostState>;
  /** the state of a host, created on first use (implicit localhost is not in the inventory) */
  hostState(name: string): HostState;
  /** opens (once) and returns the connection for a host name */
  connect(host: string): Promise<Connection>;
  /** directory of the running play's playbook: controller paths (copy src) resolve from it */
  playBaseDir: string;
  /** the play's remote_user / connection: defaults below inventory variables */
  playConnection: { ansible_user?: string; ansible_connection?: string };
  /** the --start-at-task gate: false until the named task is reached */
  started: boolean;
}

/** The play being run and the hosts of its current batch. */
export interface PlayRun {
  readonly play: Play;
  readonly batch: HostState[];
  readonly allHosts: string[];
  /** vars_files data per host (templated paths resolve per host) */
  readonly varsFiles: Map<string, Record<string, unknown>>;
  /** end_play or any_errors_fatal / max_fail_percentage stopped the play */
  aborted: boolean;
  /** the task files of the include_tasks running now, outermost first (bounded: MAX_INCLUDE_DEPTH) */
  includeChain?: string[];
}
