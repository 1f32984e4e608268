// Host key policy for one SSH hop, on top of known-hosts.ts: which host key
// algorithms to ask the server for, and whether to trust the key it sends
// (known, revoked, changed, unknown → accept-new or refuse).
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownKeyTypes,
  type KnownHostEntry,
} from './known-hosts.js';

// ssh2's host key algorithms; the ones known_hosts has for a host go first, as OpenSSH orders them.
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];
const ALGOS_FOR_KEY_TYPE: Record<string, string[]> = { 'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] };

/** The algorithms to offer for `name`: those of its known keys first, so the server sends a key we can check. */
export function serverHostKeyAlgorithms(entries: readonly KnownHostEntry[], name: string): string[] {
  const preferred = knownKeyTypes(entries, name).flatMap((t) => ALGOS_FOR_KEY_TYPE[t] ?? [t]);
  return [...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
}

export interface HostKeyPolicy {
  /** user known_hosts files; new keys are appended to the first one */
  userKnownHostsFiles: string[];
  acceptNew: boolean;
  onDebug?: (msg: string) => void;
}

/** undefined when the key is trusted (or newly accepted), else why not. */
export async function verifyHostKey(
  policy: HostKeyPolicy,
  name: string,
  key: Buffer,
  entries: readonly KnownHostEntry[],
): Promise<string | undefined> {
  const type = keyTypeOf(key);
  const fp = fingerprint(key);
  const v = checkHostKey(entries, name, key);
  switch (v.status) {
    case 'known':
      policy.onDebug?.(`host key for ${name} (${type} ${fp}) found in ${v.entry.file}:${v.entry.line}`);
      return undefined;
    case 'revoked':
      return `the host key for ${name} (${type} ${fp}) is REVOKED in ${v.entry.file}:${v.entry.line}; refusing to connect`;
    case 'changed':
      return (
        `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${name}! Someone could be eavesdropping on you right now ` +
        `(possible man-in-the-middle attack), or the host key has just been changed. ` +
        `The server sent ${type} ${fp}; known_hosts has a different ${v.entry.keyType} key at ${v.entry.file}:${v.entry.line}. ` +
        `If the change is expected, remove that line (ssh-keygen -R '${name}') and verify the new key.`
      );
    case 'unknown':
      if (v.otherTypes.length > 0) {
        const where = v.otherTypes.map((e) => `${e.keyType} at ${e.file}:${e.line}`).join(', ');
        return (
          `the server for ${name} offered a ${type} host key (${fp}) but known_hosts only has other key types for it (${where}); ` +
          `refusing: possible man-in-the-middle. Verify the key and update known_hosts`
        );
      }
      return policy.acceptNew ? acceptNewKey(policy, name, key, `${type} ${fp}`) : unknownKeyRefusal(name, type, fp);
  }
}

/** --ssh-accept-new: a host never seen before is trusted and remembered, as OpenSSH's accept-new. */
async function acceptNewKey(policy: HostKeyPolicy, name: string, key: Buffer, described: string) {
  const file = policy.userKnownHostsFiles[0];
  if (!file) return `host key for ${name} is unknown (${described}) and there is no user known_hosts file to add it to`;
  await appendKnownHost(file, name, key);
  policy.onDebug?.(`permanently added ${name} (${described}) to ${file}`);
  return undefined;
}

function unknownKeyRefusal(name: string, type: string, fp: string): string {
  return `host key for ${name} is unknown (${type} ${fp}); verify it and add it to known_hosts, or run with --ssh-accept-new`;
}
