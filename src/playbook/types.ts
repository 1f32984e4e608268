// The validated playbook, as the loader hands it to the executor. Strings may
// still hold templates: they are rendered per host at use time.
import type { SourceLoc } from '../errors.js';

/** Keywords a play, block or task can carry and that inherit downward. */
export interface InheritedKeywords {
  when?: Condition;
  become?: boolean | string;
  become_user?: string;
  environment?: Record<string, unknown> | string;
  tags?: string[];
  vars?: Record<string, unknown>;
  check_mode?: boolean | string;
  diff?: boolean | string;
  ignore_errors?: boolean | string;
  ignore_unreachable?: boolean | string;
  no_log?: boolean | string;
  run_once?: boolean | string;
  delegate_to?: string;
  timeout?: number | string;
  any_errors_fatal?: boolean;
  /** the connection's user when the host's variables name none (ansible_user wins, as in Ansible) */
  remote_user?: string;
}

/** how a loop written as with_* that could only be resolved at run time turns into items (see Task.loop_with) */
export type LoopWith = 'items' | 'dict' | 'together' | 'nested' | 'sequence' | 'flattened' | 'first_found';

/** `when`-style condition: a bare expression, a boolean, or a list (all must hold). */
export type Condition = string | boolean | Array<string | boolean>;

export interface LoopControl {
  loop_var?: string;
  index_var?: string;
  label?: string;
  pause?: number;
  /** ansible_loop is always set; extended (as Ansible) adds allitems, previtem, nextitem */
  extended?: boolean;
  extended_allitems?: boolean;
}

export interface Task extends InheritedKeywords {
  kind: 'task';
  name?: string;
  /** canonical module name (aliases resolved) */
  module: string;
  /** as written (after free-form mapping); templates unrendered */
  args: Record<string, unknown>;
  /** list, or a template string that renders to a list */
  loop?: unknown;
  /**
   * Set when `loop` came from with_items / with_dict and could only be
   * resolved at run time: after rendering, 'items' flattens the list one level,
   * 'dict' turns a mapping into [{ key, value }]. (Literal values are already
   * transformed by the loader and leave this unset.)
   */
  loop_with?: LoopWith;
  loop_control?: LoopControl;
  register?: string;
  changed_when?: Condition;
  failed_when?: Condition;
  notify?: string[];
  retries?: number | string;
  delay?: number | string;
  until?: Condition;
  /** handlers only: topics this handler listens to */
  listen?: string[];
  /** handlers only: the role that defined it (it runs with the role's variables, answers to `role : name`) */
  role?: RoleInstance;
  loc: SourceLoc;
}

/** One use of a role: where it lives and the variables its tasks and handlers see. */
export interface RoleInstance {
  /** role_name */
  name: string;
  /** role_path: the role's directory (its files/ and templates/ are searched first) */
  path: string;
  /** defaults/main.yml (or defaults_from): below every other variable */
  defaults: Record<string, unknown>;
  /** vars/main.yml (or vars_from): above play vars and vars_files, below block and task vars */
  vars: Record<string, unknown>;
  /** parameters written on the role entry: above set_fact, below include params and extra vars */
  params: Record<string, unknown>;
  /** its defaults and vars stay visible to the rest of the play once it ran (roles:, import_role, public: true) */
  public: boolean;
}

export interface Block extends InheritedKeywords {
  kind: 'block';
  name?: string;
  /** the block is a role's body: its dependencies, then its tasks */
  role?: RoleInstance;
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
  loc: SourceLoc;
}

/** include_tasks: loaded at run time (the file name may be templated), loopable. */
export interface IncludeTasks extends InheritedKeywords {
  kind: 'include_tasks';
  name?: string;
  file: string;
  /** directory the file name resolves from */
  baseDir: string;
  loop?: unknown;
  /** see Task.loop_with */
  loop_with?: LoopWith;
  loop_control?: LoopControl;
  /** when the file name has no template, its tasks were loaded and validated up front */
  preloaded?: TaskNode[];
  /**
   * `apply:` keywords for the included tasks, only when the file is loaded at
   * run time (preloaded tasks already sit inside a Block carrying them).
   */
  apply?: InheritedKeywords & { notify?: string[] };
  /** include_role: `file` is the role's name; preloaded holds the role's block when the name is static */
  role?: IncludeRoleOptions;
  /** the include's own result per host (what Ansible's TaskExecutor returns for an include) */
  register?: string;
  loc: SourceLoc;
}

/** include_role's options besides the role's name (each may hold a template) */
export interface IncludeRoleOptions {
  tasks_from?: string;
  vars_from?: string;
  defaults_from?: string;
  handlers_from?: string;
  public: boolean;
  allow_duplicates: boolean;
}

/** meta: flush_handlers | end_host | end_play | noop | clear_host_errors */
export interface Meta extends InheritedKeywords {
  kind: 'meta';
  name?: string;
  action: 'flush_handlers' | 'end_host' | 'end_play' | 'noop' | 'clear_host_errors';
  loc: SourceLoc;
}

export type TaskNode = Task | Block | IncludeTasks | Meta;

export interface Play extends InheritedKeywords {
  name: string;
  hosts: string;
  /** files already loaded into vars_files_data; paths kept for messages */
  vars_files: string[];
  /** unresolved vars_files entries that hold templates: loaded per host */
  vars_files_data: Array<{ path: string; vars: Record<string, unknown> } | { template: string }>;
  pre_tasks: TaskNode[];
  tasks: TaskNode[];
  post_tasks: TaskNode[];
  handlers: TaskNode[];
  /** number, percent string, or list of those */
  serial?: Array<number | string>;
  max_fail_percentage?: number;
  gather_facts: boolean;
  /** the setup module's gather_subset for gather_facts */
  gather_subset?: string[];
  gather_timeout?: number;
  fact_path?: string;
  force_handlers?: boolean;
  /** play default for ansible_connection (inventory variables win, as in Ansible) */
  connection?: 'ssh' | 'local';
  /** directory of the playbook file that defined this play */
  baseDir: string;
  loc: SourceLoc;
}

export interface Playbook {
  file: string;
  plays: Play[];
  /** Ansible's deprecation warnings about what the playbook uses, shown before it runs */
  deprecations?: string[];
}
