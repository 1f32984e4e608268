// A host's inventory-level variables, merged in Ansible's documented order
// (lowest first), each layer replacing whole values (hash_behaviour=replace):
//   1. inventory file group vars: all, then the host's groups by depth, ansible_group_priority, name
//   2. inventory group_vars/all        3. playbook group_vars/all
//   4. inventory group_vars/<group>    5. playbook group_vars/<group>   (same group order)
//   6. inventory file host vars        7. inventory host_vars/<host>    8. playbook host_vars/<host>
// then the magic variables: inventory_hostname(_short), group_names, groups.
import { dirname, resolve } from 'node:path';
import { PhxError, ValidationErrors } from '../errors.js';
import { normalizeConnection } from './connection-vars.js';
import { groupDepths, groupHosts, hostGroupsWithAncestors, inventoryExtras, type Inventory } from './model.js';
import { pctHostProblems } from './pct-hosts.js';
import { VarsFileCache } from './vars-files.js';

/** Names Ansible gives an implicit `localhost` when the inventory lacks it. */
export const LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

export function isImplicitLocalhost(inv: Inventory, host: string): boolean {
  return !inv.hosts.has(host) && LOCALHOST_NAMES.includes(host);
}

export interface HostVariablesOptions {
  /** directory of the playbook: its group_vars/ and host_vars/ count too */
  playbookDir?: string;
}

interface Derived {
  cache: VarsFileCache;
  depths: Map<string, number>;
  groups: Record<string, string[]>;
}
const derived = new WeakMap<Inventory, Derived>();

/** add_host and group_by changed the inventory: group lists and depths are derived again on next use. */
export function inventoryChanged(inv: Inventory): void {
  derived.delete(inv);
}

function derive(inv: Inventory): Derived {
  let d = derived.get(inv);
  if (!d) {
    const groups: Record<string, string[]> = {};
    for (const name of inv.groups.keys()) groups[name] = groupHosts(inv, name);
    d = { cache: new VarsFileCache(), depths: groupDepths(inv), groups };
    derived.set(inv, d);
  }
  return d;
}

/** The host's groups (ancestors included, 'all' excluded) in the order their vars apply. */
export function sortedHostGroups(inv: Inventory, host: string): string[] {
  const { depths } = derive(inv);
  const priority = (g: string): number => {
    const p = inv.groups.get(g)?.vars.ansible_group_priority;
    return typeof p === 'number' ? p : 1;
  };
  return [...hostGroupsWithAncestors(inv, host)]
    .filter((g) => g !== 'all')
    .sort(
      (a, b) =>
        (depths.get(a) ?? 0) - (depths.get(b) ?? 0) || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0),
    );
}

export function hostVariables(inv: Inventory, host: string, opts: HostVariablesOptions = {}): Record<string, unknown> {
  const entry = inv.hosts.get(host);
  const implicit = isImplicitLocalhost(inv, host);
  if (!entry && !implicit) throw new PhxError(`host '${host}' is not in the inventory`);
  const { cache, groups } = derive(inv);
  const extras = inventoryExtras(inv);
  const inventoryDirs = extras.varsDirs;
  const playbookDirs = opts.playbookDir ? [resolve(opts.playbookDir)] : [];
  const hostGroups = implicit ? [] : sortedHostGroups(inv, host);

  const vars: Record<string, unknown> = {};
  const layer = (more: Record<string, unknown> | undefined): void => void Object.assign(vars, more);

  layer(inv.groups.get('all')?.vars);
  for (const g of hostGroups) layer(inv.groups.get(g)?.vars);
  for (const dir of inventoryDirs) layer(cache.varsFor(dir, 'group_vars', 'all'));
  for (const dir of playbookDirs) layer(cache.varsFor(dir, 'group_vars', 'all'));
  for (const dir of inventoryDirs) for (const g of hostGroups) layer(cache.varsFor(dir, 'group_vars', g));
  for (const dir of playbookDirs) for (const g of hostGroups) layer(cache.varsFor(dir, 'group_vars', g));
  if (entry) {
    const file = extras.hostFile.get(host);
    if (file) layer({ inventory_file: file, inventory_dir: dirname(file) });
    layer(entry.vars);
  } else {
    layer({ ansible_connection: 'local' }); // the implicit localhost runs without ssh, as in Ansible
  }
  for (const dir of inventoryDirs) layer(cache.varsFor(dir, 'host_vars', host));
  for (const dir of playbookDirs) layer(cache.varsFor(dir, 'host_vars', host));

  if ('ansible_connection' in vars) vars.ansible_connection = normalizeConnection(vars.ansible_connection);
  vars.inventory_hostname = host;
  vars.inventory_hostname_short = /^[\d.]+$/.test(host) || host.includes(':') ? host : host.split('.')[0];
  vars.group_names = hostGroups.filter((g) => g !== 'all').sort();
  vars.groups = Object.fromEntries(Object.entries(groups).map(([g, hosts]) => [g, [...hosts]]));
  return vars;
}

/**
 * Reads every host's variables once, so a broken group_vars/host_vars file
 * is reported before anything runs; all problems at once, each located.
 * A pct host's hypervisor and CT id are checked here too (src/inventory/pct-hosts.ts).
 */
export function checkHostVariables(inv: Inventory, opts: HostVariablesOptions = {}): void {
  const problems = new Map<string, PhxError>();
  const varsOf = (host: string) => hostVariables(inv, host, opts);
  for (const host of inv.hosts.keys()) {
    try {
      const found = pctHostProblems(inv, host, varsOf(host), sortedHostGroups(inv, host), varsOf);
      if (found.length) throw new ValidationErrors(found);
    } catch (e) {
      const found = e instanceof ValidationErrors ? e.errors : e instanceof PhxError ? [e] : undefined;
      if (!found) throw e;
      for (const p of found) problems.set(`${p.loc?.file}:${p.loc?.line}:${p.loc?.col}:${p.message}`, p);
    }
  }
  if (problems.size) throw new ValidationErrors([...problems.values()]);
}
