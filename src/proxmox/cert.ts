// Certificate facts for cert_hook: SHA256 fingerprints (openssl, or pvenode for
// pveproxy certificates), the remembered state, key permissions, and the one
// decision: did the certificate change (or the key need fixing) since last time?
import { posix } from 'node:path';

/** `sha256 Fingerprint=AB:CD:…` (OpenSSL 3) / `SHA256 Fingerprint=…` (1.1) → `AB:CD:…`. */
export function parseOpensslFingerprint(stdout: string): string | undefined {
  const m = /fingerprint\s*=\s*([0-9A-Fa-f:]+)/i.exec(stdout);
  return m ? m[1].toUpperCase() : undefined;
}

export interface PvenodeCert {
  filename: string;
  fingerprint: string;
  notafter?: number;
  subject?: string;
}

/** `pvenode cert info --output-format json` → the certificates it lists. */
export function parsePvenodeCertInfo(stdout: string): PvenodeCert[] {
  const v = JSON.parse(stdout) as unknown;
  if (!Array.isArray(v)) throw new Error('pvenode cert info did not print a JSON array');
  return v
    .filter((x): x is Record<string, unknown> => !!x && typeof x === 'object')
    .map((x) => ({
      filename: typeof x.filename === 'string' ? x.filename : '',
      fingerprint: typeof x.fingerprint === 'string' ? x.fingerprint.toUpperCase() : '',
      ...(typeof x.notafter === 'number' ? { notafter: x.notafter } : {}),
      ...(typeof x.subject === 'string' ? { subject: x.subject } : {}),
    }));
}

/**
 * PVE's node name: /etc/pve/local is pmxcfs's link to `nodes/<node>`; without it, `uname -n` up to
 * the first dot (PVE::INotify::nodename). `stdout` is `readlink /etc/pve/local || uname -n`.
 */
export function parseNodeName(stdout: string): string | undefined {
  const line = stdout.trim().split('\n')[0] ?? '';
  const linked = /(?:^|\/)nodes\/([^/\s]+)\/?$/.exec(line);
  const name = linked ? linked[1] : line.replace(/\..*$/, '');
  return /^[A-Za-z0-9][A-Za-z0-9-]*$/.test(name) ? name : undefined;
}

/**
 * Which of node `node`'s certificates a path means. `pvenode cert info` reports only the files of the
 * node it runs on (pve-manager PVE/API2/Certificates.pm `info`: /etc/pve/pve-root-ca.pem and
 * /etc/pve/nodes/<node>/{pve-ssl,pveproxy-ssl}.pem), each by base name only (pve-common
 * PVE/Certificate.pm get_certificate_info strips the directory from `filename`). So /etc/pve/local/X
 * is this node's X, while a path under another node's directory must not match this node's file of
 * the same name.
 */
export function nodeCertPath(certPath: string, node: string): { path: string } | { otherNode: string } {
  const local = /^\/etc\/pve\/local\/([^/]+)$/.exec(certPath);
  if (local) return { path: `/etc/pve/nodes/${node}/${local[1]}` };
  const other = /^\/etc\/pve\/nodes\/([^/]+)\//.exec(certPath);
  if (other && other[1] !== node) return { otherNode: other[1] };
  return { path: certPath };
}

/** The pvenode entry for a certificate path of this node (see nodeCertPath): pvenode lists base names. */
export function pvenodeEntryFor(certs: readonly PvenodeCert[], certPath: string): PvenodeCert | undefined {
  const base = posix.basename(certPath);
  return (
    certs.find((c) => c.filename === certPath) ?? certs.find((c) => !c.filename.includes('/') && c.filename === base)
  );
}

/** pveproxy's own certificates are read through pvenode. */
export function isPveproxyCert(certPath: string): boolean {
  return /^\/etc\/pve\/(?:nodes\/[^/]+\/|local\/)?(pveproxy-ssl|pve-ssl)\.pem$/.test(certPath);
}

export interface CertState {
  name: string;
  cert: string;
  fingerprint: string;
  notafter?: number;
}

/** The state file's JSON; null when absent or unreadable (then the hook runs again, which is safe). */
export function parseCertState(text: string | undefined): CertState | null {
  if (text === undefined || text.trim() === '') return null;
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.fingerprint !== 'string') return null;
    return {
      name: typeof v.name === 'string' ? v.name : '',
      cert: typeof v.cert === 'string' ? v.cert : '',
      fingerprint: v.fingerprint,
      ...(typeof v.notafter === 'number' ? { notafter: v.notafter } : {}),
    };
  } catch {
    return null;
  }
}

export function certStateText(s: CertState): string {
  return JSON.stringify(s, null, 2) + '\n';
}

export function certStatePath(stateDir: string, name: string): string {
  return posix.join(stateDir, `${name}.json`);
}

export interface KeyStat {
  owner: string;
  group: string;
  uid: number;
  gid: number;
  mode: number;
}

/** `stat -c '%U %G %u %g %a'` → KeyStat. */
export function parseKeyStat(stdout: string): KeyStat | undefined {
  const m = /^(\S+) (\S+) (\d+) (\d+) ([0-7]+)\s*$/.exec(stdout.trim());
  if (!m) return undefined;
  return { owner: m[1], group: m[2], uid: Number(m[3]), gid: Number(m[4]), mode: parseInt(m[5], 8) };
}

export interface KeyWant {
  owner?: string | number;
  group?: string | number;
  mode?: number;
}

/** Which of owner/group/mode differ (a number compares with the id, a name with the name). */
export function keyDifferences(have: KeyStat, want: KeyWant): { owner: boolean; group: boolean; mode: boolean } {
  const same = (w: string | number | undefined, name: string, id: number) =>
    w === undefined || (typeof w === 'number' || /^\d+$/.test(w) ? Number(w) === id : w === name);
  return {
    owner: !same(want.owner, have.owner, have.uid),
    group: !same(want.group, have.group, have.gid),
    mode: want.mode !== undefined && want.mode !== have.mode,
  };
}

export type HookReason = 'first-run' | 'renewed' | 'permissions' | 'none';

/** Why the hook must run now: no state yet, a new fingerprint, or a key that had to be fixed. */
export function hookReason(current: string, state: CertState | null, keyNeedsFix: boolean): HookReason {
  if (!state) return 'first-run';
  if (state.fingerprint.toUpperCase() !== current.toUpperCase()) return 'renewed';
  if (keyNeedsFix) return 'permissions';
  return 'none';
}
