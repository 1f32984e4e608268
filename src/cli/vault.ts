// `phx-play vault encrypt|decrypt|view|edit|encrypt_string`: ansible-vault's
// commands, reading and writing the same format (src/vault/format.ts), so files
// go from one tool to the other in both directions.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PhxError } from '../errors.js';
import { encrypt, isVaultText } from '../vault/format.js';
import { decryptVaultText, VaultDecryptError, type VaultPassword } from '../vault/keyring.js';
import { loadVaultPasswords, passwordFrom, vaultIdSpecs, type PasswordOptions } from '../vault/passwords.js';
import { askVaultSecret } from './prompt.js';

export const VAULT_HELP = `Usage: phx-play vault ACTION [options] [FILE ...]

Actions (as ansible-vault; files are rewritten in place, atomically):
  encrypt [FILE ...]          encrypt files (none: stdin to stdout)
  decrypt [FILE ...]          decrypt files (none: stdin to stdout)
  view FILE ...               print the decrypted content
  edit FILE                   decrypt into a private temporary file, run $EDITOR, encrypt again
  encrypt_string [STRING ...] print a '!vault |' value for a playbook or vars file
                              (no STRING: read the plaintext from stdin, which keeps it off the command line)

Options:
      --vault-password-file FILE   the password is the file's content, or an executable's output (repeatable)
  -J, --ask-vault-pass             ask for the vault password
      --vault-id [LABEL@]SOURCE    SOURCE is 'prompt', a file or an executable (repeatable)
      --encrypt-vault-id LABEL     which vault id encrypts (when several are given)
      --output FILE                write here instead of in place ('-' = stdout; encrypt/decrypt)
  -n, --name NAME                  encrypt_string: the variable name to print
      --stdin-name NAME            encrypt_string: read the plaintext from stdin, named NAME`;

type Action = 'encrypt' | 'decrypt' | 'view' | 'edit' | 'encrypt_string';
const ACTIONS: readonly Action[] = ['encrypt', 'decrypt', 'view', 'edit', 'encrypt_string'];

interface VaultCli {
  action: Action;
  files: string[];
  passwords: PasswordOptions;
  encryptVaultId?: string;
  output?: string;
  names: string[];
  stdinName?: string;
}

function parseVaultCli(argv: string[]): VaultCli | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'vault-password-file': { type: 'string', multiple: true },
        'ask-vault-pass': { type: 'boolean', short: 'J' },
        'ask-vault-password': { type: 'boolean' },
        'vault-id': { type: 'string', multiple: true },
        'encrypt-vault-id': { type: 'string' },
        output: { type: 'string' },
        name: { type: 'string', short: 'n', multiple: true },
        'stdin-name': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new PhxError(
      `${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n(see phx-play vault --help)`,
    );
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const [action, ...files] = parsed.positionals;
  if (!ACTIONS.includes(action as Action))
    throw new PhxError(`phx-play vault: unknown action '${action ?? ''}' (one of ${ACTIONS.join(', ')})`);
  return {
    action: action as Action,
    files,
    passwords: {
      passwordFiles: v['vault-password-file'] ?? [],
      askVaultPass: (v['ask-vault-pass'] ?? false) || (v['ask-vault-password'] ?? false),
      vaultIds: v['vault-id'] ?? [],
    },
    encryptVaultId: v['encrypt-vault-id'],
    output: v.output,
    names: v.name ?? [],
    stdinName: v['stdin-name'],
  };
}

export async function runVaultCommand(argv: string[]): Promise<number> {
  const parsed = parseVaultCli(argv);
  if (parsed === 'help') {
    process.stdout.write(VAULT_HELP + '\n');
    return 0;
  }
  const o: VaultCli & Loaded = parsed;
  switch (o.action) {
    case 'view':
      if (!o.files.length) throw new PhxError('phx-play vault view: no file given');
      for (const f of o.files) process.stdout.write(decryptFile(f, await decryptPasswords(o)).plaintext);
      return 0;
    case 'decrypt':
      return transform(o, (text, file) => {
        if (!isVaultText(text.toString('latin1'))) throw new PhxError(`${file}: input is not vault encrypted data`);
        return decryptBytes(text, file, o.passwordsLoaded!).plaintext;
      });
    case 'encrypt': {
      const p = await encryptPassword(o);
      return transform(o, (text, file) => {
        if (isVaultText(text.toString('latin1'))) throw new PhxError(`${file}: input is already encrypted`);
        return Buffer.from(encrypt(text, p.password, p.label), 'latin1');
      });
    }
    case 'edit':
      return edit(o);
    case 'encrypt_string':
      return encryptString(o);
  }
}

interface Loaded {
  passwordsLoaded?: VaultPassword[];
}

async function decryptPasswords(o: VaultCli & Loaded): Promise<VaultPassword[]> {
  o.passwordsLoaded ??= await loadVaultPasswords(o.passwords, askVaultSecret);
  if (!o.passwordsLoaded.length)
    throw new PhxError('no vault password given (use --vault-password-file, --ask-vault-pass or --vault-id)');
  return o.passwordsLoaded;
}

