// The keywords of plays, blocks and tasks, with a zod schema for each value.
// These schemas are the single source of truth: the loader validates with them
// and the JSON Schema for editors is generated from them.
import * as z from 'zod';

/** A string holding a template: accepted wherever the value is only known per host. */
export const templateString = z.string().regex(/\{\{/);

const boolOrTemplate = z.union([z.boolean(), templateString]);
const countOrTemplate = z.union([z.number().int().min(0), templateString]);
const secondsOrTemplate = z.union([z.number().min(0), templateString]);
export const conditionSchema = z.union([z.string(), z.boolean(), z.array(z.union([z.string(), z.boolean()]))]);
const tagsSchema = z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]);
const stringOrList = z.union([z.string(), z.array(z.string())]);
const mapping = z.record(z.string(), z.unknown());
const loopSchema = z.union([z.array(z.unknown()), templateString]);

export interface Keyword {
  schema: z.ZodType;
  /** what the value must be, for messages: "'loop' expects <this>, got 3" */
  expects: string;
  description: string;
}

const kw = (schema: z.ZodType, expects: string, description: string): Keyword => ({ schema, expects, description });

/** Every scalar-ish keyword. Structural ones (tasks lists, block, loop_control, args) are checked by their own code. */
export const KEYWORDS = {
  name: kw(z.union([z.string(), z.number()]), 'a string', 'shown in the output; may hold templates'),
  hosts: kw(
    z.union([z.string(), z.array(z.union([z.string(), z.number()]))]),
    'a host pattern or a list of patterns',
    'host pattern(s) the play runs on',
  ),
  when: kw(
    conditionSchema,
    'a condition (string, boolean or list)',
    'run only if the condition holds (a list: all must hold)',
  ),
  changed_when: kw(conditionSchema, 'a condition (string, boolean or list)', 'override "changed" with this condition'),
  failed_when: kw(conditionSchema, 'a condition (string, boolean or list)', 'override "failed" with this condition'),
  until: kw(conditionSchema, 'a condition (string, boolean or list)', 'retry the task until this holds'),
  become: kw(boolOrTemplate, 'a boolean or a template', 'run as another user (sudo)'),
  become_user: kw(z.string(), 'a user name', 'user to become (default root)'),
  environment: kw(z.union([mapping, templateString]), 'a mapping or a template', 'environment variables for commands'),
  tags: kw(
    tagsSchema,
    'a tag, a comma-separated list or a list of tags',
    'tags for --tags/--skip-tags (always, never are special)',
  ),
  vars: kw(mapping, 'a mapping of variables', 'variables'),
  check_mode: kw(boolOrTemplate, 'a boolean or a template', 'force check mode on (true) or off (false)'),
  diff: kw(boolOrTemplate, 'a boolean or a template', 'force diff output on or off'),
  ignore_errors: kw(boolOrTemplate, 'a boolean or a template', 'a failure does not stop the host'),
  ignore_unreachable: kw(boolOrTemplate, 'a boolean or a template', 'an unreachable host does not stop the host'),
  no_log: kw(boolOrTemplate, 'a boolean or a template', 'hide the task output (secrets)'),
  run_once: kw(boolOrTemplate, 'a boolean or a template', 'run on the first host of the batch only'),
  delegate_to: kw(z.string(), 'a host name', 'run the task on this host instead'),
  timeout: kw(secondsOrTemplate, 'a number of seconds or a template', 'fail the task after this many seconds'),
  any_errors_fatal: kw(z.boolean(), 'a boolean', 'a failure on one host stops the play for all hosts'),
  loop: kw(loopSchema, 'a list or a template', 'run the task once per item'),
  with_items: kw(
    z.union([z.array(z.unknown()), z.string(), z.number(), z.boolean()]),
    'a list, a template or one item',
    'like loop, flattened one level; one value is a list of one',
  ),
  with_list: kw(loopSchema, 'a list or a template', 'same as loop'),
  with_together: kw(loopSchema, 'a list of lists or a template', 'items side by side: [a1, b1], [a2, b2], …'),
  with_nested: kw(loopSchema, 'a list of lists or a template', 'every combination: [a1, b1], [a1, b2], …'),
  with_flattened: kw(
    z.union([z.array(z.unknown()), z.string()]),
    'a list or a template',
    'like loop, nested lists flattened all the way down (community.general.flattened)',
  ),
  'with_community.general.flattened': kw(
    z.union([z.array(z.unknown()), z.string()]),
    'a list or a template',
    'same as with_flattened',
  ),
  with_sequence: kw(
    z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]),
    'a sequence (start=1 end=5, count=4, 4-8/2) or a list of them',
    'numbers as strings, as the sequence lookup: start, end or count, stride, format',
  ),
  with_first_found: kw(
    z.union([z.array(z.unknown()), z.string()]),
    'a list of file names or {files, paths, skip} mappings, or a template',
    'one item: the first file found where lookups search (the role, then the playbook; vars/, templates/ or files/ first)',
  ),
  'with_ansible.builtin.first_found': kw(
    z.union([z.array(z.unknown()), z.string()]),
    'a list of file names or {files, paths, skip} mappings, or a template',
    'same as with_first_found',
  ),
  with_dict: kw(
    z.union([mapping, templateString]),
    'a mapping or a template',
    'loop over {key, value} items of a mapping',
  ),
  register: kw(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), 'a variable name', 'store the result in this variable'),
  notify: kw(
    stringOrList,
    'a handler name or a list of them',
    'handlers (names or listen topics) to run if the task changed something',
  ),
  listen: kw(stringOrList, 'a topic or a list of topics', 'handlers only: topics this handler also answers to'),
  retries: kw(countOrTemplate, 'an integer >= 0 or a template', 'attempts with until (default 3)'),
  delay: kw(secondsOrTemplate, 'a number of seconds or a template', 'seconds between until attempts (default 5)'),
  serial: kw(
    z.union([z.number(), z.string(), z.array(z.union([z.number(), z.string()]))]),
    'a number, a percentage or a list of them',
    'hosts per batch: a number, "30%", or a list for growing batches',
  ),
  max_fail_percentage: kw(
    z.number().min(0).max(100),
    'a number from 0 to 100',
    'abort the play when more than this % of a batch failed',
  ),
  gather_facts: kw(z.boolean(), 'a boolean', "gather the hosts' facts first (one round trip per host)"),
  gather_subset: kw(
    z.union([z.string(), z.array(z.string())]),
    'a subset name or a list of them',
    "the facts gather_facts reads: all, min, network, hardware, …, '!name' leaves one out",
  ),
  gather_timeout: kw(z.number().int().positive(), 'a whole number of seconds', 'accepted for compatibility'),
  fact_path: kw(z.string(), 'a directory', 'accepted for compatibility; local facts are not read'),
  force_handlers: kw(z.boolean(), 'a boolean', 'run notified handlers even after failures'),
  remote_user: kw(
    z.string(),
    'a user name',
    "the SSH user of the play, block or task (the host's ansible_user wins); another user opens another connection",
  ),
  connection: kw(z.enum(['ssh', 'local']), "'ssh' or 'local'", 'default connection (ansible_connection wins)'),
  vars_files: kw(
    z.union([z.string(), z.array(z.string())]),
    'a file name or a list of file names',
    'YAML files of variables, relative to the playbook',
  ),
} satisfies Record<string, Keyword>;

