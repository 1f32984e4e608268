// The crypt(3) password hashes Ansible's password_hash filter produces: SHA-crypt
// (`$5$`, `$6$`; Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512") and
// MD5-crypt (`$1$`, Poul-Henning Kamp's scheme). Written from the specifications,
// on node:crypto's digests; glibc/libxcrypt are the reference (test/password-hash.test.ts).
import { createHash } from 'node:crypto';

/** crypt(3)'s base-64 alphabet (not RFC 4648's: `./` first, digits before letters). */
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const SHA_ROUNDS_DEFAULT = 5000;
export const SHA_ROUNDS_MIN = 1000;
export const SHA_ROUNDS_MAX = 999_999_999;
export const SHA_SALT_MAX = 16;
export const MD5_SALT_MAX = 8;

/** `n` characters of the 24-bit group b2 b1 b0, least significant six bits first. */
function encode24(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ALPHABET[w & 0x3f];
    w >>>= 6;
  }
  return out;
}

/** `source` repeated (whole, then a prefix) to exactly `length` bytes. */
function repeatTo(source: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += source.length) source.copy(out, i, 0, Math.min(source.length, length - i));
  return out;
}

/**
 * The SHA-crypt digest of `key` with `salt` (at most 16 bytes used, as glibc) and `rounds`
 * (already within SHA_ROUNDS_MIN..SHA_ROUNDS_MAX), as the spec's steps 1-21.
 */
function shaCryptDigest(alg: 'sha256' | 'sha512', key: Buffer, salt: Buffer, rounds: number): Buffer {
  const h = (...parts: Buffer[]): Buffer => {
    const hash = createHash(alg);
    for (const p of parts) hash.update(p);
    return hash.digest();
  };
  const b = h(key, salt, key);
  const a = createHash(alg).update(key).update(salt).update(repeatTo(b, key.length));
  for (let n = key.length; n > 0; n >>>= 1) a.update(n & 1 ? b : key);
  let digest = a.digest();

  const dp = createHash(alg);
  for (let i = 0; i < key.length; i++) dp.update(key);
  const p = repeatTo(dp.digest(), key.length);
  const ds = createHash(alg);
  for (let i = 0; i < 16 + digest[0]; i++) ds.update(salt);
  const s = repeatTo(ds.digest(), salt.length);

  for (let i = 0; i < rounds; i++) {
    const c = createHash(alg);
    c.update(i & 1 ? p : digest);
    if (i % 3) c.update(s);
    if (i % 7) c.update(p);
    c.update(i & 1 ? digest : p);
    digest = c.digest();
  }
  return digest;
}

/**
 * `$5$…` (sha256) or `$6$…` (sha512) as glibc's crypt prints it: `rounds=N$` only when
 * `rounds` is given (even 5000), the salt cut at 16 bytes. `rounds` must be within
 * SHA_ROUNDS_MIN..SHA_ROUNDS_MAX (the caller refuses others: libxcrypt fails on them).
 */
export function shaCrypt(alg: 'sha256' | 'sha512', key: Buffer, salt: Buffer, rounds?: number): string {
  const saltUsed = salt.subarray(0, SHA_SALT_MAX);
  const n = rounds ?? SHA_ROUNDS_DEFAULT;
  if (!Number.isInteger(n) || n < SHA_ROUNDS_MIN || n > SHA_ROUNDS_MAX)
    throw new RangeError(`rounds must be an integer from ${SHA_ROUNDS_MIN} to ${SHA_ROUNDS_MAX}`);
  const d = shaCryptDigest(alg, key, saltUsed, n);
  let out = '';
  if (alg === 'sha512') {
    // the spec's byte order: groups (i, i+21, i+42) stepping by 22 modulo 63, then byte 63 alone
    for (let k = 0; k < 21; k++) out += encode24(d[(22 * k) % 63], d[(22 * k + 21) % 63], d[(22 * k + 42) % 63], 4);
    out += encode24(0, 0, d[63], 2);
  } else {
    for (let k = 0; k < 10; k++) out += encode24(d[(21 * k) % 30], d[(21 * k + 10) % 30], d[(21 * k + 20) % 30], 4);
    out += encode24(0, d[31], d[30], 3);
  }
  const prefix = alg === 'sha512' ? '$6$' : '$5$';
  return `${prefix}${rounds === undefined ? '' : `rounds=${n}$`}${saltUsed.toString('latin1')}$${out}`;
}

/** `$1$salt$…`: MD5-crypt, 1000 fixed rounds, the salt cut at 8 bytes. */
export function md5Crypt(key: Buffer, salt: Buffer): string {
  const saltUsed = salt.subarray(0, MD5_SALT_MAX);
  const magic = Buffer.from('$1$');
  const alt = createHash('md5').update(key).update(saltUsed).update(key).digest();
  const ctx = createHash('md5').update(key).update(magic).update(saltUsed).update(repeatTo(alt, key.length));
  // the scheme's quirk: a zero byte for each 1 bit of the length, the key's first byte for each 0 bit
  for (let n = key.length; n > 0; n >>>= 1) ctx.update(n & 1 ? Buffer.of(0) : key.subarray(0, 1));
  let d = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update(i & 1 ? key : d);
    if (i % 3) c.update(saltUsed);
    if (i % 7) c.update(key);
    c.update(i & 1 ? d : key);
    d = c.digest();
  }
  const out =
    encode24(d[0], d[6], d[12], 4) +
    encode24(d[1], d[7], d[13], 4) +
    encode24(d[2], d[8], d[14], 4) +
    encode24(d[3], d[9], d[15], 4) +
    encode24(d[4], d[10], d[5], 4) +
    encode24(0, 0, d[11], 2);
  return `$1$${saltUsed.toString('latin1')}$${out}`;
}
