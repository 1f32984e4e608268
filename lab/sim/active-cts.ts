// The host's /proc/net/unix as far as containers show in it: the lab's part of
// src/proxmox/lxc-running.ts. On a real host a running container's monitor
// listens on the abstract unix socket `@/var/lib/lxc/<vmid>/command`, and
// pve-container's list_active_containers (src/PVE/LXC.pm) reads /proc/net/unix
// for it. Lab hosts share this machine's network namespace, so each host gets
// the file instead: written here on every power change of a CT, and mounted over
// /proc/1/net in the host's mount namespace (lab/hostfs.ts, writeSetupScript).
import { readdirSync } from 'node:fs';
import { STATE_DIR, hostPath, readJson, writeFileAtomic } from './env.js';

/** The host's directory mounted over /proc/1/net (holds `unix`). */
export const PROC_NET_DIR = `${STATE_DIR}/proc1-net`;

// the kernel's header (net/unix/af_unix.c, unix_seq_show) and two sockets every host has
const HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
const BASE = [
  '0000000000000000: 00000002 00000000 00010000 0001 01 18211 /run/systemd/private',
  '0000000000000000: 00000002 00000000 00010000 0001 01 20107 /var/run/pve-cluster.sock',
];

/** One line as unix_seq_show prints a listening socket (inode made up, stable per CT). */
const monitorLine = (id: string) =>
  `0000000000000000: 00000002 00000000 00010000 0001 01 ${String(40000 + Number(id)).padStart(5)} @/var/lib/lxc/${id}/command`;

/** Rewrites the host's proc-net `unix` file from the CTs' running state (call it holding the host lock). */
export function publishActiveCts(): void {
  let ids: string[] = [];
  try {
    ids = readdirSync(hostPath(`${STATE_DIR}/ct`))
      .filter((f) => /^\d+\.json$/.test(f))
      .map((f) => f.slice(0, -'.json'.length));
  } catch {
    /* no CT ever ran */
  }
  const running = ids
    .filter((id) => readJson<{ running?: boolean }>(`${STATE_DIR}/ct/${id}.json`, {}).running === true)
    .sort((a, b) => Number(a) - Number(b));
  writeFileAtomic(`${PROC_NET_DIR}/unix`, HEADER + [...BASE, ...running.map(monitorLine)].join('\n') + '\n', 0o444);
}
