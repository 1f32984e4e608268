// The cluster as corosync sees it from this node: the members of
// /etc/pve/corosync.conf, which of them are online (their lab sshd runs), and
// votequorum's arithmetic (corosync exec/votequorum.c: quorum = expected/2 + 1).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimError, nodeName, readText } from './env.js';

export interface Member {
  name: string;
  nodeId: number;
  votes: number;
  ring0: string;
  online: boolean;
}

export interface Membership {
  totem: Record<string, string>;
  members: Member[];
  local: Member;
  expectedVotes: number;
  totalVotes: number;
  quorum: number;
  quorate: boolean;
}

/** corosync.conf's `key { … }` blocks as nested records; repeated blocks (nodelist.node) as arrays. */
interface Section {
  values: Record<string, string>;
  children: Array<[string, Section]>;
}

function parseCorosync(text: string): Section {
  const root: Section = { values: {}, children: [] };
  const stack = [root];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const open = /^([\w.-]+)\s*\{$/.exec(line);
    if (open) {
      const s: Section = { values: {}, children: [] };
      stack[stack.length - 1].children.push([open[1], s]);
      stack.push(s);
    } else if (line === '}') {
      if (stack.length > 1) stack.pop();
    } else {
      const kv = /^([\w.-]+)\s*:\s*(.*)$/.exec(line);
      if (kv) stack[stack.length - 1].values[kv[1]] = kv[2];
    }
  }
  return root;
}

const child = (s: Section | undefined, name: string) => s?.children.filter(([n]) => n === name).map(([, c]) => c) ?? [];

/** A member's lab sshd runs (the lab's pid file, its process alive and really that host's sshd). */
function hostOnline(labDir: string, name: string): boolean {
  const hostDir = join(labDir, 'hosts', name);
  try {
    const pid = Number(readFileSync(join(hostDir, 'sshd.pid'), 'utf8').trim());
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(hostDir, 'sshd'));
  } catch {
    return false;
  }
}

/** PVE::Corosync::check_conf_exists (pve-cluster src/PVE/Corosync.pm). */
export function requireClusterConf(): string {
  const text = readText('/etc/pve/corosync.conf');
  if (text === null)
    throw new SimError(
      "Error: Corosync config '/etc/pve/corosync.conf' does not exist - is this node part of a cluster?",
      255,
    );
  return text;
}

export function membership(): Membership {
  const conf = parseCorosync(requireClusterConf());
  const totem = child(conf, 'totem')[0]?.values ?? {};
  const here = nodeName();
  const labDir = process.env.PHX_LAB_DIR;
  const members = child(child(conf, 'nodelist')[0], 'node').map((n): Member => {
    const name = n.values.name ?? n.values.ring0_addr ?? '';
    return {
      name,
      nodeId: Number(n.values.nodeid),
      votes: Number(n.values.quorum_votes ?? 1),
      ring0: n.values.ring0_addr ?? '',
      // without a lab around (tools run directly on a tree) there is nobody to ask: all count as up
      online: name === here || labDir === undefined || hostOnline(labDir, name),
    };
  });
  const local = members.find((m) => m.name === here);
  if (!local) throw new SimError(`Cannot initialize CMAP service`, 1);
  const expectedVotes = members.reduce((a, m) => a + m.votes, 0);
  const totalVotes = members.filter((m) => m.online).reduce((a, m) => a + m.votes, 0);
  const quorum = Math.floor(expectedVotes / 2) + 1;
  return { totem, members, local, expectedVotes, totalVotes, quorum, quorate: totalVotes >= quorum };
}

/** PVE::Cluster::check_cfs_quorum (pve-cluster src/PVE/Cluster.pm): on a member without quorum, pmxcfs is
 *  read-only and API calls that write refuse. A standalone node is always quorate. */
export function checkCfsQuorum(): void {
  if (readText('/etc/pve/corosync.conf') === null) return;
  if (!membership().quorate) throw new SimError('cluster not ready - no quorum?', 255);
}

/** pve-cluster Cluster.pm cfs_lock_file: without quorum pmxcfs refuses the lock directory and the caller
 *  (e.g. Storage.pm lock_storage_config) dies with "<errmsg>: cfs-lock 'file-<name>' error: no quorum!".
 *  (The real one first retries for its 10 s lock timeout; the lab answers at once.) */
export function checkCfsLockQuorum(file: string, errmsg: string): void {
  if (readText('/etc/pve/corosync.conf') === null) return;
  if (!membership().quorate)
    throw new SimError(`${errmsg}: cfs-lock 'file-${file.replace(/[./]/g, '_')}' error: no quorum!`, 255);
}
