// Ansible's password_hash filter (ansible-core 2.14: plugins/filter/core.py
// get_encrypted_password, utils/encrypt.py CryptHash), as it behaves without passlib,
// which is how the reference runs recorded in test/compat/expected were made: the hash
// Python's crypt.crypt (libxcrypt) gives. With passlib installed (a Recommends of
// Debian 12's ansible-core) Ansible 2.14 would print `$6$rounds=656000$…` when no rounds
// are given; here, as through crypt, no rounds means the implicit 5000 and no prefix.
import { randomInt } from 'node:crypto';
import { UnsafeText } from '../unsafe.js';
import { EvalFailure, pyStr, truthy, typeName } from '../template/values.js';
import { md5Crypt, shaCrypt, SHA_ROUNDS_MAX, SHA_ROUNDS_MIN } from './crypt-hashes.js';

interface Algorithm {
  name: string;
  saltSize: number;
  /** encrypt.py's implicit_rounds: asking for exactly these gives the unprefixed (5000-round) hash */
  implicitRounds?: number;
  hash(key: Buffer, salt: Buffer, rounds?: number): string;
}

const ALGORITHMS: Record<string, Algorithm> = {
  md5_crypt: { name: 'md5_crypt', saltSize: 8, hash: (key, salt) => md5Crypt(key, salt) },
  sha256_crypt: {
    name: 'sha256_crypt',
    saltSize: 16,
    implicitRounds: 535000,
    hash: (key, salt, rounds) => shaCrypt('sha256', key, salt, rounds),
  },
  sha512_crypt: {
    name: 'sha512_crypt',
    saltSize: 16,
    implicitRounds: 656000,
    hash: (key, salt, rounds) => shaCrypt('sha512', key, salt, rounds),
  },
};
/** get_encrypted_password's passlib_mapping: the short names users write */
const SHORT_NAMES: Record<string, string> = {
  md5: 'md5_crypt',
  blowfish: 'bcrypt',
  sha256: 'sha256_crypt',
  sha512: 'sha512_crypt',
};

const SALT_CHARS = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** libxcrypt's CRYPT_MAX_PASSPHRASE_SIZE: a longer passphrase fails (crypt returns `*0`) */
const MAX_PASSPHRASE_BYTES = 511;
/**
 * Each round is a few digests: ten million take tens of seconds, more would stall the run
 * (libxcrypt allows up to 999999999; nobody hashes a login password that slowly).
 */
const MAX_ROUNDS = 10_000_000;

function fail(message: string): never {
  throw new EvalFailure(`password_hash: ${message}`);
}

/** encrypt.py's random_salt: salt_size characters of [./0-9A-Za-z], from the system's random source. */
export function randomSalt(size: number): string {
  let out = '';
  for (let i = 0; i < size; i++) out += SALT_CHARS[randomInt(SALT_CHARS.length)];
  return out;
}

function text(v: unknown, what: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof UnsafeText) return v.text;
  return fail(`${what} must be a string, got ${typeName(v)}`);
}

function integer(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${what} must be an integer, got ${pyStr(v)}`);
  return v;
}

export interface PasswordHashOptions {
  hashtype?: unknown;
  salt?: unknown;
  saltSize?: unknown;
  rounds?: unknown;
  ident?: unknown;
}

/** `password | password_hash(hashtype='sha512', salt=None, salt_size=None, rounds=None, ident=None)` */
export function passwordHash(password: unknown, opts: PasswordHashOptions): string {
  const requested = pyStr(opts.hashtype ?? 'sha512');
  const algoName = SHORT_NAMES[requested] ?? requested;
  if (algoName === 'bcrypt') fail('bcrypt (blowfish) is not implemented; use sha512');
  const algo = Object.prototype.hasOwnProperty.call(ALGORITHMS, algoName) ? ALGORITHMS[algoName] : undefined;
  if (!algo) fail(`crypt.crypt does not support '${algoName}' algorithm (known: md5, sha256, sha512)`);

  const key = Buffer.from(text(password, 'the password'), 'utf8');
  if (key.includes(0)) fail('the password holds a NUL character');
  if (key.length > MAX_PASSPHRASE_BYTES) fail(`the password is longer than ${MAX_PASSPHRASE_BYTES} bytes`);

  // CryptHash._salt: an empty or missing salt means a random one of salt_size
  const given = truthy(opts.salt ?? null) ? text(opts.salt, 'salt') : undefined;
  const size = truthy(opts.saltSize ?? null) ? integer(opts.saltSize, 'salt_size') : algo.saltSize;
  const salt = given ?? randomSalt(Math.max(0, Math.min(size, algo.saltSize + 1)));
  if (/[^./0-9A-Za-z]/.test(salt)) fail('invalid characters in salt');
  if (salt.length > algo.saltSize) fail(`invalid salt size (${algo.name} takes at most ${algo.saltSize} characters)`);

  // CryptHash._ident: any ident but the default one leaves the `$N` out, and crypt fails
  if (truthy(opts.ident ?? null)) fail(`crypt.crypt does not support '${algo.name}' algorithm (with ident)`);

  // CryptHash._rounds: the implicit rounds count mean "no rounds= prefix"; 0 or none, the same
  let rounds: number | undefined;
  if (truthy(opts.rounds ?? null)) {
    rounds = integer(opts.rounds, 'rounds');
    if (rounds === algo.implicitRounds) rounds = undefined;
  }
  if (rounds !== undefined) {
    if (!algo.implicitRounds) fail(`${algo.name} takes no rounds`);
    // libxcrypt refuses these (crypt returns `*0`, which Ansible would set as the hash)
    if (rounds < SHA_ROUNDS_MIN || rounds > SHA_ROUNDS_MAX)
      fail(`rounds must be from ${SHA_ROUNDS_MIN} to ${SHA_ROUNDS_MAX}, got ${rounds}`);
    if (rounds > MAX_ROUNDS) fail(`rounds above ${MAX_ROUNDS} are refused (the hash would take minutes)`);
  }
  return algo.hash(key, Buffer.from(salt, 'latin1'), rounds);
}
