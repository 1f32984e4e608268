// ansible-playbook's command line, parsed. Usage errors are PhxErrors (exit 1).
import { parseArgs } from 'node:util';
import { PhxError } from '../errors.js';

export interface CliOptions {
  command: 'run' | 'schema' | 'help' | 'version';
  playbooks: string[];
  inventory: string[];
  limit?: string;
  extraVars: string[];
  check: boolean;
  diff: boolean;
  detailedExitcode: boolean;
  tags: string[];
  skipTags: string[];
  forks: number;
  verbosity: number;
  listHosts: boolean;
  listTasks: boolean;
  listTags: boolean;
  syntaxCheck: boolean;
  startAtTask?: string;
  json: boolean;
  user?: string;
  connection?: string;
  privateKey?: string;
  become: boolean;
  becomeUser?: string;
  askBecomePass: boolean;
  askPass: boolean;
  connectTimeoutSeconds: number;
  forceHandlers: boolean;
  sshAcceptNew: boolean;
  vaultPasswordFiles: string[];
  askVaultPass: boolean;
  vaultIds: string[];
}

export const HELP = `Usage: phx-play [options] playbook.yml [playbook2.yml ...]
       phx-play schema            print the JSON Schema of playbooks (for editors)
       phx-play vault ACTION ...  encrypt|decrypt|view|edit|encrypt_string, as ansible-vault

Runs Ansible-style playbooks over SSH against Proxmox VE hypervisors.

Options:
  -i, --inventory PATH        inventory file, directory or 'h1,h2,' list (repeatable)
  -l, --limit PATTERN         further limit the selected hosts to a pattern
  -e, --extra-vars VARS       k=v pairs, JSON, YAML or @file (repeatable; highest precedence)
  -C, --check                 don't change anything; predict what would change
  -D, --diff                  show the differences in files and settings
      --detailed-exitcode     with --check: exit 0 if nothing would change, 3 if changes are pending
  -t, --tags TAGS             only run tasks tagged with these (comma list, repeatable)
      --skip-tags TAGS        skip tasks tagged with these
  -f, --forks N               hosts to run at once (default 20)
  -v, --verbose               -v results, -vv commands sent, -vvv connection detail
      --list-hosts            list the hosts each play would run on
      --list-tasks            list the tasks each play would run
      --list-tags             list the tags of every task
      --syntax-check          validate the playbook and stop (nothing runs)
      --start-at-task NAME    start the playbook at the task with this name
      --json                  JSON lines on stdout (one event each); human output to stderr
  -u, --user USER             connect as this user
  -c, --connection TYPE       ssh, local or pct for hosts that set no ansible_connection
      --private-key FILE      use this key file to authenticate
  -k, --ask-pass              ask for the connection password
  -b, --become                run operations with become (sudo)
      --become-user USER      become this user (default root)
  -K, --ask-become-pass       ask for the become (sudo) password
  -T, --timeout SECONDS       connection timeout (default 10)
      --force-handlers        run handlers even if a task fails
      --ssh-accept-new        add unknown host keys to known_hosts (never changed ones)
      --vault-password-file FILE  vault password: the file's content, or an executable's output
  -J, --ask-vault-pass        ask for the vault password
      --vault-id [LABEL@]SOURCE   a vault password: SOURCE is 'prompt', a file or an executable (repeatable)
      --version               show the version
  -h, --help                  show this help

Exit codes: 0 ok, 1 invalid input (nothing ran), 2 a task failed, 4 a host was unreachable,
            3 changes pending (--check --detailed-exitcode).`;

const splitList = (values: string[] | undefined): string[] =>
  (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new PhxError(`${flag} expects a positive whole number, got '${value}'`);
  return n;
}

export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        inventory: { type: 'string', short: 'i', multiple: true },
        limit: { type: 'string', short: 'l' },
        'extra-vars': { type: 'string', short: 'e', multiple: true },
        check: { type: 'boolean', short: 'C' },
        diff: { type: 'boolean', short: 'D' },
        'detailed-exitcode': { type: 'boolean' },
        tags: { type: 'string', short: 't', multiple: true },
        'skip-tags': { type: 'string', multiple: true },
        forks: { type: 'string', short: 'f' },
        verbose: { type: 'boolean', short: 'v', multiple: true },
        'list-hosts': { type: 'boolean' },
        'list-tasks': { type: 'boolean' },
        'list-tags': { type: 'boolean' },
        'syntax-check': { type: 'boolean' },
        'start-at-task': { type: 'string' },
        json: { type: 'boolean' },
        user: { type: 'string', short: 'u' },
        connection: { type: 'string', short: 'c' },
        'private-key': { type: 'string' },
        'ask-pass': { type: 'boolean', short: 'k' },
        become: { type: 'boolean', short: 'b' },
        'become-user': { type: 'string' },
        'ask-become-pass': { type: 'boolean', short: 'K' },
        timeout: { type: 'string', short: 'T' },
        'force-handlers': { type: 'boolean' },
        'ssh-accept-new': { type: 'boolean' },
        'vault-password-file': { type: 'string', multiple: true },
        'ask-vault-pass': { type: 'boolean', short: 'J' },
        'ask-vault-password': { type: 'boolean' },
        'vault-id': { type: 'string', multiple: true },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new PhxError(
      `${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n(see phx-play --help)`,
    );
  }
  const v = parsed.values;
  const positionals = parsed.positionals;
  let command: CliOptions['command'] = 'run';
  if (v.help) command = 'help';
  else if (v.version) command = 'version';
  else if (positionals[0] === 'schema') command = 'schema';
  const playbooks = command === 'run' ? positionals : [];
  if (command === 'run' && playbooks.length === 0)
    throw new PhxError('no playbook given\n(usage: phx-play [options] playbook.yml; see phx-play --help)');
  if (v['detailed-exitcode'] && !v.check) throw new PhxError('--detailed-exitcode needs --check');
  return {
    command,
    playbooks,
    inventory: v.inventory ?? [],
    limit: v.limit,
    extraVars: v['extra-vars'] ?? [],
    check: v.check ?? false,
    diff: v.diff ?? false,
    detailedExitcode: v['detailed-exitcode'] ?? false,
    tags: splitList(v.tags),
    skipTags: splitList(v['skip-tags']),
    forks: positiveInt('--forks', v.forks, 20),
    verbosity: v.verbose?.length ?? 0,
    listHosts: v['list-hosts'] ?? false,
    listTasks: v['list-tasks'] ?? false,
    listTags: v['list-tags'] ?? false,
    syntaxCheck: v['syntax-check'] ?? false,
    startAtTask: v['start-at-task'],
    json: v.json ?? false,
    user: v.user,
    connection: v.connection,
    privateKey: v['private-key'],
    become: v.become ?? false,
    becomeUser: v['become-user'],
    askBecomePass: v['ask-become-pass'] ?? false,
    askPass: v['ask-pass'] ?? false,
    connectTimeoutSeconds: positiveInt('--timeout', v.timeout, 10),
    forceHandlers: v['force-handlers'] ?? false,
    sshAcceptNew: v['ssh-accept-new'] ?? false,
    vaultPasswordFiles: v['vault-password-file'] ?? [],
    askVaultPass: (v['ask-vault-pass'] ?? false) || (v['ask-vault-password'] ?? false),
    vaultIds: v['vault-id'] ?? [],
  };
}
