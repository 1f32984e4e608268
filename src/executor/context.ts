// What every part of the executor shares during one run, across plays (a play's own values: play-run.ts).
import type { Connection } from '../connection/types.js';
import type { Reporter } from '../events.js';
import type { Inventory } from '../inventory/index.js';
import type { ModuleRegistry } from '../registry.js';
import type { SharedScopes } from '../shared-scope.js';
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
  hostState(name: string, playbookDir: string): HostState;
  /**
   * opens (once per host, connection type and user) and returns the connection for a host name;
   * `defaults` (the play's connection, the task's remote_user) sit below the host's variables
   */
  connect(host: string, defaults: ConnectionDefaults): Promise<Connection>;
  /** what hosts share during the run (cluster-wide modules take turns there: src/shared-scope.ts) */
  readonly scopes: SharedScopes;
  /** the --start-at-task gate: false until the named task is reached */
  started: boolean;
}

/** The remote_user of a task (its blocks, its play) and the play's connection: defaults below the host's variables. */
export interface ConnectionDefaults {
  /**
   * the task's ansible_user as its variables give it (play and task vars included), above the host's
   * own variables: Ansible's PlayContext takes it from the task's variables; not passed on to the
   * host a container is reached through
   */
  user?: string;
  ansible_user?: string;
  ansible_connection?: string;
}
