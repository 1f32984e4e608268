// Ansible Vault's format 1.1/1.2 with the AES256 cipher, as ansible-vault reads
// and writes it (ansible lib/ansible/parsing/vault/__init__.py:
// format_vaulttext_envelope, parse_vaulttext, VaultAES256):
//
//   $ANSIBLE_VAULT;1.1;AES256            (1.2 adds `;label`)
//   hex( hex(salt) \n hex(hmac) \n hex(ciphertext) ), in lines of 80 characters
//
// key material = PBKDF2-HMAC-SHA256(password, salt, 10000 iterations, 80 bytes):
// 32 bytes AES key, 32 bytes HMAC key, 16 bytes initial CTR counter. The
// plaintext is PKCS#7-padded (128-bit blocks) and encrypted with AES-256-CTR;
// the HMAC-SHA256 (HMAC key) of the ciphertext authenticates it.
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const VAULT_HEADER = '$ANSIBLE_VAULT';
const ITERATIONS = 10_000;
const SALT_BYTES = 32;
const LINE = 80;

/** What the envelope says before decryption. */
export interface VaultEnvelope {
  version: '1.1' | '1.2';
  cipher: 'AES256';
  /** 1.2 only: the vault id the text was encrypted for (a hint; not authenticated) */
  label?: string;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

/** Vault text that cannot be read (bad header, bad hex): a format problem, not a password problem. */
export class VaultFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultFormatError';
  }
}

/** Does `text` start like vault data (ansible's is_encrypted: the header at the very start)? */
export function isVaultText(text: string): boolean {
  return text.startsWith(VAULT_HEADER);
}

export function parseEnvelope(text: string): VaultEnvelope {
  const lines = text.split(/\r?\n/);
  const header = lines[0].trim().split(';');
  if (header[0] !== VAULT_HEADER) throw new VaultFormatError('not vault data (no $ANSIBLE_VAULT header)');
  const version = header[1]?.trim();
  const cipher = header[2]?.trim();
  if (version !== '1.1' && version !== '1.2')
    throw new VaultFormatError(`vault format ${version ?? '(none)'} is not supported (only 1.1 and 1.2)`);
  if (cipher !== 'AES256')
    throw new VaultFormatError(`vault cipher ${cipher ?? '(none)'} is not supported (only AES256)`);
  const label = header.length >= 4 ? header[3].trim() : undefined;
  const body = unhex(
    lines
      .slice(1)
      .map((l) => l.trim())
      .join(''),
    'body',
  ).toString('latin1');
  const parts = body.split('\n');
  if (parts.length < 3) throw new VaultFormatError('the vault body does not hold salt, HMAC and ciphertext');
  const [salt, hmac] = parts;
  const ciphertext = parts.slice(2).join('\n');
  return {
    version,
    cipher,
    ...(label ? { label } : {}),
    salt: unhex(salt, 'salt'),
    hmac: unhex(hmac, 'HMAC'),
    ciphertext: unhex(ciphertext, 'ciphertext'),
  };
}

function unhex(text: string, what: string): Buffer {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text))
    throw new VaultFormatError(`the vault ${what} is not hexadecimal`);
  return Buffer.from(text, 'hex');
}

interface Keys {
  cipherKey: Buffer;
  hmacKey: Buffer;
  counter: Buffer;
}

function deriveKeys(password: Buffer, salt: Buffer): Keys {
  const m = pbkdf2Sync(password, salt, ITERATIONS, 80, 'sha256');
  return { cipherKey: m.subarray(0, 32), hmacKey: m.subarray(32, 64), counter: m.subarray(64, 80) };
}

/** The plaintext, or undefined when the password does not authenticate the data (wrong password, altered data). */
export function decryptWith(env: VaultEnvelope, password: Buffer): Buffer | undefined {
  const k = deriveKeys(password, env.salt);
  const mac = createHmac('sha256', k.hmacKey).update(env.ciphertext).digest();
  if (mac.length !== env.hmac.length || !timingSafeEqual(mac, env.hmac)) return undefined;
  const d = createDecipheriv('aes-256-ctr', k.cipherKey, k.counter);
  const padded = Buffer.concat([d.update(env.ciphertext), d.final()]);
  return unpad(padded);
}

function unpad(padded: Buffer): Buffer {
  const n = padded.length ? padded[padded.length - 1] : 0;
  if (n < 1 || n > 16 || n > padded.length || !padded.subarray(padded.length - n).every((b) => b === n))
    throw new VaultFormatError('the decrypted vault data has bad padding');
  return padded.subarray(0, padded.length - n);
}

/** Vault text (ending with a newline) for `plaintext`; a label makes it format 1.2, as ansible-vault does. */
export function encrypt(
  plaintext: Buffer,
  password: Buffer,
  label?: string,
  salt: Buffer = randomBytes(SALT_BYTES),
): string {
  const k = deriveKeys(password, salt);
  const pad = 16 - (plaintext.length % 16);
  const padded = Buffer.concat([plaintext, Buffer.alloc(pad, pad)]);
  const c = createCipheriv('aes-256-ctr', k.cipherKey, k.counter);
  const ciphertext = Buffer.concat([c.update(padded), c.final()]);
  const mac = createHmac('sha256', k.hmacKey).update(ciphertext).digest();
  const inner = [salt.toString('hex'), mac.toString('hex'), ciphertext.toString('hex')].join('\n');
  const hex = Buffer.from(inner, 'latin1').toString('hex');
  const useLabel = label !== undefined && label !== '' && label !== 'default';
  const header = useLabel ? `${VAULT_HEADER};1.2;AES256;${label}` : `${VAULT_HEADER};1.1;AES256`;
  const lines = [header];
  for (let i = 0; i < hex.length; i += LINE) lines.push(hex.slice(i, i + LINE));
  return lines.join('\n') + '\n';
}