/** The password that encrypts: --encrypt-vault-id's, the only one given, or a new one asked twice. */
async function encryptPassword(o: VaultCli): Promise<VaultPassword> {
  const specs = vaultIdSpecs(o.passwords);
  if (o.encryptVaultId !== undefined) {
    const spec = specs.find((s) => s.label === o.encryptVaultId);
    if (!spec)
      throw new PhxError(
        `Did not find a match for --encrypt-vault-id=${o.encryptVaultId} in the known vault-ids [${specs.map((s) => s.label).join(', ')}]`,
      );
    return passwordFrom(spec, askVaultSecret);
  }
  if (specs.length > 1)
    throw new PhxError('several vault ids were given: say which one encrypts with --encrypt-vault-id LABEL');
  if (specs.length === 1) return passwordFrom(specs[0], askVaultSecret);
  // without a terminal stdin may be the plaintext itself
  if (!process.stdin.isTTY)
    throw new PhxError('no vault password given and no terminal to ask on: use --vault-password-file or --vault-id');
  const first = (await askVaultSecret('New Vault password: ')).trim();
  const again = (await askVaultSecret('Confirm New Vault password: ')).trim();
  if (first !== again) throw new PhxError('Passwords do not match');
  if (!first) throw new PhxError('Invalid vault password was provided (empty)');
  return { label: 'default', password: Buffer.from(first, 'utf8'), source: 'prompt' };
}

function decryptBytes(bytes: Buffer, file: string, passwords: VaultPassword[]) {
  try {
    return decryptVaultText(bytes.toString('latin1'), passwords);
  } catch (e) {
    if (e instanceof VaultDecryptError) throw new PhxError(`${file}: ${e.message}`);
    throw e;
  }
}

function decryptFile(file: string, passwords: VaultPassword[]) {
  const bytes = readInput(file);
  if (!isVaultText(bytes.toString('latin1'))) throw new PhxError(`${file}: input is not vault encrypted data`);
  return decryptBytes(bytes, file, passwords);
}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    throw new PhxError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** encrypt/decrypt: each file in place (or to --output), or stdin to stdout. */
async function transform(o: VaultCli & Loaded, fn: (input: Buffer, file: string) => Buffer): Promise<number> {
  if (o.action === 'decrypt') await decryptPasswords(o);
  const files = o.files.length ? o.files : ['-'];
  if (o.output !== undefined && files.length > 1) throw new PhxError('--output takes one input file');
  for (const f of files) {
    const out = fn(readInput(f), f === '-' ? 'stdin' : f);
    const dest = o.output ?? f;
    if (dest === '-') process.stdout.write(out);
    else writeAtomically(dest, out);
    if (dest !== '-') process.stderr.write(`${o.action === 'encrypt' ? 'Encryption' : 'Decryption'} successful\n`);
  }
  return 0;
}

/** Replaces `path` through a private file renamed over it: never half written; the file keeps its mode. */
function writeAtomically(path: string, data: Buffer): void {
  let mode = 0o600;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    // a new file: private
  }
  const tmp = join(dirname(path), `.${basename(path)}.phx-${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new PhxError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** ansible-vault edit: a private temporary copy (0600 in a 0700 directory) for $EDITOR, always removed. */
async function edit(o: VaultCli & Loaded): Promise<number> {
  if (o.files.length !== 1) throw new PhxError('phx-play vault edit: give exactly one file');
  const file = o.files[0];
  const passwords = await decryptPasswords(o);
  const { plaintext, label } = decryptFile(file, passwords);
  const password = passwords.find((p) => p.label === label)!;
  const editor = (process.env.EDITOR || 'vi').trim().split(/\s+/);
  const dir = mkdtempSync(join(tmpdir(), 'phx-vault-'));
  const tmp = join(dir, basename(file));
  try {
    writeFileSync(tmp, plaintext, { mode: 0o600, flag: 'wx' });
    const r = whileSignalsWait(() => spawnSync(editor[0], [...editor.slice(1), tmp], { stdio: 'inherit' }));
    if (r.error) throw new PhxError(`cannot run the editor ${editor[0]}: ${(r.error as NodeJS.ErrnoException).code}`);
    if (r.status !== 0)
      throw new PhxError(`the editor ${editor[0]} failed (exit ${r.status ?? r.signal}); ${file} is unchanged`);
    const edited = readFileSync(tmp);
    if (edited.equals(plaintext)) return 0;
    writeAtomically(file, Buffer.from(encrypt(edited, password.password, label), 'latin1'));
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `fn` with Ctrl-C, SIGTERM and SIGHUP caught: the editor (in our process group) gets them and
 * ends, and phx-play lives on to remove the decrypted copy instead of dying with it on disk.
 */
function whileSignalsWait<T>(fn: () => T): T {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const ignore = () => {};
  for (const s of signals) process.on(s, ignore);
  try {
    return fn();
  } finally {
    for (const s of signals) process.off(s, ignore);
  }
}

/** ansible-vault encrypt_string: `name: !vault |` and the vault text indented by 10 spaces. */
async function encryptString(o: VaultCli): Promise<number> {
  const p = await encryptPassword(o);
  const items: { name?: string; text: string }[] = [];
  if (o.stdinName !== undefined || o.files.length === 0) {
    if (o.files.length) throw new PhxError('--stdin-name reads the plaintext from stdin: give no string as well');
    if (process.stdin.isTTY) process.stderr.write('Reading plaintext input from stdin. (ctrl-d to end input)\n');
    const text = readFileSync(0, 'utf8');
    if (text === '') throw new PhxError('stdin was empty, not encrypting');
    items.push({ name: o.stdinName ?? o.names[0], text });
  } else {
    o.files.forEach((text, i) => items.push({ name: o.names[i], text }));
  }
  const out = items.map(({ name, text }) => {
    const body = encrypt(Buffer.from(text, 'utf8'), p.password, p.label)
      .trimEnd()
      .split('\n')
      .map((l) => `          ${l}`)
      .join('\n');
    return `${name !== undefined ? `${name}: ` : ''}!vault |\n${body}`;
  });
  process.stdout.write(out.join('\n') + '\n');
  process.stderr.write('Encryption successful\n');
  return 0;
}
