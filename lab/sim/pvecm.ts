// `pvecm status|nodes` — pve-cluster src/PVE/CLI/pvecm.pm: `status` prints the
// totem settings of corosync.conf then execs `corosync-quorumtool -siH`, `nodes`
// execs `corosync-quorumtool -l`; both refuse on a node without corosync.conf.
// The quorum tool's layout follows corosync tools/corosync-quorumtool.c
// (display_quorum_data, display_nodes_data).
import { SimError, out } from './env.js';
import { parsePveArgs, needArgs, unknownOption } from './pve-args.js';
import { membership, type Membership } from './membership.js';

const EXIT_NOT_QUORATE = 2; // corosync-quorumtool's exit status for "not quorate"

export function pvecm(args: string[]): number {
  const [cmd, ...rest] = args;
  const p = parsePveArgs(rest);
  for (const [k] of p.options) unknownOption(k);
  switch (cmd) {
    case 'status':
      needArgs(p, 0);
      return status();
    case 'nodes':
      needArgs(p, 0);
      out(nodesTable(membership(), false));
      return 0;
    default:
      throw new SimError(`unknown command 'pvecm ${cmd ?? ''}'\nUSAGE: pvecm <COMMAND> [ARGS] [OPTIONS]`, 255);
  }
}

/** C's ctime(3) in local time, without the newline: "Mon Dec  7 00:31:57 2026". */
function ctime(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

const padded = (s: string) => `${s.padStart(10)} `; // print_string_padded / print_uint32_padded
const hexId = (id: number) => `0x${id.toString(16).padStart(8, '0')} `;

/** display_nodes_data: the online members; -H shows hex node ids and -i ring addresses (`status`). */
function nodesTable(m: Membership, statusView: boolean): string {
  let text = '\nMembership information\n----------------------\n';
  text += `${padded('Nodeid')}${padded('Votes')}Name\n`;
  for (const n of m.members.filter((x) => x.online)) {
    text += `${statusView ? hexId(n.nodeId) : padded(String(n.nodeId))}${padded(String(n.votes))}`;
    text += `${statusView ? n.ring0 : n.name}${n.nodeId === m.local.nodeId ? ' (local)' : ''}\n`;
  }
  return text;
}

function status(): number {
  const m = membership();
  const info = (label: string, value: string) => `${`${label}:`.padEnd(17)} ${value}\n`;
  let text = 'Cluster information\n-------------------\n';
  text += info('Name', m.totem.cluster_name ?? 'UNKOWN?'); // sic, pvecm.pm's default
  text += info('Config Version', m.totem.config_version ?? '-1');
  text += info('Transport', m.totem.transport ?? 'knet');
  text += info('Secure auth', m.totem.secauth ?? 'off');
  const online = m.members.filter((n) => n.online);
  // the ring id: the representative (lowest online node id) and a sequence that moves with the membership
  const rep = Math.min(...online.map((n) => n.nodeId));
  const seq = online.reduce((a, n) => a + (1 << n.nodeId), 0x10);
  text += '\nQuorum information\n------------------\n';
  text += `Date:             ${ctime(new Date())}\n`;
  text += 'Quorum provider:  corosync_votequorum\n';
  text += `Nodes:            ${online.length}\n`;
  text += `Node ID:          ${hexId(m.local.nodeId).trim()}\n`;
  text += `Ring ID:          ${rep.toString(16)}.${seq.toString(16)}\n`;
  text += `Quorate:          ${m.quorate ? 'Yes' : 'No'}\n`;
  text += '\nVotequorum information\n----------------------\n';
  text += `Expected votes:   ${m.expectedVotes}\n`;
  text += `Highest expected: ${m.expectedVotes}\n`;
  text += `Total votes:      ${m.totalVotes}\n`;
  text += `Quorum:           ${m.quorum} ${m.quorate ? ' ' : 'Activity blocked'}\n`;
  text += `Flags:            ${m.quorate ? 'Quorate ' : ''}\n`;
  text += nodesTable(m, true);
  out(text);
  return m.quorate ? 0 : EXIT_NOT_QUORATE;
}
