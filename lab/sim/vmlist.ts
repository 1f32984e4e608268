// The cluster's guest list, like pmxcfs's vmlist (PVE::Cluster::get_vmlist): every
// nodes/<node>/lxc/<id>.conf and nodes/<node>/qemu-server/<id>.conf under /etc/pve.
// On a cluster member /etc/pve is shared, so this sees every node's guests.
import { readdirSync } from 'node:fs';
import { hostPath } from './env.js';

export interface VmOwner {
  node: string;
  type: 'lxc' | 'qemu';
}

function confIds(dir: string): string[] {
  try {
    return readdirSync(hostPath(dir))
      .filter((f) => /^\d+\.conf$/.test(f))
      .map((f) => f.slice(0, -5));
  } catch {
    return [];
  }
}

/** The node and type of guest `id` anywhere in the cluster, or null if the id is free. */
export function vmOwner(id: string): VmOwner | null {
  let nodes: string[] = [];
  try {
    nodes = readdirSync(hostPath('/etc/pve/nodes')).sort();
  } catch {
    return null;
  }
  for (const node of nodes) {
    if (confIds(`/etc/pve/nodes/${node}/lxc`).includes(id)) return { node, type: 'lxc' };
    if (confIds(`/etc/pve/nodes/${node}/qemu-server`).includes(id)) return { node, type: 'qemu' };
  }
  return null;
}

/** PVE::Cluster::check_vmid_unused (pve-cluster src/PVE/Cluster.pm): "CT|VM <id> already exists on node '<node>'". */
export function vmidInUseMessage(id: string): string | null {
  const owner = vmOwner(id);
  if (!owner) return null;
  return `${owner.type === 'qemu' ? 'VM' : 'CT'} ${id} already exists on node '${owner.node}'`;
}
