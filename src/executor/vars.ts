// The variables a task sees on one host, layered in Ansible's precedence
// (lowest first): role defaults → inventory → gathered facts → play vars → vars_files →
// role vars → block/task vars → include_vars → set_fact/register → role params → include params →
// extra vars. Magic variables alongside (`vars` and `hostvars` among them).
import type { HostState } from './host.js';
import type { RunContext } from './context.js';
import type { PlayRun } from './play-run.js';
import type { Scope } from './scope.js';
import { randomBytes } from 'node:crypto';
import { isUnsafeText, plain } from '../unsafe.js';
import { hasTemplate, markUnsafe, renderValue } from '../template/index.js';

// New for every run, as Ansible's: a host that prints the marker cannot guess it to drop an argument.
export const OMIT = `__omit_place_holder__${randomBytes(20).toString('hex')}`;

export function taskVars(
  ctx: RunContext,
  run: PlayRun,
  host: HostState,
  scope: Scope,
  /** the task's check mode (ansible_check_mode), which check_mode may set apart from --check */
  check: boolean,
): Record<string, unknown> {
  const role = scope.role;
  const vars: Record<string, unknown> = {
    ...run.publicRoleDefaults,
    ...role?.defaults,
    ...host.inventoryVars,
    ...host.gathered,
    ...run.play.vars,
    ...(run.varsFiles.get(host.name) ?? {}),
    ...run.publicRoleVars,
    ...role?.vars,
    ...scope.vars,
    ...host.includedVars,
    ...host.facts,
    ...role?.params,
    ...scope.includeVars,
    ...host.includeParams,
    ...ctx.options.extraVars,
  };
  vars.inventory_hostname ??= host.name;
  vars.inventory_hostname_short ??= host.name.split('.')[0];
  vars.ansible_host ??= host.name; // Ansible's default: the inventory name
  vars.playbook_dir = run.baseDir;
  if (role) {
    vars.role_name = role.name;
    vars.ansible_role_name = role.name; // Ansible: the fully qualified name; roles here are never in collections
    vars.role_path = role.path;
  }
  vars.ansible_check_mode = check;
  vars.ansible_diff_mode = ctx.options.diff;
  vars.ansible_verbosity = ctx.options.verbosity;
  vars.ansible_forks = ctx.options.forks;
  vars.ansible_play_name = run.play.name;
  vars.ansible_play_hosts_all = run.allHosts;
  vars.ansible_play_batch = run.batch.filter((h) => h.active).map((h) => h.name);
  vars.ansible_play_hosts = vars.ansible_play_batch;
  vars.omit = OMIT;
  Object.defineProperty(vars, 'hostvars', { enumerable: false, configurable: true, get: () => hostvars(ctx) });
  // Ansible's `vars`: every variable the template sees (`vars['name_' + x]`, a role default named
  // `a-b`). `this`, not `vars`: a loop item's copy (copied by descriptors) includes the item
  Object.defineProperty(vars, 'vars', {
    enumerable: false,
    configurable: true,
    get(this: Record<string, unknown>) {
      return this;
    },
  });
  return vars;
}

/** hostvars[other]: inventory vars plus facts of every host; built on first use. */
function hostvars(ctx: RunContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, h] of ctx.hosts) {
    Object.defineProperty(out, name, { enumerable: true, get: () => varsOfHost(name, h) });
  }
  return out;
}

/**
 * One host's variables as hostvars shows them. A value that is a template is rendered
 * with THAT host's variables, as Ansible's HostVars does (`nginx_ctid: "{{ ids.nginx }}"`
 * read from another host means the other host's ids), when it is read; what it rendered to
 * is final: a string holding template text is marked unsafe so that the reader's context
 * never renders it again.
 */
function varsOfHost(name: string, h: HostState): Record<string, unknown> {
  const own: Record<string, unknown> = {
    ansible_host: name,
    ...h.inventoryVars,
    ...h.gathered,
    ...h.includedVars,
    ...h.facts,
    inventory_hostname: name,
  };
  own.inventory_hostname_short ??= name.split('.')[0];
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(own)) {
    Object.defineProperty(view, k, {
      enumerable: true,
      get: () => (containsTemplate(v) ? finalValue(renderValue(v, own)) : v),
    });
  }
  return view;
}

function containsTemplate(v: unknown): boolean {
  if (typeof v === 'string') return hasTemplate(v);
  if (Array.isArray(v)) return v.some(containsTemplate);
  if (v && typeof v === 'object' && !isUnsafeText(v)) return Object.values(v).some(containsTemplate);
  return false;
}

function finalValue(v: unknown): unknown {
  if (typeof v === 'string') return hasTemplate(v) ? markUnsafe(v) : v;
  if (Array.isArray(v)) return v.map(finalValue);
  if (v && typeof v === 'object' && !isUnsafeText(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, finalValue(x)]));
  return v;
}

/** Drops arguments whose value rendered to `omit` (Ansible's `default(omit)`). */
export function dropOmitted(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => plain(v) !== OMIT).map(dropOmitted);
  if (value && typeof value === 'object' && !isUnsafeText(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (plain(v) !== OMIT) out[k] = dropOmitted(v);
    return out;
  }
  return value;
}
