// Client authentication in OpenSSH's order: agent keys, key files, then the
// password (as `password`, or answering a keyboard-interactive prompt).
// Encrypted key files get their passphrase from an option or from the asker,
// asked once per key file for the whole run.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import { loadSsh2 } from './ssh2-module.js';

export interface AuthSettings {
  user: string;
  /** ssh-agent socket; undefined or '' = no agent */
  agentSocket?: string;
  /** key files in the order to try; missing default keys are skipped quietly */
  keyFiles: { path: string; explicit: boolean }[];
  passphrase?: string;
  password?: string;
  askPassword?: (prompt: string) => Promise<string>;
  onDebug?: (msg: string) => void;
}

type Attempt =
  { kind: 'agent' } | { kind: 'key'; path: string; explicit: boolean } | { kind: 'password' } | { kind: 'kbd' };

// One parse (and at most one passphrase question) per key file per run, shared by all hosts.
const keyCache = new Map<string, Promise<ParsedKey | null>>();
// Why a key file was not used, for the "permission denied" message.
const skippedKeys = new Map<string, string>();

/** Forgets cached keys (tests that reuse a path for a different key). */
export function clearKeyCache(): void {
  keyCache.clear();
  skippedKeys.clear();
}

function loadKey(path: string, explicit: boolean, s: AuthSettings): Promise<ParsedKey | null> {
  let p = keyCache.get(path);
  if (!p) {
    p = (async () => {
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (e) {
        if (explicit) {
          s.onDebug?.(`identity file ${path} not accessible: ${(e as Error).message}`);
          skippedKeys.set(path, (e as NodeJS.ErrnoException).code ?? 'not readable');
        }
        return null;
      }
      const ssh2 = await loadSsh2();
      const plain = ssh2.utils.parseKey(data);
      if (!(plain instanceof Error)) return signingWithKeyObject(plain);
      if (!/passphrase/i.test(plain.message)) {
        s.onDebug?.(`identity file ${path} cannot be used: ${plain.message}`);
        skippedKeys.set(path, plain.message);
        return null;
      }
      let passphrase = s.passphrase;
      if (passphrase === undefined && s.askPassword)
        passphrase = await s.askPassword(`Enter passphrase for key '${path}': `);
      if (passphrase === undefined) {
        s.onDebug?.(`identity file ${path} is encrypted and no passphrase was given; skipped`);
        skippedKeys.set(path, 'encrypted, no passphrase given');
        return null;
      }
      const key = ssh2.utils.parseKey(data, passphrase);
      if (key instanceof Error) {
        s.onDebug?.(`identity file ${path}: wrong passphrase; skipped`);
        skippedKeys.set(path, 'wrong passphrase');
        return null;
      }
      return signingWithKeyObject(key);
    })();
    keyCache.set(path, p);
  }
  return p;
}

// The hash ssh2's ParsedKey.sign() uses when none is named: its key type's (ssh2 lib/protocol/keyParser.js).
const DEFAULT_HASH: Record<string, string | null> = {
  'ssh-ed25519': null,
  'ssh-rsa': 'sha1',
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
};

/**
 * The parsed key with a sign() that uses a KeyObject made once: ssh2's own sign() hands
 * crypto.sign the key's PEM text, which OpenSSL decodes again for every signature (one per
 * connection). The same signature, from the same key and hash; all else is the parsed key's
 * (it is the prototype, so ssh2 still takes it for a parsed key). Other key types: as parsed.
 */
export function signingWithKeyObject(key: ParsedKey): ParsedKey {
  const defaultHash = DEFAULT_HASH[key.type];
  if (defaultHash === undefined || !key.isPrivateKey()) return key;
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey(key.getPrivatePEM());
  } catch {
    return key;
  }
  const signWithKeyObject = (data: Buffer, algo?: string): Buffer | Error => {
    try {
      return sign(typeof algo === 'string' && algo !== '' ? algo : defaultHash, data, keyObject);
    } catch (e) {
      return e as Error; // as ssh2's sign() reports a failure: returned, not thrown
    }
  };
  return Object.create(key, { sign: { value: signWithKeyObject } }) as ParsedKey;
}

export interface AuthState {
  handler: AuthHandlerMiddleware;
  /** methods tried so far, for the "permission denied" message */
  tried: string[];
  /** key files that could not be used, with the reason */
  skipped(): string[];
}

export function makeAuthHandler(s: AuthSettings): AuthState {
  const plan: Attempt[] = [];
  if (s.agentSocket) plan.push({ kind: 'agent' });
  const seen = new Set<string>();
  for (const k of s.keyFiles) {
    if (seen.has(k.path)) continue;
    seen.add(k.path);
    plan.push({ kind: 'key', path: k.path, explicit: k.explicit });
  }
  if (s.password !== undefined) plan.push({ kind: 'password' }, { kind: 'kbd' });
  const tried: string[] = [];
  let next = 0;

  const allowed = (left: AuthenticationType[] | null, type: AuthenticationType): boolean =>
    left === null || left.includes(type);

  const pick = async (left: AuthenticationType[] | null): Promise<AnyAuthMethod | false> => {
    while (next < plan.length) {
      const a = plan[next++];
      switch (a.kind) {
        case 'agent':
          if (!allowed(left, 'publickey')) continue;
          tried.push('agent');
          s.onDebug?.(`auth: trying ssh-agent keys (${s.agentSocket})`);
          return { type: 'agent', username: s.user, agent: s.agentSocket! };
        case 'key': {
          if (!allowed(left, 'publickey')) continue;
          const key = await loadKey(a.path, a.explicit, s);
          if (!key) continue;
          tried.push(`publickey ${a.path}`);
          s.onDebug?.(`auth: trying key ${a.path} (${key.type})`);
          return { type: 'publickey', username: s.user, key };
        }
        case 'password':
          if (!allowed(left, 'password')) continue;
          tried.push('password');
          s.onDebug?.('auth: trying password');
          return { type: 'password', username: s.user, password: s.password! };
        case 'kbd': {
          if (left === null || !left.includes('keyboard-interactive')) continue;
          tried.push('keyboard-interactive');
          s.onDebug?.('auth: trying keyboard-interactive with the password');
          const password = s.password!;
          return {
            type: 'keyboard-interactive',
            username: s.user,
            // Only answer prompts that ask for a password; anything else gets an empty answer.
            prompt: (_name, _instr, _lang, prompts, finish) =>
              finish(prompts.map((p) => (/password/i.test(p.prompt) ? password : ''))),
          };
        }
      }
    }
    return false;
  };

  const handler: AuthHandlerMiddleware = (left, _partial, callback) => {
    // ssh2 takes `false` for "no more methods"; its types leave that out.
    const next = callback as unknown as (m: AnyAuthMethod | false) => void;
    pick(left ?? null).then(next, (e: unknown) => {
      s.onDebug?.(`auth: ${(e as Error).message}`);
      next(false);
    });
  };
  const skipped = () =>
    plan.flatMap((a) => (a.kind === 'key' && skippedKeys.has(a.path) ? [`${a.path}: ${skippedKeys.get(a.path)}`] : []));
  return { handler, tried, skipped };
}
