// Where vault passwords come from, as ansible does it (lib/ansible/parsing/vault/__init__.py:
// get_file_vault_secret, FileVaultSecret, ScriptVaultSecret, ClientScriptVaultSecret, PromptVaultSecret):
//   --vault-password-file FILE     = --vault-id default@FILE
//   --ask-vault-pass               = --vault-id default@prompt
//   --vault-id [label@]SOURCE      SOURCE: `prompt`, a file (its content, stripped), or an
//                                  executable (its stdout, stripped of \r\n; a name ending in
//                                  `-client` is given `--vault-id label`)
// A password never goes on a command line (a script gets only the label) nor into a log.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { PhxError } from '../errors.js';
import type { VaultPassword } from './keyring.js';

export interface PasswordOptions {
  passwordFiles: readonly string[];
  askVaultPass: boolean;
  vaultIds: readonly string[];
}

/** Asks for a secret (terminal without echo, or a line of stdin). */
export type Ask = (prompt: string) => Promise<string>;

/** A password script is bounded like every wait: it may prompt on the terminal, hence minutes. */
const SCRIPT_TIMEOUT_MS = 120_000;

export interface VaultIdSpec {
  label: string;
  source: string;
}

export function vaultIdSpecs(o: PasswordOptions): VaultIdSpec[] {
  const specs = o.vaultIds.map(parseVaultId);
  if (o.askVaultPass) specs.push({ label: 'default', source: 'prompt' });
  for (const f of o.passwordFiles) specs.push({ label: 'default', source: f });
  return specs;
}

/** `label@source` or `source` (label `default`); the label goes into a 1.2 header, so it is one word. */
export function parseVaultId(spec: string): VaultIdSpec {
  const at = spec.indexOf('@');
  const label = at === -1 ? 'default' : spec.slice(0, at);
  const source = at === -1 ? spec : spec.slice(at + 1);
  if (!label || /[;\s]/.test(label))
    throw new PhxError(`--vault-id ${spec}: the label may not be empty nor hold ';' or blanks`);
  if (!source) throw new PhxError(`--vault-id ${spec}: no password source after '@'`);
  return { label, source };
}

export async function loadVaultPasswords(o: PasswordOptions, ask: Ask): Promise<VaultPassword[]> {
  const out: VaultPassword[] = [];
  for (const spec of vaultIdSpecs(o)) out.push(await passwordFrom(spec, ask));
  return out;
}

export async function passwordFrom(spec: VaultIdSpec, ask: Ask): Promise<VaultPassword> {
  const { label, source } = spec;
  if (source === 'prompt') {
    const text = (await ask(label === 'default' ? 'Vault password: ' : `Vault password (${label}): `)).trim();
    if (!text) throw new PhxError('Invalid vault password was provided (empty)');
    return { label, password: Buffer.from(text, 'utf8'), source };
  }
  let stat;
  try {
    stat = statSync(source);
  } catch {
    throw new PhxError(`The vault password file ${source} was not found`);
  }
  if (stat.isDirectory()) throw new PhxError(`The vault password file ${source} is a directory`);
  const password = isExecutable(source) ? fromScript(source, label) : fromFile(source);
  return { label, password, source };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromFile(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new PhxError(
      `Could not read vault password file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const password = stripBytes(bytes, ' \t\r\n\v\f');
  if (password.length === 0) throw new PhxError(`Invalid vault password was provided from file (${path}): it is empty`);
  return password;
}

function fromScript(path: string, label: string): Buffer {
  const name = basename(path, extname(path));
  const args = name.endsWith('-client') ? ['--vault-id', label] : [];
  // stderr stays the terminal's: a script may prompt there (as with ansible)
  const r = spawnSync(path, args, {
    stdio: ['inherit', 'pipe', 'inherit'],
    timeout: SCRIPT_TIMEOUT_MS,
    maxBuffer: 1 << 20,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT')
      throw new PhxError(`Vault password script ${path} did not finish within ${SCRIPT_TIMEOUT_MS / 1000} s`);
    throw new PhxError(`Problem running vault password script ${path} (${code ?? r.error.message})`);
  }
  if (r.status === 2 && args.length)
    throw new PhxError(`Vault password client script ${path} did not find a secret for vault-id=${label}`);
  if (r.status !== 0) throw new PhxError(`Vault password script ${path} returned non-zero (${r.status ?? r.signal})`);
  const password = stripBytes(r.stdout, '\r\n');
  if (password.length === 0) throw new PhxError(`Invalid vault password was provided from script (${path}): empty`);
  return password;
}

function stripBytes(b: Buffer, chars: string): Buffer {
  const set = new Set([...chars].map((c) => c.charCodeAt(0)));
  let s = 0;
  let e = b.length;
  while (s < e && set.has(b[s])) s++;
  while (e > s && set.has(b[e - 1])) e--;
  return b.subarray(s, e);
}
