// Shared plumbing of the simulated hypervisor tools: where the host's files are,
// the node name, state files, the per-host lock, and the way a tool fails.
// Kept free of heavy imports: every tool invocation is a fresh node process.
import {
  openSync,
  closeSync,
  writeSync,
  readFileSync,
  writeFileSync,
  renameSync,
  unlinkSync,
  mkdirSync,
  readlinkSync,
  existsSync,
} from 'node:fs';
import { join, dirname } from 'node:path';

/** A tool failure: the message goes to stderr (as is), the process exits with rc. */
export class SimError extends Error {
  constructor(
    message: string,
    readonly rc = 255,
    readonly stdout = '',
  ) {
    super(message);
  }
}

/** The host's root directory. Lab hosts use `/` inside their mount namespace;
 *  PHX_LAB_ROOT is only for tests that run the tools directly on a temp tree. */
export const ROOT = process.env.PHX_LAB_ROOT ?? '/';

/** The path on this machine of an absolute path on the simulated host. */
export function hostPath(p: string): string {
  return ROOT === '/' ? p : join(ROOT, p);
}

/** The simulated host's own path for a machine path (inverse of hostPath). */
export function simPath(p: string): string {
  if (ROOT === '/') return p;
  const r = ROOT.replace(/\/+$/, '');
  return p === r ? '/' : p.startsWith(r + '/') ? p.slice(r.length) : p;
}

/** Node name, like PVE: /etc/pve/local is a symlink to nodes/<node>. */
export function nodeName(): string {
  try {
    return readlinkSync(hostPath('/etc/pve/local'))
      .replace(/^.*nodes\//, '')
      .replace(/\/$/, '');
  } catch {
    return 'localhost';
  }
}

export const STATE_DIR = '/var/lib/phx-lab';

/** Where `pct exec` binds this package (read-only) and the package payloads inside a container. */
export const CT_PACKAGE_DIR = '/run/phx-lab/pkg';
export const CT_DEBS_DIR = '/run/phx-lab/debs';

export function readJson<T>(simPathName: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(hostPath(simPathName), 'utf8')) as T;
  } catch {
    return fallback;
  }
}

/** Writes atomically (temp file + rename), so a reader never sees half a file. */
export function writeFileAtomic(simPathName: string, content: string, mode = 0o644): void {
  const p = hostPath(simPathName);
  mkdirSync(dirname(p), { recursive: true });
  const tmp = `${p}.tmp.${process.pid}`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, p);
}

export function writeJson(simPathName: string, value: unknown): void {
  writeFileAtomic(simPathName, JSON.stringify(value, null, 2) + '\n');
}

export function readText(simPathName: string): string | null {
  try {
    return readFileSync(hostPath(simPathName), 'utf8');
  } catch {
    return null;
  }
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes an O_EXCL lock file (a dead holder's lock is taken over); returns its path for release. */
function acquire(lockPath: string): string {
  mkdirSync(dirname(lockPath), { recursive: true });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return lockPath;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(lockPath, 'utf8'));
      } catch {
        continue; // released between open and read
      }
      if (Number.isFinite(holder) && holder > 0 && !pidAlive(holder)) {
        // stale: the holder died. Rename first so two takers do not both unlink a fresh lock.
        try {
          renameSync(lockPath, `${lockPath}.stale.${process.pid}`);
          unlinkSync(`${lockPath}.stale.${process.pid}`);
        } catch {
          /* someone else took it over */
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new SimError(`phx-lab: timeout waiting for lock ${lockPath} (held by ${holder})`);
      sleepSync(5 + Math.random() * 10);
    }
  }
}

function release(lockPath: string): void {
  try {
    unlinkSync(lockPath);
  } catch {
    /* already gone */
  }
}

/** Is this host a cluster member (PVE::Corosync::check_conf_exists: /etc/pve/corosync.conf is there)? */
export function inCluster(): boolean {
  return existsSync(hostPath('/etc/pve/corosync.conf'));
}

/** Runs fn holding the host's state lock and, on a cluster member, the cluster's lock too: the members
 *  share /etc/pve, and pmxcfs serialises writes, so tools on different nodes read-modify-write
 *  storage.cfg or a guest config one at a time. Always host lock first, then cluster lock (no cycle).
 *  The cluster lock lives where pmxcfs keeps its locks, /etc/pve/priv/lock/. */
export function withLock<T>(fn: () => T): T {
  const held = [acquire(hostPath(join(STATE_DIR, 'lock')))];
  try {
    if (inCluster()) held.push(acquire(hostPath('/etc/pve/priv/lock/phx-lab')));
    return fn();
  } finally {
    for (const p of held.reverse()) release(p);
  }
}

export interface Faults {
  nfsDelaySeconds?: number;
  guestAgentDelaySeconds?: number;
  createLockSeconds?: number;
  /** a CT ignores `pct shutdown` (it times out; --forceStop 1 kills it) */
  shutdownHang?: number;
  refuseConnections?: boolean;
}

export function faults(): Faults {
  return readJson<Faults>(join(STATE_DIR, 'faults.json'), {});
}

export function out(text: string): void {
  if (text) process.stdout.write(text);
}

export function err(text: string): void {
  if (text) process.stderr.write(text);
}

/** Is this address the simulated host itself (the lab's NFS server is the host)? */
export function isSelfAddress(addr: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(addr) || addr === 'localhost' || addr === nodeName() || addr === '::1';
}

/** Where this lab's compiled simulator lives (for shims inside guests). */
export const SIM_DIR = dirname(new URL(import.meta.url).pathname);