export type KeywordName = keyof typeof KEYWORDS;

/** Keywords a play, block or task passes down to what it contains. */
export const INHERITED: readonly KeywordName[] = [
  'when',
  'become',
  'become_user',
  'environment',
  'tags',
  'vars',
  'check_mode',
  'diff',
  'ignore_errors',
  'ignore_unreachable',
  'no_log',
  'run_once',
  'delegate_to',
  'timeout',
  'any_errors_fatal',
  'remote_user',
];

/** The with_* lookups phx-play runs (with_flattened and with_first_found also by their collection names). */
export const SUPPORTED_WITH = [
  'with_items',
  'with_list',
  'with_dict',
  'with_together',
  'with_nested',
  'with_sequence',
  'with_flattened',
  'with_first_found',
] as const;

/** The keywords that make a task loop; at most one per task. */
export const LOOP_KEYWORDS = [
  'loop',
  ...SUPPORTED_WITH,
  'with_community.general.flattened',
  'with_ansible.builtin.first_found',
] as const;

const LOOPING = [...LOOP_KEYWORDS, 'loop_control'] as const;

export const PLAY_KEYS = [
  'name',
  'hosts',
  'vars',
  'vars_files',
  'pre_tasks',
  'roles',
  'tasks',
  'post_tasks',
  'handlers',
  'serial',
  'any_errors_fatal',
  'max_fail_percentage',
  'become',
  'become_user',
  'environment',
  'tags',
  'gather_facts',
  'gather_subset',
  'gather_timeout',
  'fact_path',
  'check_mode',
  'diff',
  'ignore_errors',
  'ignore_unreachable',
  'no_log',
  'force_handlers',
  'remote_user',
  'connection',
  'timeout',
] as const;

