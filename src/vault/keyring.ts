// The vault passwords of this run, and decryption with them. The CLI fills the
// keyring (src/vault/passwords.ts) before anything is loaded; the YAML loader
// decrypts `!vault` values and vaulted files with it as it reads them.
import { decryptWith, parseEnvelope, VaultFormatError } from './format.js';

export interface VaultPassword {
  /** the vault id (`default` unless `--vault-id label@source`) */
  readonly label: string;
  readonly password: Buffer;
  /** where it came from, for messages: a file name, `prompt`, a script */
  readonly source: string;
}

let keyring: readonly VaultPassword[] = [];

export function setVaultPasswords(passwords: readonly VaultPassword[]): void {
  keyring = passwords;
}

export function vaultPasswords(): readonly VaultPassword[] {
  return keyring;
}

/** Why vault text could not be decrypted; the message names no secret. */
export class VaultDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultDecryptError';
  }
}

/**
 * The plaintext of vault text, tried with the password whose label the text
 * names first, then the others (ansible's default, DEFAULT_VAULT_ID_MATCH off).
 */
export function decryptVaultText(
  text: string,
  passwords: readonly VaultPassword[] = keyring,
): { plaintext: Buffer; label: string } {
  let env;
  try {
    env = parseEnvelope(text);
  } catch (e) {
    if (e instanceof VaultFormatError) throw new VaultDecryptError(`vault format error: ${e.message}`);
    throw e;
  }
  if (passwords.length === 0)
    throw new VaultDecryptError(
      'vault-encrypted data, but no vault password was given (use --vault-password-file, --ask-vault-pass or --vault-id)',
    );
  const ordered = env.label
    ? [...passwords.filter((p) => p.label === env.label), ...passwords.filter((p) => p.label !== env.label)]
    : passwords;
  for (const p of ordered) {
    let plaintext;
    try {
      plaintext = decryptWith(env, p.password);
    } catch (e) {
      if (e instanceof VaultFormatError) throw new VaultDecryptError(`vault format error: ${e.message}`);
      throw e;
    }
    if (plaintext) return { plaintext, label: p.label };
  }
  const tried = passwords.map((p) => `${p.label}@${p.source}`).join(', ');
  throw new VaultDecryptError(
    `decryption failed: none of the vault passwords given (${tried}) decrypts it${env.label ? ` (it names vault id '${env.label}')` : ''}`,
  );
}
