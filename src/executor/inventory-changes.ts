// add_host and group_by change the run's in-memory inventory: their results say what
// (`add_host: {host_name, groups, host_vars}`, `add_group` + `parent_groups`), and the executor
// makes it so, as Ansible's strategy does (plugins/strategy/__init__.py _add_host, _add_group),
// deciding `changed` by what was new. Later plays' `hosts:` patterns, `groups`, `group_names`
// and the group variables of the new groups see the change.
import { PhxError } from '../errors.js';
import { checkConnectionVar, hostVariables, sortedHostGroups } from '../inventory/index.js';
import { InventoryBuilder, reconcile } from '../inventory/model.js';
import { isValidGroupName, isValidHostName } from '../inventory/names.js';
import { pctHostProblems } from '../inventory/pct-hosts.js';
import { inventoryChanged } from '../inventory/variables.js';
import { plain } from '../unsafe.js';
import type { RunContext } from './context.js';

interface AddHost {
  host_name: string;
  groups: string[];
  host_vars: Record<string, unknown>;
}

/** Applies an add_host or group_by result (of `host`'s task); returns whether the inventory changed. */
export function applyInventoryChange(
  ctx: RunContext,
  host: string,
  playbookDir: string,
  result: Record<string, unknown>,
): boolean | undefined {
  let changed: boolean;
  if (result.add_host && typeof result.add_host === 'object') changed = addHost(ctx, result.add_host as AddHost);
  else if (typeof result.add_group === 'string')
    changed = addGroup(ctx, host, result.add_group, (result.parent_groups as string[] | undefined) ?? ['all']);
  else return undefined;
  if (changed) refresh(ctx, playbookDir);
  return changed;
}

function checkName(kind: 'host' | 'group', name: string): void {
  // the modules' schemas check these already; the inventory is never given anything else
  if (!(kind === 'host' ? isValidHostName(name) : isValidGroupName(name)))
    throw new PhxError(`invalid ${kind} name ${JSON.stringify(name)}`);
}

function addHost(ctx: RunContext, info: AddHost): boolean {
  const inv = ctx.inventory;
  const b = new InventoryBuilder(inv);
  const name = info.host_name;
  checkName('host', name);
  for (const g of info.groups) checkName('group', g);
  for (const [k, v] of Object.entries(info.host_vars)) checkConnectionVar(k, v);
  let changed = false;
  const isNew = !inv.hosts.has(name);
  if (isNew) {
    b.host(name);
    changed = true;
  }
  const entry = inv.hosts.get(name)!;
  const before = { vars: { ...entry.vars }, groups: [...entry.groups] };
  for (const [k, v] of Object.entries(info.host_vars)) {
    if (JSON.stringify(plain(entry.vars[k])) !== JSON.stringify(plain(v)) || !(k in entry.vars)) changed = true;
    b.setHostVar(name, k, v);
  }
  for (const g of info.groups) {
    if (!inv.groups.has(g) || !inv.groups.get(g)!.hosts.includes(name)) changed = true;
    b.host(name, g);
  }
  reconcile(inv);
  inventoryChanged(inv);
  // a container host must name its hypervisor and CT id as an inventory file would have to
  const varsOf = (h: string) => hostVariables(inv, h);
  const problems = pctHostProblems(inv, name, varsOf(name), sortedHostGroups(inv, name), varsOf);
  if (problems.length > 0) {
    undo(ctx, name, isNew, before);
    throw problems[0];
  }
  return changed;
}

/** A refused add_host leaves the inventory as it found it (groups it made stay, empty). */
function undo(
  ctx: RunContext,
  name: string,
  isNew: boolean,
  before: { vars: Record<string, unknown>; groups: string[] },
) {
  const inv = ctx.inventory;
  const entry = inv.hosts.get(name)!;
  for (const g of entry.groups.filter((x) => !before.groups.includes(x))) {
    const group = inv.groups.get(g);
    if (group) group.hosts = group.hosts.filter((h) => h !== name);
  }
  if (isNew) inv.hosts.delete(name);
  else {
    entry.vars = before.vars;
    entry.groups = before.groups;
  }
  reconcile(inv);
  inventoryChanged(inv);
}

function addGroup(ctx: RunContext, host: string, group: string, parents: string[]): boolean {
  const inv = ctx.inventory;
  const b = new InventoryBuilder(inv);
  checkName('group', group);
  for (const p of parents) checkName('group', p);
  let changed = false;
  b.group(group);
  for (const p of parents) {
    if (!inv.groups.has(p)) changed = true;
    if (!inv.groups.get(p)?.children.includes(group)) {
      b.child(p, group);
      changed = true;
    }
  }
  if (!inv.groups.get(group)!.hosts.includes(host)) {
    b.host(host, group);
    changed = true;
  }
  if (changed) {
    reconcile(inv);
    inventoryChanged(inv);
  }
  return changed;
}

/** Every host's inventory variables again (`groups`, `group_names`, the new groups' vars); new hosts get a state. */
function refresh(ctx: RunContext, playbookDir: string): void {
  for (const name of ctx.inventory.hosts.keys()) ctx.hostState(name, playbookDir);
  for (const [name, h] of ctx.hosts) {
    const fresh = hostVariables(ctx.inventory, name, { playbookDir });
    for (const k of Object.keys(h.inventoryVars)) delete h.inventoryVars[k];
    Object.assign(h.inventoryVars, fresh);
  }
}
