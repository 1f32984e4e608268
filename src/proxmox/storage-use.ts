// Is a storage in use? Before pvesm prunes a definition: `pvesm remove` only
// refuses a storage that is the base of another storage (pve-storage
// src/PVE/API2/Storage/Config.pm, `delete`: storage_is_used), never one that
// guests or volumes use, whose disks then become unresolvable. So the module
// looks itself, in one round trip: every guest config of the cluster
// (/etc/pve/nodes/*/{lxc,qemu-server}/*.conf, pmxcfs holds all nodes') for
// volume ids naming the storage, and `pvesm list <id>` for volumes on it.
import { randomBytes } from 'node:crypto';

export interface StorageUse {
  /** guests referencing it, e.g. `CT 101 on pve1 (rootfs, mp0)` */
  guests: string[];
  /** volumes `pvesm list` shows on it */
  volumes?: number;
  /** `pvesm list` failed (storage offline, disabled…): whether it holds volumes is unknown */
  listError?: string;
}

// Config keys that hold volumes (pve-container src/PVE/LXC/Config.pm: rootfs, mpN, unusedN;
// qemu-server: the drive keys, efidisk0, tpmstate0, unusedN, a snapshot's vmstate).
const CT_VOLUME_KEY = /^(rootfs|mp\d+|unused\d+)$/;
const VM_VOLUME_KEY = /^((scsi|virtio|sata|ide)\d+|efidisk0|tpmstate0|unused\d+|vmstate)$/;
const VOLUME_ID = /^([a-z][a-z0-9._-]*[a-z0-9]):\S/i;

/** The one command: guest configs, then `pvesm list` per id, between markers unique to this run. */
export function storageUseArgv(ids: readonly string[]): { argv: string[]; marker: string } {
  const marker = `@@phx-use-${randomBytes(6).toString('hex')}@@`;
  const script = `M=$1; shift
for f in /etc/pve/nodes/*/lxc/*.conf /etc/pve/nodes/*/qemu-server/*.conf; do
  [ -f "$f" ] || continue
  printf '%s file %s\\n' "$M" "$f"
  cat -- "$f"
  echo
done
# a storage whose server hangs must not hang the task
to=
if command -v timeout >/dev/null 2>&1; then to='timeout 30'; fi
for id in "$@"; do
  out=$($to pvesm list "$id" 2>&1)
  printf '%s list %s %s\\n%s\\n' "$M" "$?" "$id" "$out"
done
printf '%s end\\n' "$M"`;
  return { argv: ['sh', '-c', script, 'phx-storage-use', marker, ...ids], marker };
}

/** The storages one guest config references, with the keys that reference them. */
export function guestStorageRefs(kind: 'lxc' | 'qemu-server', text: string): Map<string, string[]> {
  const keyRe = kind === 'lxc' ? CT_VOLUME_KEY : VM_VOLUME_KEY;
  const refs = new Map<string, string[]>();
  // every section counts: a snapshot or a pending change keeps its volumes too
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+):\s*(.*)$/i.exec(line.trim());
    if (!m || !keyRe.test(m[1])) continue;
    const first = m[2].split(',')[0];
    const named = /^(?:file|volume)=(.*)$/.exec(first);
    const volume = named ? named[1] : first;
    const id = VOLUME_ID.exec(volume)?.[1];
    if (!id) continue; // a bind mount, a device, `none`, `cdrom`
    refs.set(id, [...(refs.get(id) ?? []), m[1]]);
  }
  return refs;
}

/** Reads the command's report: what uses each of `ids`. Throws if the report is not whole. */
export function parseStorageUse(stdout: string, marker: string, ids: readonly string[]): Map<string, StorageUse> {
  const use = new Map<string, StorageUse>(ids.map((id) => [id, { guests: [] }]));
  const sections: { head: string; body: string[] }[] = [];
  let ended = false;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(marker + ' ')) {
      const head = line.slice(marker.length + 1);
      if (head === 'end') {
        ended = true;
        break;
      }
      sections.push({ head, body: [] });
    } else sections.at(-1)?.body.push(line);
  }
  if (!ended) throw new Error(`the storage use report is incomplete (output: ${stdout.slice(0, 300) || 'none'})`);
  for (const { head, body } of sections) {
    const file = /^file \/etc\/pve\/nodes\/([^/]+)\/(lxc|qemu-server)\/(\d+)\.conf$/.exec(head);
    if (file) {
      const [, node, kind, vmid] = file;
      for (const [id, keys] of guestStorageRefs(kind as 'lxc' | 'qemu-server', body.join('\n'))) {
        const u = use.get(id);
        if (u) u.guests.push(`${kind === 'lxc' ? 'CT' : 'VM'} ${vmid} on ${node} (${[...new Set(keys)].join(', ')})`);
      }
      continue;
    }
    const list = /^list (\d+) (.+)$/.exec(head);
    const u = list && use.get(list[2]);
    if (!list || !u) continue;
    const lines = body.filter((l) => l.trim() !== '');
    if (list[1] !== '0') u.listError = lines.join(' | ') || `pvesm list exited ${list[1]}`;
    // the first line is the header (Volid Format Type Size VMID)
    else u.volumes = lines.filter((l) => !/^Volid\s/.test(l)).length;
  }
  return use;
}

/** Why a storage must stay, or undefined when nothing uses it. */
export function inUseReason(u: StorageUse | undefined): string | undefined {
  if (!u) return undefined;
  const why = [...u.guests];
  if (u.volumes) why.push(`${u.volumes} volume${u.volumes === 1 ? '' : 's'} on it (pvesm list)`);
  if (u.listError !== undefined) why.push(`its volumes could not be listed: ${u.listError}`);
  return why.length ? why.join('; ') : undefined;
}
