// Cluster mode of the lab: the hosts are one Proxmox VE cluster sharing ONE
// /etc/pve (pmxcfs), a directory on the controller bind-mounted as every
// member's /etc/pve. What pmxcfs shows differently per node (the `local`,
// `lxc` and `qemu-server` links) is a per-host symlink mounted over the shared
// one (mount-link.ts). corosync.conf is written like PVE's
// PVE::Corosync::write_conf (pve-cluster src/PVE/Corosync.pm): sections in
// key order, two-space indent, a blank line after each top-level section.
import { mkdirSync, writeFileSync, readFileSync, symlinkSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export const CLUSTER_NAME = 'phx-lab';

/** The shared /etc/pve of a cluster lab, on the controller. */
export const clusterPveDir = (labDir: string) => join(labDir, 'cluster', 'pve');

/** Where a host keeps the symlinks mounted over the shared `local`, `lxc`, `qemu-server`. */
export const nodeLinksDir = (hostDir: string) => join(hostDir, 'pve-links');

/** The per-node views of pmxcfs: /etc/pve/<link> → nodes/<node>/… on that node. */
export const NODE_LINKS: Array<[string, (node: string) => string]> = [
  ['local', (n) => `nodes/${n}`],
  ['lxc', (n) => `nodes/${n}/lxc`],
  ['qemu-server', (n) => `nodes/${n}/qemu-server`],
];

/** Each member's corosync link address: distinct loopback addresses (never leaves the machine). */
export const ringAddress = (nodeId: number) => `127.0.1.${nodeId}`;

/** corosync.conf for members pve1..pveN; config_version counts the joins (create = 1, each add +1). */
export function corosyncConf(nodes: string[]): string {
  const members = nodes
    .map(
      (name, i) =>
        `  node {\n    name: ${name}\n    nodeid: ${i + 1}\n    quorum_votes: 1\n    ring0_addr: ${ringAddress(i + 1)}\n  }\n`,
    )
    .join('');
  return [
    'logging {\n  debug: off\n  to_syslog: yes\n}\n\n',
    `nodelist {\n${members}}\n\n`,
    'quorum {\n  provider: corosync_votequorum\n}\n\n',
    `totem {\n  cluster_name: ${CLUSTER_NAME}\n  config_version: ${nodes.length}\n  interface {\n    linknumber: 0\n  }\n`,
    '  ip_version: ipv4-6\n  link_mode: passive\n  secauth: on\n  version: 2\n}\n\n',
  ].join('');
}

/** The per-host link sources (symlinks whose text is what `readlink /etc/pve/local` shows on that node). */
export function writeNodeLinks(hostDir: string, node: string): void {
  const dir = nodeLinksDir(hostDir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of NODE_LINKS) symlinkSync(target(node), join(dir, name));
}

/** The shared tree's own placeholders for the per-node links (mount points; each host mounts its own over them). */
export function ensureSharedLinks(pveDir: string, firstNode: string): void {
  for (const [name, target] of NODE_LINKS)
    if (!existsSync(join(pveDir, name))) symlinkSync(target(firstNode), join(pveDir, name));
}

/** corosync.conf in /etc/pve (cluster-wide) and in each member's /etc/corosync (as pmxcfs keeps it synced). */
export function writeCorosync(pveDir: string, hostRoots: string[], nodes: string[]): void {
  const text = corosyncConf(nodes);
  writeFileSync(join(pveDir, 'corosync.conf'), text, { mode: 0o640 });
  for (const root of hostRoots) {
    mkdirSync(join(root, 'etc/corosync'), { recursive: true });
    writeFileSync(join(root, 'etc/corosync/corosync.conf'), text, { mode: 0o644 });
  }
}

/** Brings the shared tree in line with the lab: the link placeholders, each host's own links, and
 *  corosync.conf when the membership changed (a new member: config_version moves on, as on `pvecm add`). */
export function syncClusterTree(
  pveDir: string,
  hosts: Array<{ node: string; hostDir: string; root: string }>,
  nodes: string[],
): void {
  ensureSharedLinks(pveDir, nodes[0]);
  for (const h of hosts) writeNodeLinks(h.hostDir, h.node);
  let current = '';
  try {
    current = readFileSync(join(pveDir, 'corosync.conf'), 'utf8');
  } catch {
    /* a new cluster */
  }
  if (current !== corosyncConf(nodes))
    writeCorosync(
      pveDir,
      hosts.map((h) => h.root),
      nodes,
    );
}
