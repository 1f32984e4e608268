// Which containers run, read the way pve-container decides it, without starting
// `pct status` (a Perl program: a few hundred ms on a real host).
//
// pve-container src/PVE/LXC.pm: `check_running($vmid)` is
// `list_active_containers()->{$vmid}`, and `list_active_containers` reads
// /proc/net/unix: a container runs while its monitor listens on the abstract
// socket `@/var/lib/lxc/<vmid>/command` (the line must match
// m/^[a-f0-9]+:\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\S+)$/ and the path
// m!^@/var/lib/lxc/(\d+)/command$!). `pct status` (vmstatus) starts from the
// same list: a CT not in it is `stopped`; one in it is `running` once lxc-info
// names its pid.
//
// /proc/net/unix lists the sockets of the reader's network namespace. pct, run
// on the host, is in the host's (init's) namespace; so is a root SSH session on a
// Proxmox host. The read names that namespace explicitly: /proc/1/net/unix (the
// lab, which shares this machine's network namespace, gives each host its own
// file there, in the host's mount namespace; lab/sim/active-cts.ts).

/** The file read: the unix sockets of the host's (pid 1's) network namespace. */
export const UNIX_SOCKETS_FILE = '/proc/1/net/unix';

/**
 * The host command that prints the lines of the monitor sockets (grep exits 1 when
 * none: no CT runs; 2 is a read error).
 */
export const activeCtsArgv = (): string[] => [
  'sh',
  '-c',
  'grep -e "@/var/lib/lxc/[0-9]*/command$" -- "$1"; [ $? -le 1 ]',
  'sh',
  UNIX_SOCKETS_FILE,
];

const LINE = /^[a-f0-9]+:\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\S+)$/;
const MONITOR = /^@\/var\/lib\/lxc\/(\d+)\/command$/;

/** PVE::LXC::list_active_containers on /proc/net/unix text: the running CT ids. */
export function parseActiveCts(procNetUnix: string): Set<number> {
  const ids = new Set<number>();
  for (const raw of procNetUnix.split('\n')) {
    const m = LINE.exec(raw);
    if (!m) continue;
    const id = MONITOR.exec(m[1]);
    if (id) ids.add(Number(id[1]));
  }
  return ids;
}
