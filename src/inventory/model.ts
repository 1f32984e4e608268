// The inventory data model, and the builder both file formats fill in.
// Hosts and groups keep the order they were first seen: that order is what
// `all`, groups and patterns return, as Ansible does.
import { PhxError, type SourceLoc } from '../errors.js';

export interface InventoryHost {
  name: string;
  vars: Record<string, unknown>;
  /** direct groups (not ancestors); an ungrouped host has ['ungrouped'] (plus 'all' if listed under all.hosts) */
  groups: string[];
}

export interface InventoryGroup {
  name: string;
  /** direct hosts */
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
  parents: string[];
}

export interface Inventory {
  hosts: Map<string, InventoryHost>;
  groups: Map<string, InventoryGroup>;
  /** the -i sources as resolved: absolute paths, or comma lists as given */
  sources: string[];
}

/** Facts about an inventory that are not part of the public shape. */
export interface InventoryExtras {
  /** directories whose group_vars/ and host_vars/ belong to the inventory, in source order */
  varsDirs: string[];
  /** the file a host was first seen in (Ansible's inventory_file) */
  hostFile: Map<string, string>;
  /** where an inventory file set a variable, by `host:<name>` / `group:<name>` then variable name */
  varLoc: Map<string, Map<string, SourceLoc>>;
}

const extras = new WeakMap<Inventory, InventoryExtras>();

export function inventoryExtras(inv: Inventory): InventoryExtras {
  let e = extras.get(inv);
  if (!e) {
    e = { varsDirs: [], hostFile: new Map(), varLoc: new Map() };
    extras.set(inv, e);
  }
  return e;
}

export function emptyInventory(): Inventory {
  const inv: Inventory = { hosts: new Map(), groups: new Map(), sources: [] };
  const b = new InventoryBuilder(inv);
  b.group('all');
  b.group('ungrouped');
  b.child('all', 'ungrouped');
  return inv;
}

/**
 * Adds hosts, groups, memberships and variables to an inventory, refusing
 * cycles as they are made. Later definitions of a variable win (Ansible's
 * set_variable); memberships accumulate.
 */
export class InventoryBuilder {
  constructor(readonly inv: Inventory) {}

  group(name: string): InventoryGroup {
    let g = this.inv.groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], vars: {}, parents: [] };
      this.inv.groups.set(name, g);
    }
    return g;
  }

  host(name: string, group?: string): InventoryHost {
    let h = this.inv.hosts.get(name);
    if (!h) {
      h = { name, vars: {}, groups: [] };
      this.inv.hosts.set(name, h);
    }
    if (group !== undefined) {
      const g = this.group(group);
      if (!g.hosts.includes(name)) g.hosts.push(name);
      if (!h.groups.includes(group)) h.groups.push(group);
    }
    return h;
  }

  /** Makes `child` a child group of `parent`; a cycle is an error located at `loc`. */
  child(parent: string, child: string, loc?: SourceLoc): void {
    if (child === 'all')
      throw new PhxError(`group 'all' cannot be a child of '${parent}': every group is already inside 'all'`, loc);
    if (parent === child) throw new PhxError(`group '${child}' cannot be a child of itself`, loc);
    const p = this.group(parent);
    const c = this.group(child);
    if (p.children.includes(child)) return;
    if (ancestorsOf(this.inv, parent).has(child)) {
      throw new PhxError(
        `group '${child}' is its own ancestor: '${child}' → … → '${parent}' → '${child}' is a cycle`,
        loc,
      );
    }
    p.children.push(child);
    c.parents.push(parent);
  }

  setGroupVar(group: string, key: string, value: unknown, loc?: SourceLoc): void {
    this.group(group).vars[key] = value;
    this.remember(`group:${group}`, key, loc);
  }

  setHostVar(host: string, key: string, value: unknown, loc?: SourceLoc): void {
    this.host(host).vars[key] = value;
    this.remember(`host:${host}`, key, loc);
  }

  private remember(owner: string, key: string, loc: SourceLoc | undefined): void {
    const all = inventoryExtras(this.inv).varLoc;
    const locs = all.get(owner) ?? new Map<string, SourceLoc>();
    if (loc) locs.set(key, loc);
    else locs.delete(key);
    all.set(owner, locs);
  }
}

/** Every ancestor group of a group (parents, their parents, ...). */
export function ancestorsOf(inv: Inventory, group: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(inv.groups.get(group)?.parents ?? [])];
  while (todo.length) {
    const g = todo.shift()!;
    if (seen.has(g)) continue;
    seen.add(g);
    todo.push(...(inv.groups.get(g)?.parents ?? []));
  }
  return seen;
}

/**
 * Ansible's reconcile step, run after all sources are read: every group
 * without a parent hangs under `all`; a host in no group but `all` is
 * `ungrouped`; a host in a real group leaves `ungrouped`.
 */
export function reconcile(inv: Inventory): void {
  const b = new InventoryBuilder(inv);
  for (const g of inv.groups.values()) {
    if (g.name !== 'all' && g.parents.length === 0) b.child('all', g.name);
  }
  const ungrouped = b.group('ungrouped');
  for (const h of inv.hosts.values()) {
    const real = h.groups.filter((g) => g !== 'all' && g !== 'ungrouped');
    if (real.length > 0) {
      if (h.groups.includes('ungrouped')) {
        h.groups = h.groups.filter((g) => g !== 'ungrouped');
        ungrouped.hosts = ungrouped.hosts.filter((n) => n !== h.name);
      }
    } else if (!h.groups.includes('ungrouped')) {
      b.host(h.name, 'ungrouped');
    }
  }
}

/** Depth of each group: the longest path from `all` (all = 0), as Ansible orders group vars. */
export function groupDepths(inv: Inventory): Map<string, number> {
  const depth = new Map<string, number>();
  const visit = (name: string, stack: Set<string>): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (stack.has(name)) return 0; // cycles are refused when built; stay safe
    stack.add(name);
    const parents = inv.groups.get(name)?.parents ?? [];
    const d = parents.length ? Math.max(...parents.map((p) => visit(p, stack) + 1)) : 0;
    stack.delete(name);
    depth.set(name, d);
    return d;
  };
  for (const name of inv.groups.keys()) visit(name, new Set());
  return depth;
}

/** Groups a host belongs to, directly or through ancestors (including 'all'). */
export function hostGroupsWithAncestors(inv: Inventory, host: string): Set<string> {
  const out = new Set<string>();
  for (const g of inv.hosts.get(host)?.groups ?? []) {
    out.add(g);
    for (const a of ancestorsOf(inv, g)) out.add(a);
  }
  return out;
}

/**
 * All hosts of a group: its own first, then its descendants breadth-first,
 * each host once (Ansible's Group.get_hosts order).
 */
export function groupHosts(inv: Inventory, group: string): string[] {
  const out: string[] = [];
  const seenHosts = new Set<string>();
  const seenGroups = new Set<string>([group]);
  let level = [group];
  while (level.length) {
    const next: string[] = [];
    for (const name of level) {
      const g = inv.groups.get(name);
      if (!g) continue;
      for (const h of g.hosts) {
        if (!seenHosts.has(h)) {
          seenHosts.add(h);
          out.push(h);
        }
      }
      for (const c of g.children) {
        if (!seenGroups.has(c)) {
          seenGroups.add(c);
          next.push(c);
        }
      }
    }
    level = next;
  }
  return out;
}
