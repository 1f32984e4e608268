// Is this host a member of a Proxmox VE cluster, and which one? In a cluster
// /etc/pve is one filesystem (pmxcfs) shared by every member, so a change to a
// cluster-wide file (storage.cfg, firewall, HA) made from one node is every
// node's change. The answer comes from /etc/pve/corosync.conf (present only
// on a cluster member: pve-cluster src/PVE/Corosync.pm check_conf_exists) and
// the node name PVE uses (PVE::INotify::nodename: uname's nodename up to the
// first dot). Read once per connection: membership does not change during a run.
import { ModuleError, type ModuleContext } from '../module.js';
import { runBatch } from '../remote/batch.js';

export const COROSYNC_CONF = '/etc/pve/corosync.conf';

export interface PveCluster {
  /** totem.cluster_name */
  name: string;
  /** the members' names (nodelist.node[].name, else ring0_addr, as parse_conf keys them), sorted */
  nodes: string[];
}

export interface ClusterMembership {
  /** this host's node name */
  node: string;
  /** null: a standalone node */
  cluster: PveCluster | null;
}

type Section = { [key: string]: string | Section | Section[] };

/**
 * corosync.conf as pve-cluster's parse_conf reads it (src/PVE/Corosync.pm): comments
 * dropped, whitespace-separated tokens, `name {` opens a section (`node` and `interface`
 * may repeat), `key: value`. Throws on what parse_conf dies on.
 */
export function parseCorosyncConf(raw: string): Section {
  const tokens = raw
    .replace(/#.*$/gm, '')
    .split(/\s+/)
    .filter((t) => t !== '');
  const main: Section = {};
  const stack: Section[] = [];
  let section = main;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (tokens[i + 1] === '{') {
      i++;
      const child: Section = {};
      const existing = section[token];
      if (token === 'node' || token === 'interface') {
        section[token] = [...(Array.isArray(existing) ? existing : []), child];
      } else if (existing === undefined) section[token] = child;
      else throw new Error(`section '${token}' already exists and not marked as array!`);
      stack.push(section);
      section = child;
      continue;
    }
    if (token === '}') {
      const up = stack.pop();
      if (!up) throw new Error("parse error - unexpected '}'");
      section = up;
      continue;
    }
    if (!token.endsWith(':')) throw new Error(`missing ':' after key '${token}'`);
    const value = tokens[++i];
    if (value === undefined) throw new Error(`parse error - no value for '${token.slice(0, -1)}'`);
    section[token.slice(0, -1)] = value;
  }
  return main;
}

/** The cluster a corosync.conf describes; undefined when it names no cluster or no node. */
export function clusterFromCorosync(raw: string): PveCluster | undefined {
  const conf = parseCorosyncConf(raw);
  const totem = conf.totem;
  const nodelist = conf.nodelist;
  const name = typeof totem === 'object' && !Array.isArray(totem) ? totem.cluster_name : undefined;
  const entries = typeof nodelist === 'object' && !Array.isArray(nodelist) ? nodelist.node : undefined;
  if (typeof name !== 'string' || !Array.isArray(entries)) return undefined;
  const nodes = entries
    .map((n) => n.name ?? n.ring0_addr)
    .filter((n): n is string => typeof n === 'string')
    .sort();
  return nodes.length ? { name, nodes } : undefined;
}

/** PVE::INotify::nodename: the nodename uname reports, cut at the first dot. */
export function nodeName(unameN: string): string {
  return unameN.trim().split('.')[0];
}

const memberships = new WeakMap<object, ClusterMembership>();

/** This host's node name and cluster, read once per connection (one round trip). */
export async function clusterMembership(ctx: ModuleContext): Promise<ClusterMembership> {
  const known = memberships.get(ctx.conn);
  if (known) return known;
  const [conf, uname] = await runBatch(ctx, [
    ['cat', COROSYNC_CONF],
    ['uname', '-n'],
  ]);
  let cluster: PveCluster | null = null;
  if (conf.rc === 0) {
    try {
      cluster = clusterFromCorosync(conf.stdout) ?? null;
    } catch (e) {
      // never guess: taken for standalone, a member would treat other nodes' definitions as its own
      throw new ModuleError(`${COROSYNC_CONF} cannot be read as PVE reads it: ${(e as Error).message}`);
    }
  }
  const m: ClusterMembership = { node: nodeName(uname.stdout), cluster };
  memberships.set(ctx.conn, m);
  return m;
}

/** The key hosts of one cluster share in a run (src/shared-scope.ts); undefined for a standalone node. */
export function clusterScopeKey(m: ClusterMembership): string | undefined {
  return m.cluster ? `pve-cluster ${m.cluster.name} [${m.cluster.nodes.join(' ')}]` : undefined;
}
