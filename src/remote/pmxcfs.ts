// /etc/pve is pmxcfs, the Proxmox cluster file system (proxmox/pve-cluster,
// src/pmxcfs/pmxcfs.c). It has no owners or modes of its own:
// - cfs_fuse_getattr reports every entry as uid 0, gid www-data, with mode
//   0755 for directories and 0640 for files (the memdb's 0777/0666 masked),
//   0700/0600 below a private path (cfs-utils.c, path_is_private: priv/ and
//   nodes/<node>/priv/);
// - cfs_fuse_chown accepts only uid 0 (or -1) and gid www-data (or -1);
// - cfs_fuse_chmod accepts only 0640 (0600 when private), for directories too,
//   which keep showing 0755/0700: anything else is EPERM.
// So an owner, group or mode other than what pmxcfs shows can never be
// reached: the tasks asking for one are refused before anything is sent.
import { posix } from 'node:path';
import { applyMode, formatMode, type ModeSpec } from './mode.js';

const ROOT = '/etc/pve';
/** Debian's fixed gid of www-data (base-passwd), the group pmxcfs shows. */
export const PMXCFS_GID = 33;

/** Whether `path` (absolute) is /etc/pve or below it. */
export function underPmxcfs(path: string): boolean {
  const p = posix.normalize(path);
  return p === ROOT || p === `${ROOT}/` || p.startsWith(`${ROOT}/`);
}

/** path_is_private, for paths as a playbook names them (/etc/pve/local is nodes/<this node>). */
function isPrivate(path: string): boolean {
  const rel = posix.normalize(path).slice(ROOT.length + 1);
  return /^(priv|nodes\/[^/]+\/priv|local\/priv)(\/|$)/.test(rel);
}

/** The mode pmxcfs shows for an entry at `path` (under /etc/pve). */
export function pmxcfsMode(path: string, isDir: boolean): number {
  const priv = isPrivate(path);
  if (isDir) return priv ? 0o700 : 0o755;
  return priv ? 0o600 : 0o640;
}

export interface WantedAttrs {
  /** a name or an id */
  owner?: string | number;
  group?: string | number;
  mode?: ModeSpec;
  isDir: boolean;
}

const isRoot = (o: string | number) => o === 0 || o === '0' || o === 'root';
const isWwwData = (g: string | number) => g === PMXCFS_GID || g === String(PMXCFS_GID) || g === 'www-data';

/**
 * Why pmxcfs would refuse what is wanted for `path`, or undefined when the
 * path is not under /etc/pve or the wanted values are the ones pmxcfs keeps.
 */
export function pmxcfsRefusal(path: string, want: WantedAttrs): string | undefined {
  if (!underPmxcfs(path)) return undefined;
  const where = `${path} is on pmxcfs (/etc/pve, the Proxmox cluster file system)`;
  if ((want.owner !== undefined && !isRoot(want.owner)) || (want.group !== undefined && !isWwwData(want.group)))
    return `${where}, which keeps every entry root:www-data and refuses any other owner or group (EPERM): drop owner/group or use root/www-data`;
  if (want.mode !== undefined) {
    const fixed = pmxcfsMode(path, want.isDir);
    const wanted = applyMode(want.mode, fixed, want.isDir);
    if (wanted !== fixed)
      return `${where}, which gives ${want.isDir ? 'directories' : 'files'} there mode ${formatMode(fixed)} and refuses to change it (mode ${formatMode(wanted)} wanted): drop mode or use ${formatMode(fixed)}`;
  }
  return undefined;
}