export const TASK_KEYS = [
  'name',
  ...INHERITED,
  ...LOOPING,
  'register',
  'changed_when',
  'failed_when',
  'notify',
  'retries',
  'until',
  'delay',
  'args',
  'listen',
] as const;

export const BLOCK_KEYS = ['name', 'block', 'rescue', 'always', ...INHERITED, 'notify'] as const;

/** Keys allowed beside import_tasks (they apply to every imported task). */
export const IMPORT_TASKS_KEYS = ['name', 'import_tasks', ...INHERITED] as const;

/** Keys allowed beside include_tasks (they apply to the include itself; `apply` passes keywords down). */
export const INCLUDE_TASKS_KEYS = ['name', 'include_tasks', ...INHERITED, ...LOOPING, 'register'] as const;

/** Keys allowed beside import_role (they apply to every task of the role). */
export const IMPORT_ROLE_KEYS = ['name', 'import_role', ...INHERITED] as const;

/** Keys allowed beside include_role (they apply to the include itself; `apply` passes keywords down). */
export const INCLUDE_ROLE_KEYS = ['name', 'include_role', ...INHERITED, ...LOOPING, 'register'] as const;

/** The options of import_role / include_role (`apply` and `public` only where the loader accepts them). */
export const ROLE_OPTION_KEYS = [
  'name',
  'tasks_from',
  'vars_from',
  'defaults_from',
  'handlers_from',
  'allow_duplicates',
  'public',
  'apply',
  'rolespec_validate',
] as const;

/** Keywords of an entry of a play's `roles:`; any other key is a role parameter. */
export const ROLE_ENTRY_KEYWORDS = [...INHERITED] as const;

export const META_KEYS = ['name', 'meta', 'when', 'tags'] as const;

export const APPLY_KEYS = [...INHERITED, 'notify'] as const;

export const LOOP_CONTROL_KEYS = ['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems'] as const;

export const IMPORT_PLAYBOOK_KEYS = ['name', 'import_playbook', 'vars', 'tags', 'when'] as const;

export const META_ACTIONS = ['flush_handlers', 'end_host', 'end_play', 'noop', 'clear_host_errors'] as const;

/** Task-level words that select something other than a module, with their Ansible spellings. */
export type SpecialAction =
  'import_tasks' | 'include_tasks' | 'import_role' | 'include_role' | 'meta' | 'import_playbook' | 'include';

export const SPECIAL_ACTIONS: Record<string, SpecialAction> = {
  import_role: 'import_role',
  'ansible.builtin.import_role': 'import_role',
  include_role: 'include_role',
  'ansible.builtin.include_role': 'include_role',
  import_tasks: 'import_tasks',
  'ansible.builtin.import_tasks': 'import_tasks',
  include_tasks: 'include_tasks',
  'ansible.builtin.include_tasks': 'include_tasks',
  meta: 'meta',
  'ansible.builtin.meta': 'meta',
  import_playbook: 'import_playbook',
  'ansible.builtin.import_playbook': 'import_playbook',
  // the old include (ansible-core 2.14 runs it, deprecated; removed in 2.16): see old-include.ts
  include: 'include',
  'ansible.builtin.include': 'include',
};

/** Ansible keywords phx-play deliberately does not support, with what to do instead. */
export const UNSUPPORTED: Record<string, string> = {
  vars_prompt: "'vars_prompt' is not supported; pass values with -e",
  strategy: "'strategy' is not supported; phx-play always runs the linear strategy",
};
